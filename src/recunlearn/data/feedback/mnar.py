"""Seeded synthetic ratings missing not at random (MNAR), with an unbiased part.

True 1-5 ratings come from a low-rank model with user and item effects. Each user rates
``n_biased`` items chosen with probability ``∝ exp(beta_u · (r_ui - 3))``: the selection depends
on the rating itself (MNAR), more strongly for some users than for others (``beta_u`` is drawn
per user, mostly positive: users rate what they like, as in Coat and Yahoo! R3). The unbiased
part rates ``n_unbiased`` items per user chosen uniformly at random, as the Coat/Yahoo test sets.

A model trained naively on the biased part overestimates ratings and mis-ranks items that
self-selecting users avoid, so methods that use the unbiased part or correct the selection
have something to gain.
"""

from __future__ import annotations

import numpy as np

from recunlearn.data.feedback.types import DebiasData, make_debias_data


def _choose(rng: np.random.Generator, logits: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct indices per row sampled ∝ ``exp(logits)`` (Gumbel top-k)."""
    gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, size=logits.shape)))
    return np.argsort(-(logits + gumbel), axis=1)[:, :k]


def make_mnar(
    n_users: int = 200,
    n_items: int = 120,
    n_biased: int = 20,
    n_unbiased: int = 12,
    dim: int = 4,
    selection_strength: float = 1.5,
    selection_spread: float = 1.0,
    noise: float = 0.5,
    threshold: float = 3.0,
    seed: int = 0,
) -> DebiasData:
    """Generate a :class:`DebiasData` with MNAR biased ratings and MAR unbiased ratings.

    Args:
        n_users, n_items: sizes.
        n_biased: self-selected ratings per user.
        n_unbiased: random ratings per user (then split into A / V / T).
        dim: rank of the latent preference model.
        selection_strength: mean of ``beta_u`` (how much a user prefers rating what they like).
        selection_spread: standard deviation of ``beta_u`` across users (heterogeneity, the
            signal ULTD's per-user unlearning rate is meant to find).
        noise: standard deviation of the rating noise before rounding.
        threshold: binarisation threshold of the returned data.
        seed: the random seed (same seed, same data).
    """
    if n_biased + n_unbiased > n_items:
        raise ValueError("n_biased + n_unbiased must not exceed n_items")
    rng = np.random.default_rng(seed)
    p = rng.normal(0, 1, (n_users, dim))
    q = rng.normal(0, 1, (n_items, dim))
    item_effect = rng.normal(0, 0.8, n_items)
    user_effect = rng.normal(0, 0.4, n_users)
    latent = p @ q.T / np.sqrt(dim) + item_effect[None, :] + user_effect[:, None]
    latent = latent + rng.normal(0, noise, latent.shape)
    rating = np.clip(np.rint(2.6 + 1.1 * latent), 1, 5)

    beta = rng.normal(selection_strength, selection_spread, n_users)
    biased_items = _choose(rng, beta[:, None] * (rating - 3.0), n_biased)
    # unbiased items: uniform, and (as in Yahoo! R3) disjoint from the user's biased items
    taken = np.zeros((n_users, n_items), dtype=bool)
    np.put_along_axis(taken, biased_items, True, axis=1)
    free_logits = np.where(taken, -np.inf, 0.0)
    unbiased_items = _choose(rng, free_logits, n_unbiased)

    def triples(items: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        users = np.repeat(np.arange(n_users), items.shape[1])
        flat = items.reshape(-1)
        return users, flat, rating[users, flat]

    return make_debias_data(
        "synthetic",
        triples(biased_items),
        triples(unbiased_items),
        n_users=n_users,
        n_items=n_items,
        rating_scale=(1.0, 5.0),
        threshold=threshold,
        source=f"synthetic(seed={seed}, users={n_users}, items={n_items})",
    )
