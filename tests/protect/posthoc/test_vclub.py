"""The O(B) vCLUB estimates equal the literal O(B^2) definition."""

from __future__ import annotations

import math

import pytest
import torch

from recunlearn.protect.posthoc.vclub import JointVariationalNets, VariationalNet


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


CLASSES = [2, 3, 21, 0, 0]  # categorical heads first, then Gaussian ones


def _joint_copy_of(nets: list[VariationalNet], hidden: int) -> JointVariationalNets:
    """A joint stack holding each single net's weights in its blocks."""
    joint = JointVariationalNets(nets[0].net[0].in_features, [n for n in CLASSES], hidden)
    w1, b1, w2, b2 = joint.views(joint.params)
    w2.zero_()
    for t, (net, columns) in enumerate(zip(nets, joint.segments, strict=True)):
        first, second = net.net[0], net.net[2]
        block = slice(t * hidden, (t + 1) * hidden)
        w1[:, block] = first.weight.detach().T
        b1[block] = first.bias.detach()
        w2[block, columns] = second.weight.detach().T
        b2[columns] = second.bias.detach()
    return joint


def _targets(batch: int, drop_every: int | None = None):
    """Codes, values and per-row weights (rows with weight 0 play unlabelled users)."""
    codes = torch.stack([torch.randint(0, c, (batch,)) for c in CLASSES if c])
    values = torch.randn(CLASSES.count(0), batch)
    known = torch.ones(len(CLASSES), batch)
    if drop_every:
        for t in range(len(CLASSES)):
            known[t, t::drop_every] = 0.0
    return codes, values, known / known.sum(dim=1, keepdim=True)


def test_joint_nets_equal_the_sum_of_single_nets():
    torch.manual_seed(0)
    nets = [VariationalNet(8, c, hidden=16) for c in CLASSES]
    joint = _joint_copy_of(nets, hidden=16)
    u = torch.randn(50, 8)
    codes, values, weights = _targets(50)
    targets = [*codes, *values]
    for method in ("vclub", "log_likelihood"):
        expected = sum(getattr(n, method)(u, a) for n, a in zip(nets, targets, strict=True))
        torch.testing.assert_close(getattr(joint, method)(u, codes, values, weights), expected)


def test_joint_nets_want_categorical_heads_first():
    with pytest.raises(ValueError, match="before the continuous"):
        JointVariationalNets(4, [0, 2])


def test_joint_nets_start_block_diagonal():
    w2 = JointVariationalNets(4, CLASSES, hidden=3).views(
        JointVariationalNets(4, CLASSES, 3).params
    )[2]
    assert w2[:3, 2:].abs().sum() == 0 and w2[3:6, :2].abs().sum() == 0
    assert w2[:3, :2].abs().sum() > 0


def test_hand_written_gradients_match_autograd():
    torch.manual_seed(0)
    joint = JointVariationalNets(8, CLASSES, hidden=16, dtype=torch.double)
    b2 = joint.views(joint.params)[3]
    b2.add_(torch.randn_like(b2) * 12)  # push some log-variances past the clamp (its mask)
    u = torch.randn(50, 8, dtype=torch.double, requires_grad=True)
    codes, values, weights = _targets(50, drop_every=4)  # some labels missing
    values, weights = values.double(), weights.double()
    params = joint.params.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(
        -joint.log_likelihood(u, codes, values, weights, params=params), [params]
    )
    (expected_u,) = torch.autograd.grad(joint.vclub(u, codes, values, weights), [u])
    with torch.no_grad():
        joint.likelihood_gradients(u.detach(), codes, values, weights)
        got_u = joint.vclub_input_gradient(u.detach(), codes, values, weights)
    block = joint.views(torch.ones_like(joint.params))
    block[2].copy_(joint.block)  # the gradient is masked to the diagonal blocks
    torch.testing.assert_close(joint.grad, expected * torch.cat([b.flatten() for b in block]))
    torch.testing.assert_close(got_u, expected_u)


def test_unlabelled_rows_do_not_count():
    torch.manual_seed(0)
    joint = JointVariationalNets(8, CLASSES, hidden=16)
    u = torch.randn(40, 8)
    codes, values, weights = _targets(40)
    weights[:, 30:] = 0.0  # rows 30+ unlabelled: their inputs and targets must not matter
    weights /= weights.sum(dim=1, keepdim=True)
    before = joint.vclub(u, codes, values, weights)
    with torch.no_grad():
        joint.likelihood_gradients(u, codes, values, weights)
        grad = joint.grad.clone()
        d_u = joint.vclub_input_gradient(u, codes, values, weights)
    u[30:] = torch.randn(10, 8) * 5
    codes[:, 30:] = 0
    values[:, 30:] = 100.0
    torch.testing.assert_close(joint.vclub(u, codes, values, weights), before)
    with torch.no_grad():
        joint.likelihood_gradients(u, codes, values, weights)
        torch.testing.assert_close(joint.grad, grad)
        assert joint.vclub_input_gradient(u, codes, values, weights)[30:].abs().max() == 0
        torch.testing.assert_close(
            joint.vclub_input_gradient(u, codes, values, weights)[:30], d_u[:30]
        )
