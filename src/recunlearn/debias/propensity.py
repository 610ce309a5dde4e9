"""Propensity estimates ``p̂(u, i) = P(o_ui = 1 | ·)`` for IPS, SNIPS and DR-JL.

* ``naive_bayes``: one value per label, ``P(O=1|y) = P(y|O=1)·P(O=1) / P(y)`` with
  ``P(y|O=1)`` from the biased ratings, ``P(O=1) = |O| / (m·n)`` and ``P(y)`` from the unbiased
  training ratings ``A`` (AutoDebias / family-A IPS).
* ``learned``: a logistic MF ``σ(a_uᵀc_i + d_u + d_i + d_0)`` fitted with binary cross-entropy
  on pairs drawn uniformly from all m·n user-item pairs against ``o_ui`` (family-B form; no
  label needed, so it cannot see the MNAR part of the selection).

Both are clipped below at ``clip`` (γ) before inverting.
"""

from __future__ import annotations

import numpy as np
import torch

from recunlearn.data.feedback.types import DebiasSplit
from recunlearn.debias.models import init_mf, mf_logits, predict_numpy


def naive_bayes(split: DebiasSplit) -> tuple[float, float]:
    """``(P(O=1|y=0), P(O=1|y=1))`` from O and A (see the module docstring)."""
    o_pos = float(split.train.label.mean())
    a_pos = float(split.uniform.label.mean()) if len(split.uniform) else o_pos
    a_pos = min(max(a_pos, 1e-3), 1 - 1e-3)
    p_obs = len(split.train) / (split.n_users * split.n_items)
    return (1 - o_pos) * p_obs / (1 - a_pos), o_pos * p_obs / a_pos


def learned(
    split: DebiasSplit,
    *,
    dim: int = 8,
    steps: int = 300,
    batch: int = 8192,
    lr: float = 0.05,
    weight_decay: float = 1e-5,
    seed: int = 0,
):
    """Fit the logistic-MF observation model; returns its parameters."""
    gen = torch.Generator().manual_seed(seed + 7919)
    rng = np.random.default_rng(seed + 7919)
    params = init_mf(split.n_users, split.n_items, dim, gen)
    with torch.no_grad():
        rate = len(split.train) / (split.n_users * split.n_items)
        params["b0"].fill_(float(np.log(rate / (1 - rate))))
    observed = np.sort(split.train.user * split.n_items + split.train.item)
    opt = torch.optim.Adam(list(params.values()), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        # pairs drawn uniformly from all m*n pairs, labelled by whether they are in O
        u = rng.integers(0, split.n_users, batch)
        i = rng.integers(0, split.n_items, batch)
        key = u * split.n_items + i
        pos = np.searchsorted(observed, key)
        o = (pos < len(observed)) & (observed[np.minimum(pos, len(observed) - 1)] == key)
        logits = mf_logits(params, torch.tensor(u), torch.tensor(i))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, torch.tensor(o, dtype=torch.float32)
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return params


def propensities(
    split: DebiasSplit,
    users: np.ndarray,
    items: np.ndarray,
    labels: np.ndarray,
    *,
    kind: str = "naive_bayes",
    clip: float = 0.02,
    seed: int = 0,
    **learned_options,
) -> np.ndarray:
    """Clipped propensities of the given pairs (``labels`` are used by ``naive_bayes`` only)."""
    if kind == "naive_bayes":
        p0, p1 = naive_bayes(split)
        p = np.where(np.asarray(labels) > 0.5, p1, p0)
    elif kind == "learned":
        p = predict_numpy(learned(split, seed=seed, **learned_options), users, items)
    else:
        raise ValueError(f"propensity kind must be naive_bayes or learned, got '{kind}'")
    return np.clip(p, clip, 1.0)


def train_inverse_propensities(
    split: DebiasSplit, kind: str, clip: float, seed: int
) -> torch.Tensor:
    """1 / clipped propensity of every biased training rating (IPS and DR-JL weights)."""
    train = split.train
    p = propensities(split, train.user, train.item, train.label, kind=kind, clip=clip, seed=seed)
    return torch.tensor(1.0 / p, dtype=torch.float32)
