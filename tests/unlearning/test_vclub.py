"""The O(B) vCLUB estimates equal the literal O(B^2) definition."""

from __future__ import annotations

import math

import pytest
import torch

from recunlearn.unlearning.vclub import StackedVariationalNets, VariationalNet


def literal_vclub(net: VariationalNet, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    out = net.net(u)
    if net.continuous:
        mu, logvar = out[:, 0], out[:, 1].clamp(-10, 10)
        # log q(a_j | u_i) for all i, j
        log_q = -0.5 * ((a[None, :] - mu[:, None]) ** 2 / logvar.exp()[:, None] + logvar[:, None])
        log_q = log_q - 0.5 * math.log(2 * math.pi)
    else:
        log_q = torch.log_softmax(out, 1)[:, a]  # (i, j) = log q(a_j | u_i)
    return (log_q.diagonal() - log_q.mean(1)).mean()


def test_categorical_matches_definition():
    torch.manual_seed(0)
    net = VariationalNet(8, 3)
    u, a = torch.randn(50, 8), torch.randint(0, 3, (50,))
    torch.testing.assert_close(net.vclub(u, a), literal_vclub(net, u, a))


def test_gaussian_matches_definition():
    torch.manual_seed(0)
    net = VariationalNet(8, 0)
    u, a = torch.randn(50, 8), torch.randn(50)
    torch.testing.assert_close(net.vclub(u, a), literal_vclub(net, u, a), rtol=1e-5, atol=1e-5)


def test_log_likelihood_rises_when_fitted():
    torch.manual_seed(0)
    u = torch.randn(200, 4)
    a = (u[:, 0] > 0).long()
    net = VariationalNet(4, 2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    before = float(net.log_likelihood(u, a).detach())
    for _ in range(200):
        opt.zero_grad()
        (-net.log_likelihood(u, a)).backward()
        opt.step()
    assert float(net.log_likelihood(u, a).detach()) > before + 0.3


def _copy_into_stack(stacked: StackedVariationalNets, nets: list[VariationalNet]) -> None:
    """Load each single net's weights into its slot of the stack (padding columns stay)."""
    with torch.no_grad():
        for t, net in enumerate(nets):
            first, second = net.net[0], net.net[2]
            stacked.w1[t] = first.weight.T
            stacked.b1[t, 0] = first.bias
            out = second.weight.shape[0]
            stacked.w2[t, :, :out] = second.weight.T
            stacked.b2[t, 0, :out] = second.bias


@pytest.mark.parametrize("classes", [[2, 3, 21], [0, 0]])
def test_stacked_nets_equal_the_sum_of_single_nets(classes):
    torch.manual_seed(0)
    nets = [VariationalNet(8, c, hidden=16) for c in classes]
    stacked = StackedVariationalNets(8, classes, hidden=16)
    _copy_into_stack(stacked, nets)
    u = torch.randn(len(classes), 50, 8)
    if classes[0]:
        a = torch.stack([torch.randint(0, c, (50,)) for c in classes])
    else:
        a = torch.randn(len(classes), 50)
    for method in ("vclub", "log_likelihood"):
        expected = sum(getattr(n, method)(u[t], a[t]) for t, n in enumerate(nets))
        torch.testing.assert_close(getattr(stacked, method)(u, a), expected)


def test_stacked_nets_refuse_mixed_kinds():
    with pytest.raises(ValueError, match="separately"):
        StackedVariationalNets(4, [2, 0])


@pytest.mark.parametrize("classes", [[2, 3, 21], [0, 0]])
def test_hand_written_gradients_match_autograd(classes):
    torch.manual_seed(0)
    nets = StackedVariationalNets(8, classes, hidden=16).double()
    with torch.no_grad():  # push some log-variances past the clamp, so its mask is exercised
        nets.b2.add_(torch.randn_like(nets.b2) * 12)
    u = torch.randn(len(classes), 50, 8, dtype=torch.double, requires_grad=True)
    if classes[0]:
        a = torch.stack([torch.randint(0, c, (50,)) for c in classes])
    else:
        a = torch.randn(len(classes), 50, dtype=torch.double)
    expected = torch.autograd.grad(-nets.log_likelihood(u, a), list(nets.parameters()))
    nets.likelihood_gradients(u.detach(), a)
    for reference, parameter in zip(expected, nets.parameters(), strict=True):
        torch.testing.assert_close(parameter.grad, reference)
    (expected_u,) = torch.autograd.grad(nets.vclub(u, a), [u])
    torch.testing.assert_close(nets.vclub_input_gradient(u.detach(), a), expected_u)
