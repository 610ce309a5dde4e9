"""A seeded synthetic dataset whose user attributes measurably shape preferences.

Generative story (all draws from one ``numpy.random.default_rng(seed)``, so a seed fixes the
whole dataset):

1. Users get ``gender`` (2 classes, P(M) = 0.6), a continuous ``age_raw`` (normal around 35
   years, clipped to 15-70, rounded to whole years) binned into ``age`` (``<28``, ``28-40``,
   ``>40``: the ML-100K bins), ``occupation`` (``n_occupations`` classes) and a control
   attribute ``noise`` (2 classes, drawn independently of everything; it does not enter the
   preferences, so an attacker must sit at chance on it).
2. Latent user factors = ``signal`` x (gender direction x +-1 + age direction x standardised
   age + occupation direction) + individual noise. Directions are random unit vectors.
3. Items get latent factors and a Zipf-like popularity.
4. Each user draws between ``n_interactions_per_user`` items *without replacement* with
   probability proportional to ``softmax(user . item / temperature + log popularity)``
   (Gumbel top-k), in the drawn order.
5. Ratings 1-5 grow with the standardised affinity ``user . item`` plus noise.
6. Timestamps increase strictly within each user (random start, exponential gaps). A few
   users (``tie_fraction``) get their last two events on the *same* timestamp, so tie rules
   of leave-one-out splits can be tested; their raw ids are listed in ``meta["tied_users"]``.
   Within a tie the rows keep the drawn order (the row order of the dataset).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recunlearn.data.types import Attribute, Dataset, Interactions

OCCUPATION_NAMES = (
    "student", "engineer", "artist", "healthcare", "sales", "retired", "educator", "lawyer",
    "farmer", "writer", "scientist", "other",
)  # fmt: skip

AGE_BINS = ("<28", "28-40", ">40")

_START = 1_500_000_000  # 2017-07-14, Unix seconds
_SPAN = 180 * 86_400  # users start within ~6 months
_MEAN_GAP = 86_400  # one event a day on average


def _unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    vectors = rng.normal(size=(n, dim))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _draw_users(
    rng: np.random.Generator, n_users: int, n_occupations: int
) -> dict[str, np.ndarray]:
    gender = (rng.random(n_users) < 0.6).astype(np.int64)
    age_raw = np.round(np.clip(rng.normal(35.0, 12.0, n_users), 15, 70))
    weights = rng.dirichlet(np.full(n_occupations, 3.0))
    occupation = rng.choice(n_occupations, size=n_users, p=weights)
    noise = rng.integers(0, 2, n_users)
    age = np.where(age_raw < 28, 0, np.where(age_raw <= 40, 1, 2))
    return {
        "gender": gender,
        "age": age,
        "occupation": occupation,
        "age_raw": age_raw,
        "noise": noise,
    }


def _user_factors(
    rng: np.random.Generator,
    values: dict[str, np.ndarray],
    dim: int,
    n_occupations: int,
    signal: float,
) -> np.ndarray:
    n_users = len(values["gender"])
    gender_dir, age_dir = _unit_rows(rng, 2, dim)
    occupation_dirs = _unit_rows(rng, n_occupations, dim)
    age = values["age_raw"]
    age_z = (age - age.mean()) / max(age.std(), 1e-9)
    offsets = (
        np.outer(2.0 * values["gender"] - 1.0, gender_dir)
        + np.outer(age_z, age_dir)
        + occupation_dirs[values["occupation"]]
    )
    individual = rng.normal(0.0, 1.0 / np.sqrt(dim), size=(n_users, dim))
    return signal * offsets + individual


def _draw_counts(
    rng: np.random.Generator, n_users: int, bounds: tuple[int, int], n_items: int
) -> np.ndarray:
    low, high = int(bounds[0]), int(bounds[1])
    if not 1 <= low <= high:
        raise ValueError(f"n_interactions_per_user must be 1 <= low <= high, got {bounds}")
    if high > n_items:
        raise ValueError(f"n_interactions_per_user upper bound {high} exceeds n_items={n_items}")
    return rng.integers(low, high + 1, size=n_users)


def _timestamps(
    rng: np.random.Generator, counts: np.ndarray, tie_fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Strictly increasing timestamps per user, then ties on the last two events of a few users."""
    n_users = len(counts)
    total = int(counts.sum())
    owner = np.repeat(np.arange(n_users), counts)
    first = np.r_[0, np.cumsum(counts)[:-1]]
    gaps = np.ceil(rng.exponential(_MEAN_GAP, size=total)).astype(np.int64) + 1
    gaps[first] = 0
    cumulative = np.cumsum(gaps)
    within = cumulative - cumulative[first][owner]
    starts = _START + rng.integers(0, _SPAN, size=n_users)
    stamps = starts[owner] + within
    n_tied = 0 if tie_fraction <= 0 else max(1, round(tie_fraction * n_users))
    eligible = np.flatnonzero(counts >= 2)
    tied = np.sort(rng.choice(eligible, size=min(n_tied, len(eligible)), replace=False))
    last = first[tied] + counts[tied] - 1
    stamps[last] = stamps[last - 1]
    return stamps, tied


