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
