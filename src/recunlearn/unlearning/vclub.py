"""Variational networks q(a | u) and the vCLUB mutual-information upper bound (Cheng et al. 2020).

For a batch of rows ``u_i`` with labels ``a_i``:

    I_vCLUB = mean_i [ log q(a_i | u_i) - mean_j log q(a_j | u_i) ].

The inner mean over j costs O(B^2) written literally; it is computed in O(B) here:

* categorical: ``mean_j log q(a_j | u_i) = sum_c p_B(c) log q(c | u_i)`` with ``p_B`` the batch's
  label histogram;
* continuous (Gaussian ``q(a | u) = N(mu(u), sigma(u)^2)``): ``mean_j (a_j - mu_i)^2 =
  (mean_B(a) - mu_i)^2 + var_B(a)``, so the mean log-density has a closed form.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


class VariationalNet(torch.nn.Module):
    """q(a | u): a two-layer MLP (d -> hidden -> out) with a softmax or Gaussian head.

    Args:
        in_dim: embedding size.
        n_classes: number of classes; 0 for a continuous attribute (Gaussian head with a mean
            and a log-variance output).
        hidden: hidden width (LEGO: 100).
    """

    def __init__(self, in_dim: int, n_classes: int, hidden: int = 100) -> None:
        super().__init__()
        self.continuous = n_classes == 0
        out = 2 if self.continuous else n_classes
        self.net = torch.nn.Sequential(
            torch.nn.Linear(in_dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, out)
        )

    def log_likelihood(self, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Mean of log q(a_i | u_i) over the batch."""
        out = self.net(u)
        if self.continuous:
            mu, logvar = out[:, 0], out[:, 1].clamp(-10.0, 10.0)
            return (-0.5 * ((a - mu) ** 2 / logvar.exp() + logvar + math.log(2 * math.pi))).mean()
        return -F.cross_entropy(out, a)

    def vclub(self, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """The batch vCLUB estimate (differentiable in ``u``)."""
        out = self.net(u)
        if self.continuous:
            mu, logvar = out[:, 0], out[:, 1].clamp(-10.0, 10.0)
            inv = (-logvar).exp()
            positive = -0.5 * (a - mu) ** 2 * inv
            spread = (a.mean() - mu) ** 2 + a.var(unbiased=False)
            negative = -0.5 * spread * inv
            return (positive - negative).mean()
        log_q = F.log_softmax(out, dim=1)
        positive = log_q.gather(1, a[:, None]).squeeze(1)
        histogram = torch.bincount(a, minlength=log_q.shape[1]).to(log_q.dtype) / len(a)
        negative = log_q @ histogram
        return (positive - negative).mean()


class StackedVariationalNets(torch.nn.Module):
    """k independent q(a_t | u) networks of one kind, evaluated as one batched MLP.

    Flexible Combination fits one variational network per attribute at every step; run one by
    one, the small matmuls are dominated by per-call overhead. Here the k networks' weights are
    stacked, so a step is two batched matmuls whatever k is. Categorical attributes with fewer
    classes than the widest are padded with logits fixed at a large negative value (probability
    zero, no gradient). Each network is initialised like ``torch.nn.Linear``.

    Args:
        in_dim: embedding size.
        n_classes: one entry per attribute; all > 0 (categorical) or all 0 (continuous).
        hidden: hidden width (LEGO: 100).
    """

    def __init__(self, in_dim: int, n_classes: list[int], hidden: int = 100) -> None:
        super().__init__()
        if not n_classes:
            raise ValueError("StackedVariationalNets needs at least one attribute")
        kinds = {c == 0 for c in n_classes}
        if len(kinds) != 1:
            raise ValueError("stack categorical and continuous attributes separately")
        self.continuous = kinds.pop()
        k = len(n_classes)
        out = 2 if self.continuous else max(n_classes)

        def uniform(shape: tuple[int, ...], fan_in: int) -> torch.nn.Parameter:
            bound = 1.0 / math.sqrt(fan_in)
            return torch.nn.Parameter(torch.empty(shape).uniform_(-bound, bound))

        self.w1 = uniform((k, in_dim, hidden), in_dim)
        self.b1 = uniform((k, 1, hidden), in_dim)
        self.w2 = uniform((k, hidden, out), hidden)
        self.b2 = uniform((k, 1, out), hidden)
        padding = torch.zeros(k, 1, out)
        if not self.continuous:
            for t, c in enumerate(n_classes):
                padding[t, 0, c:] = -1e9
        self.register_buffer("padding", padding)

    def _forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(k, B, d) rows -> hidden pre-activations, hidden activations, (k, B, out) outputs."""
        pre = torch.baddbmm(self.b1, u, self.w1)
        hidden = torch.relu(pre)
        return pre, hidden, torch.baddbmm(self.b2, hidden, self.w2) + self.padding

    def _out(self, u: torch.Tensor) -> torch.Tensor:
        """(k, B, d) rows -> (k, B, out) outputs."""
        return self._forward(u)[2]

    def _heads(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gaussian head: mean, clamped log-variance and the clamp's pass-through mask."""
        raw = out[..., 1]
        return out[..., 0], raw.clamp(-10.0, 10.0), ((raw > -10.0) & (raw < 10.0)).to(raw.dtype)

    def likelihood_gradients(self, u: torch.Tensor, a: torch.Tensor) -> None:
        """Set every parameter's ``.grad`` to the gradient of ``-log_likelihood(u, a)``.

        Written out by hand (softmax / Gaussian head, ReLU, two affine maps): the combination
        takes hundreds of tiny steps, and autograd's per-call overhead was most of their cost.
        ``tests/unlearning/test_vclub.py`` checks it against autograd.
        """
        pre, hidden, out = self._forward(u)
        batch = u.shape[1]
        if self.continuous:
            mu, logvar, passes = self._heads(out)
            inv = (-logvar).exp()
            residual = a - mu
            d_out = torch.stack([-residual * inv, 0.5 * (1.0 - residual**2 * inv) * passes], dim=-1)
        else:
            d_out = torch.softmax(out, dim=2)
            d_out.scatter_add_(2, a[..., None], torch.full_like(a[..., None], -1.0, dtype=u.dtype))
        d_out /= batch
        d_hidden = torch.bmm(d_out, self.w2.transpose(1, 2)) * (pre > 0)
        self.w2.grad = torch.bmm(hidden.transpose(1, 2), d_out)
        self.b2.grad = d_out.sum(dim=1, keepdim=True)
        self.w1.grad = torch.bmm(u.transpose(1, 2), d_hidden)
        self.b1.grad = d_hidden.sum(dim=1, keepdim=True)

    def vclub_input_gradient(self, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """The gradient of ``vclub(u, a)`` with respect to ``u`` (k, B, d), written out by hand.

        For a categorical head the gradient of the per-row vCLUB term with respect to the
        logits is ``onehot(a_i) - p_B`` whatever q predicts, so only the hidden layer's ReLU
        pattern is needed from the forward pass.
        """
        batch = u.shape[1]
        if self.continuous:
            pre, _, out = self._forward(u)
            mu, logvar, passes = self._heads(out)
            inv = (-logvar).exp()
            mean = a.mean(dim=1, keepdim=True)
            spread = (mean - mu) ** 2 + a.var(dim=1, unbiased=False)[:, None]
            d_out = torch.stack(
                [(a - mean) * inv, 0.5 * ((a - mu) ** 2 - spread) * inv * passes], dim=-1
            )
        else:  # the logits' gradient does not depend on q: skip the second layer
            pre = torch.baddbmm(self.b1, u, self.w1)
            d_out = F.one_hot(a, num_classes=self.w2.shape[2]).to(u.dtype)
            d_out -= d_out.mean(dim=1, keepdim=True)
        d_out /= batch
        d_hidden = torch.bmm(d_out, self.w2.transpose(1, 2)) * (pre > 0)
        return torch.bmm(d_hidden, self.w1.transpose(1, 2))

    def log_likelihood(self, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Sum over the k networks of the batch mean of log q(a_i | u_i); u (k, B, d), a (k, B)."""
        out = self._out(u)
        if self.continuous:
            mu, logvar, _ = self._heads(out)
            density = -0.5 * ((a - mu) ** 2 / logvar.exp() + logvar + math.log(2 * math.pi))
            return density.mean(dim=1).sum()
        log_q = F.log_softmax(out, dim=2)
        return log_q.gather(2, a[..., None]).squeeze(2).mean(dim=1).sum()

    def vclub(self, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Sum over the k networks of the batch vCLUB estimate (differentiable in ``u``)."""
        out = self._out(u)
        if self.continuous:
            mu, logvar, _ = self._heads(out)
            inv = (-logvar).exp()
            spread = (a.mean(dim=1, keepdim=True) - mu) ** 2 + a.var(dim=1, unbiased=False)[:, None]
            return (-0.5 * ((a - mu) ** 2 - spread) * inv).mean(dim=1).sum()
        log_q = F.log_softmax(out, dim=2)
        positive = log_q.gather(2, a[..., None]).squeeze(2)
        one_hot = F.one_hot(a, num_classes=log_q.shape[2]).to(log_q.dtype)
        histogram = one_hot.mean(dim=1)  # (k, C): each batch's label distribution
        negative = torch.einsum("kbc,kc->kb", log_q, histogram)
        return (positive - negative).mean(dim=1).sum()
