"""Bounded objectives the representation descends against a protected attribute.

Each is >= 0 and smallest when the representation "knows nothing": unlike the reversed
cross-entropy of gradient reversal, none can be lowered by making an adversary confidently
*wrong* (a flip, which leaves the attribute readable by any new attacker).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def fisher_spread(
    live: torch.Tensor,
    rows: torch.Tensor,
    bank: torch.Tensor,
    seen: torch.Tensor,
    codes: torch.Tensor,
    n_classes: int,
    shrinkage: float,
) -> torch.Tensor:
    """Between-class Mahalanobis spread of the labelled users, differentiable in ``live``.

    ``sum_c pi_c (m_c - m)^T S^-1 (m_c - m)``: class means ``m_c`` over every labelled user in
    the bank with the batch's rows replaced by their live (differentiable) values, class shares
    ``pi_c``, overall mean ``m``, and ``S`` the bank's within-class covariance (a constant),
    its correlation shrunk toward the identity. It is what a linear (LDA / logistic) attacker
    reads; moving a class across the boundary (a flip) raises it.

    Args:
        live: the batch's labelled users' representation (with gradient), ``(b, d)``; a user
            repeated in ``rows`` counts once (the mean of its rows).
        rows: their user indices ``(b,)``.
        bank: detached representation of every user ``(n_users, d)``, already holding the
            batch's detached rows.
        seen: which bank rows hold a labelled user's representation.
        codes: class code per user (-1 = unlabelled).
        n_classes: number of classes.
        shrinkage: ``(1 - shrinkage) R + shrinkage I`` for the within-class correlation ``R``.

    Returns:
        A scalar >= 0.
    """
    users = torch.nonzero(seen, as_tuple=False).squeeze(1)
    x = bank[users]
    d = x.shape[1]
    onehot = F.one_hot(codes[users], n_classes).to(x.dtype)
    counts = onehot.sum(0)
    present = counts > 0
    sums = onehot.T @ x
    distinct, inverse = torch.unique(rows, return_inverse=True)
    live_sum = torch.zeros(len(distinct), d, dtype=live.dtype).index_add(0, inverse, live)
    repeats = torch.zeros(len(distinct), dtype=live.dtype).index_add(
        0, inverse, torch.ones(len(rows), dtype=live.dtype)
    )
    batch_onehot = F.one_hot(codes[distinct], n_classes).to(x.dtype)
    sums = sums - batch_onehot.T @ bank[distinct] + batch_onehot.T @ (live_sum / repeats[:, None])
    means = sums[present] / counts[present].unsqueeze(1)
    prior = counts[present] / counts.sum()
    overall = (prior.unsqueeze(1) * means).sum(0)
    centred = x - onehot @ (onehot.T @ x / counts.clamp(min=1).unsqueeze(1))
    cov = centred.T @ centred / max(1, len(users) - int(present.sum()))
    scale = torch.diagonal(cov).clamp(min=1e-8).rsqrt()
    corr = cov * scale.unsqueeze(0) * scale.unsqueeze(1)
    shrunk = (1.0 - shrinkage) * corr + shrinkage * torch.eye(d, dtype=x.dtype)
    precision = torch.linalg.inv(shrunk) * scale.unsqueeze(0) * scale.unsqueeze(1)
    diff = means - overall
    return (prior * ((diff @ precision) * diff).sum(1)).sum()
