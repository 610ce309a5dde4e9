"""Gradient reversal: identity forward, -lambda x gradient backward."""

from __future__ import annotations

import pytest
import torch

from recunlearn.protect.adversarial.grl import GradientReversal, grad_reverse


def test_forward_is_identity():
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    y = grad_reverse(x, 7.0)
    assert torch.equal(y, x)


@pytest.mark.parametrize("lam", [0.0, 1.0, 400.0])
def test_backward_is_reversed_and_scaled(lam):
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(1), requires_grad=True)
    weights = torch.arange(10.0).reshape(5, 2)
    (grad_reverse(x, lam) * weights).sum().backward()
    assert torch.allclose(x.grad, -lam * weights)


def test_only_the_path_through_the_layer_is_reversed():
    x = torch.tensor([2.0], requires_grad=True)
    loss = 3.0 * x + 5.0 * grad_reverse(x, 2.0)
    loss.backward()
    assert x.grad.item() == pytest.approx(3.0 - 2.0 * 5.0)


def test_module_form_and_invalid_scale():
    layer = GradientReversal(0.5)
    x = torch.ones(3, requires_grad=True)
    layer(x).sum().backward()
    assert torch.allclose(x.grad, torch.full((3,), -0.5))
    assert "lam=0.5" in repr(layer)
    with pytest.raises(ValueError, match=">= 0"):
        grad_reverse(x, -1.0)
    with pytest.raises(ValueError):
        GradientReversal(-0.1)
