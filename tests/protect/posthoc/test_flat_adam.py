"""FlatAdam takes torch's Adam steps."""

from __future__ import annotations

import pytest
import torch

from recunlearn.protect.posthoc.flat_adam import FlatAdam


def test_flat_adam_matches_torch_adam():
    torch.manual_seed(0)
    target = torch.randn(30)
    reference = torch.nn.Parameter(torch.zeros(30))
    torch_adam = torch.optim.Adam([reference], lr=0.05)
    params, grad = torch.zeros(30), torch.zeros(30)
    flat = FlatAdam(params, grad, lr=0.05)
    for _ in range(25):
        torch_adam.zero_grad()
        ((reference - target) ** 2).sum().backward()
        torch_adam.step()
        grad.copy_(2 * (params - target))
        flat.step()
    torch.testing.assert_close(params, reference.detach())


def test_flat_adam_needs_matching_shapes():
    with pytest.raises(ValueError, match="differ"):
        FlatAdam(torch.zeros(3), torch.zeros(4), lr=0.1)