DEFAULT_USERS = 1000
"""Users of :func:`make_synthetic` by default (a label names the count only when it differs)."""


def _label(n_users: int, seed: int, signal: float) -> str:
    """``Synthetic (seed 0, signal 0.5)``; ``Synthetic (5,000 users, seed 0, signal 0.5)`` for a
    non-default user count (labels of the default kept as the older records have them)."""
    users = "" if n_users == DEFAULT_USERS else f"{n_users:,} users, "
    return f"Synthetic ({users}seed {seed}, signal {signal:g})"


def make_synthetic(
    n_users: int = DEFAULT_USERS,
    n_items: int = 500,
    n_interactions_per_user: tuple[int, int] | list[int] = (20, 60),
    dim: int = 16,
    seed: int = 0,
    *,
    signal: float = 0.5,
    n_occupations: int = 6,
    temperature: float = 1.0,
    popularity_exponent: float = 0.8,
    tie_fraction: float = 0.02,
    name: str = "synthetic",
) -> Dataset:
    """Generate a seeded synthetic dataset (see the module docstring for the mechanism).

    Args:
        n_users: number of users (raw ids 1..n_users).
        n_items: number of items (raw ids 1..n_items); items never drawn are kept.
        n_interactions_per_user: inclusive (low, high) range of events per user.
        dim: latent dimension.
        seed: seed of the single random generator; equal seeds give equal datasets.
        signal: scale of the attribute-driven part of user factors (0 = attributes carry no
            information about interactions). With the defaults, 0.5 lets a logistic regression
            on the raw interaction vectors reach a balanced accuracy of about 0.9 on gender,
            0.6 on age and 0.45 on occupation (chance 0.5 / 0.33 / 0.17); 1.0 makes gender
            almost perfectly predictable.
        n_occupations: number of occupation classes (2-12).
        temperature: softmax temperature of the item choice (lower = more deterministic).
        popularity_exponent: Zipf exponent of item popularity (0 = uniform).
        tie_fraction: share of users whose last two events share a timestamp (at least one
            user when > 0).
        name: dataset name.

    Returns:
        A Dataset with attributes ``gender``, ``age``, ``occupation``, ``age_raw`` and
        ``noise``; ``meta`` records the parameters and ``tied_users``.
    """
    if not 2 <= n_occupations <= len(OCCUPATION_NAMES):
        raise ValueError(f"n_occupations must be in 2..{len(OCCUPATION_NAMES)}")
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    rng = np.random.default_rng(seed)
    values = _draw_users(rng, n_users, n_occupations)
    users = _user_factors(rng, values, dim, n_occupations, signal)
    items = rng.normal(size=(n_items, dim))
    popularity = 1.0 / (1.0 + rng.permutation(n_items)) ** popularity_exponent
    counts = _draw_counts(rng, n_users, tuple(n_interactions_per_user), n_items)

    affinity = users @ items.T
    logits = affinity / temperature + np.log(popularity)[None, :]
    keys = logits + rng.gumbel(size=logits.shape)
    ranked = np.argsort(-keys, axis=1, kind="stable")
    take = np.arange(n_items)[None, :] < counts[:, None]
    user_index = np.repeat(np.arange(n_users), counts)
    item_index = ranked[take]

    chosen = affinity[user_index, item_index]
    z = (chosen - chosen.mean()) / max(chosen.std(), 1e-9)
    ratings = np.clip(np.round(3.5 + z + rng.normal(0.0, 0.7, len(z))), 1, 5)
    stamps, tied = _timestamps(rng, counts, tie_fraction)

    attributes = (
        Attribute("gender", "categorical", ("F", "M"), description="synthetic, P(M) = 0.6"),
        Attribute("age", "categorical", AGE_BINS, description="age_raw binned <28, 28-40, >40"),
        Attribute(
            "occupation",
            "categorical",
            OCCUPATION_NAMES[:n_occupations],
            description="synthetic, Dirichlet class weights",
        ),
        Attribute("age_raw", "continuous", description="synthetic age in years, N(35, 12) clipped"),
        Attribute(
            "noise",
            "categorical",
            ("a", "b"),
            description="control: independent of everything, an attacker must sit at chance",
        ),
    )
    params: dict[str, Any] = {
        "n_users": n_users,
        "n_items": n_items,
        "n_interactions_per_user": list(n_interactions_per_user),
        "dim": dim,
        "seed": seed,
        "signal": signal,
        "n_occupations": n_occupations,
        "temperature": temperature,
        "popularity_exponent": popularity_exponent,
        "tie_fraction": tie_fraction,
    }
    return Dataset(
        name=name,
        interactions=Interactions(user_index, item_index, ratings, stamps),
        user_ids=np.arange(1, n_users + 1, dtype=np.int64),
        item_ids=np.arange(1, n_items + 1, dtype=np.int64),
        attributes=attributes,
        user_values=values,
        items=pd.DataFrame({"item_id": np.arange(1, n_items + 1), "popularity": popularity}),
        label=_label(n_users, seed, signal),
        meta={
            "generator": "recunlearn.data.synthetic.make_synthetic",
            "params": params,
            "tied_users": (tied + 1).tolist(),
            "repairs": {},
            "history": [],
        },
    )
