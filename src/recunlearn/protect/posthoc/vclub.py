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

import numpy as np
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


class JointVariationalNets:
    """k independent q(a_t | u) networks that read one shared batch of rows.

    Flexible Combination (Algorithm 1, line 14) samples one batch of users with all k of their
    attributes and fits one variational network per attribute on it at every step. Because the
    rows are shared, the k first layers are one ``d x (k * hidden)`` matrix and the k second
    layers one block-diagonal ``(k * hidden) x C`` matrix, ``C`` the total output width (each
    categorical head's class count, 2 for a Gaussian head's mean and log-variance), whose
    off-diagonal blocks stay zero (their gradient is masked). A step is then a few matrix
    products whatever k is. All parameters live in one flat tensor ``params`` (gradients in
    ``grad``), so an optimiser step is a few in-place operations
    (:class:`~recunlearn.protect.posthoc.flat_adam.FlatAdam`); they are initialised like
    ``torch.nn.Linear``.

    Per-row weights replace labels that are missing: ``weights[t, i]`` is row ``i``'s weight
    in attribute ``t``'s batch means (``1 / n_t`` for the ``n_t`` labelled rows, 0 otherwise).
    ``codes`` (categorical count, B) and ``values`` (continuous count, B) hold the targets.

    Args:
        in_dim: embedding size.
        n_classes: one entry per attribute, categorical ones (class count > 0) first, then
            continuous ones (0).
        hidden: hidden width of each network (LEGO: 100).
    """

    def __init__(
        self,
        in_dim: int,
        n_classes: list[int],
        hidden: int = 100,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if not n_classes:
            raise ValueError("JointVariationalNets needs at least one attribute")
        self.n_categorical = c = sum(n > 0 for n in n_classes)
        if any(n == 0 for n in n_classes[:c]):
            raise ValueError("list the categorical attributes before the continuous ones")
        self.k = k = len(n_classes)
        widths = [n if n > 0 else 2 for n in n_classes]
        bounds = np.cumsum([0, *widths])
        self.segments = [
            slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        width = int(bounds[-1])
        self._shapes = [(in_dim, k * hidden), (k * hidden,), (k * hidden, width), (width,)]
        self._sizes = [math.prod(s) for s in self._shapes]
        self.params = torch.zeros(sum(self._sizes), dtype=dtype)
        self.grad = torch.zeros(sum(self._sizes), dtype=dtype)
        # ``params`` and ``grad`` are only ever updated in place: their views are made once
        self._p, self._g = self.views(self.params), self.views(self.grad)
        w1, b1, w2, b2 = self._p
        self.block = torch.zeros(k * hidden, width, dtype=torch.bool)
        for t, columns in enumerate(self.segments):
            self.block[t * hidden : (t + 1) * hidden, columns] = True
        inner, outer = 1.0 / math.sqrt(in_dim), 1.0 / math.sqrt(hidden)
        w1.uniform_(-inner, inner)
        b1.uniform_(-inner, inner)
        w2.uniform_(-outer, outer).mul_(self.block)
        b2.uniform_(-outer, outer)
        # the network that owns each output column, and the categorical columns' offsets
        self._column_net = torch.repeat_interleave(torch.arange(k), torch.as_tensor(widths))
        self._offsets = torch.as_tensor(bounds[:c], dtype=torch.long)[:, None]
        self._categorical = slice(0, int(bounds[c]))

    def views(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """``flat`` (``params``, ``grad`` or a copy) as w1 (d, kh), b1 (kh), w2 (kh, C), b2 (C)."""
        return [c.view(s) for c, s in zip(flat.split(self._sizes), self._shapes, strict=True)]

    def _forward(
        self, u: torch.Tensor, params: list[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, d) rows -> pre-activations (B, kh), hidden activations (B, kh), outputs (B, C)."""
        w1, b1, w2, b2 = params or self._p
        pre = torch.addmm(b1, u, w1)
        hidden = torch.relu(pre)
        return pre, hidden, torch.addmm(b2, hidden, w2)

    def _gaussian(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gaussian heads (continuous count, B): mean, clamped log-variance, the clamp's mask."""
        heads = out[:, self._categorical.stop :].T.reshape(self.k - self.n_categorical, 2, -1)
        raw = heads[:, 1]
        return heads[:, 0], raw.clamp(-10.0, 10.0), ((raw > -10.0) & (raw < 10.0)).to(raw.dtype)

    def _set_gaussian(self, d_out: torch.Tensor, d_mu: torch.Tensor, d_logvar: torch.Tensor):
        """Write the Gaussian heads' gradients (continuous count, B) into ``d_out`` (B, C)."""
        columns = d_out[:, self._categorical.stop :]
        columns[:, 0::2] = d_mu.T
        columns[:, 1::2] = d_logvar.T

    def _spread(
        self, values: torch.Tensor, weights: torch.Tensor, mu: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gaussian heads: the labelled rows' weighted mean target and, per row i, the mean
        of (a_j - mu_i)^2 over labelled rows j, as (mean_B(a) - mu_i)^2 + var_B(a)."""
        w = weights[self.n_categorical :]
        mean = (w * values).sum(dim=1, keepdim=True)
        variance = (w * (values - mean) ** 2).sum(dim=1, keepdim=True)
        return mean, (mean - mu) ** 2 + variance

    def _one_hot(self, codes: torch.Tensor, rows: int) -> torch.Tensor:
        """(B, C) one-hot of every categorical target in its network's columns."""
        hot = torch.zeros(rows, self._column_net.numel(), dtype=self.params.dtype)
        if self.n_categorical:
            hot.scatter_(1, (codes + self._offsets).T, 1.0)
        return hot

    def _backward(self, pre: torch.Tensor, d_out: torch.Tensor) -> torch.Tensor:
        """Gradient with respect to the pre-activations, from the outputs' gradient."""
        d_hidden = d_out @ self._p[2].T
        # the ReLU's backward; ~10x faster here than multiplying by the mask (pre > 0)
        return torch.ops.aten.threshold_backward(d_hidden, pre, 0.0)

    def likelihood_gradients(
        self, u: torch.Tensor, codes: torch.Tensor, values: torch.Tensor, weights: torch.Tensor
    ) -> None:
        """Fill ``grad`` with the gradient of ``-log_likelihood(u, codes, values, weights)``.

        Written out by hand (softmax / Gaussian heads, ReLU, two affine maps): the combination
        takes hundreds of tiny steps, and autograd's per-call overhead was most of their cost.
        ``tests/unlearning/test_vclub.py`` checks it against autograd.
        """
        pre, hidden, out = self._forward(u)
        d_out = torch.empty_like(out)
        for columns in self.segments[: self.n_categorical]:
            d_out[:, columns] = torch.softmax(out[:, columns], dim=1)
        d_out[:, self._categorical] -= self._one_hot(codes, len(u))[:, self._categorical]
        if self.n_categorical < self.k:
            mu, logvar, passes = self._gaussian(out)
            inv = (-logvar).exp()
            residual = values - mu
            self._set_gaussian(d_out, -residual * inv, 0.5 * (1.0 - residual**2 * inv) * passes)
        d_out.mul_(weights.T[:, self._column_net])
        d_pre = self._backward(pre, d_out)
        g_w1, g_b1, g_w2, g_b2 = self._g
        torch.mm(u.T, d_pre, out=g_w1)
        torch.sum(d_pre, dim=0, out=g_b1)
        torch.mm(hidden.T, d_out, out=g_w2)
        g_w2.mul_(self.block)
        torch.sum(d_out, dim=0, out=g_b2)

    def vclub_input_gradient(
        self, u: torch.Tensor, codes: torch.Tensor, values: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """The gradient of ``vclub(u, codes, values, weights)`` with respect to ``u`` (B, d).

        For a categorical head the gradient of the per-row vCLUB term with respect to the
        logits is ``onehot(a_i) - p_B`` whatever q predicts, so a purely categorical
        requirement needs no second-layer forward pass.
        """
        w1, b1 = self._p[:2]
        column_weights = weights.T[:, self._column_net]  # (B, C)
        d_out = self._one_hot(codes, len(u))
        d_out -= (d_out * column_weights).sum(dim=0)  # minus each batch's label histogram
        if self.n_categorical < self.k:
            pre, _, out = self._forward(u)
            mu, logvar, passes = self._gaussian(out)
            inv = (-logvar).exp()
            mean, spread = self._spread(values, weights, mu)
            d_mu = (values - mean) * inv
            self._set_gaussian(d_out, d_mu, 0.5 * ((values - mu) ** 2 - spread) * inv * passes)
        else:
            pre = torch.addmm(b1, u, w1)
        d_out.mul_(column_weights)
        return self._backward(pre, d_out) @ w1.T

    def _log_q(
        self,
        u: torch.Tensor,
        codes: torch.Tensor,
        values: torch.Tensor,
        params: torch.Tensor | None,
    ):
        """Per-row log q(a | u) (k, B), each categorical head's log q of every class, and the
        Gaussian heads (mean, log-variance), under ``params`` (default ``self.params``)."""
        _, _, out = self._forward(u, None if params is None else self.views(params))
        c = self.n_categorical
        parts, log_all, gauss = [], [], None
        for t, columns in enumerate(self.segments[:c]):
            log_all.append(F.log_softmax(out[:, columns], dim=1))
            parts.append(log_all[-1].gather(1, codes[t][:, None]).squeeze(1))
        if c < self.k:
            mu, logvar, _ = self._gaussian(out)
            gauss = (mu, logvar)
            log_2pi = math.log(2 * math.pi)
            parts.extend(-0.5 * ((values - mu) ** 2 / logvar.exp() + logvar + log_2pi))
        return torch.stack(parts), log_all, gauss

    def log_likelihood(
        self,
        u: torch.Tensor,
        codes: torch.Tensor,
        values: torch.Tensor,
        weights: torch.Tensor,
        params: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Sum over the k networks of the weighted batch mean of log q(a_i | u_i).

        Differentiable (autograd) in ``u`` and in ``params`` (a flat parameter tensor; default
        ``self.params``), for checks and reporting; the combination uses the hand-written
        gradients.
        """
        return (self._log_q(u, codes, values, params)[0] * weights).sum()

    def vclub(
        self,
        u: torch.Tensor,
        codes: torch.Tensor,
        values: torch.Tensor,
        weights: torch.Tensor,
        params: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Sum over the k networks of the weighted batch vCLUB estimate (autograd, as above)."""
        positive, log_all, gauss = self._log_q(u, codes, values, params)
        negative = []
        for t, log_q in enumerate(log_all):  # sum_c p_B(c) log q(c | u_i)
            one_hot = F.one_hot(codes[t], num_classes=log_q.shape[1]).to(u.dtype)
            negative.append(log_q @ (weights[t] @ one_hot))
        if gauss is not None:  # mean_j log q(a_j | u_i) in closed form
            mu, logvar = gauss
            spread = self._spread(values, weights, mu)[1]
            negative.extend(-0.5 * (spread / logvar.exp() + logvar + math.log(2 * math.pi)))
        return ((positive - torch.stack(negative)) * weights).sum()
