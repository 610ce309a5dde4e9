"""Split protocols: what a model trains on and what it is evaluated on.

Two named protocols produce a :class:`~recunlearn.data.split_types.Split`:

``"loo"`` — :func:`leave_one_out`
    Leave-one-out by timestamp (the LEGO / NCF protocol): each user's latest interaction is the
    test target and, optionally, the second latest the validation target. Users often have
    several events at the same timestamp (in ML-100K, 415 of 943 users have several items at
    their latest timestamp, see :func:`count_tied_latest`), so *which* event counts as the latest
    is decided by an explicit, selectable tie rule.

``"user_kfold"`` — :func:`user_kfold`
    User-level k-fold (the Adv-MultVAE / AdvX-MultVAE protocol): users are shuffled into folds;
    one fold is tested, the next one validates, the others train. The held-out users'
    interactions are split at random into an *input* part (folded in by encoder models, masked
    from the ranking) and a *target* part.

:func:`make_split` dispatches by protocol name and rejects unknown protocols and parameters.

A *protocol preset* (:data:`PROTOCOL_PRESETS`) names a whole paper protocol: the data filters,
the split and the evaluation. ``"afrl_loo_sampled99"`` is the AFRL paper's (ratings >= 4 as
positives, users with >= 10 positives, latest positive to test, second latest to validation,
1 + 99 sampled ranking with the negatives fixed by the evaluation seed); see
:class:`ProtocolPreset`. The evaluation part is plain values here (the evaluation layer builds
its ``EvalSpec`` from them).

All protocols work on *distinct* (user, item) pairs: the train matrix is binary, and a repeated
event must not end up both in what the model sees and in what it must predict. Everything is
vectorised (sorting and ranking over all interactions at once); no Python loop runs per
interaction or per user.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from recunlearn.core.errors import ConfigError, DataError
from recunlearn.data.split_types import EvalSet, Split
from recunlearn.data.types import Dataset

TieRule = Literal["item_id", "file_order", "random"]
"""How equal timestamps are ordered in :func:`leave_one_out`."""

TIE_RULES: tuple[str, ...] = ("item_id", "file_order", "random")
"""The accepted values of ``ties`` in :func:`leave_one_out`:

* ``"item_id"``: among events with equal timestamps, the one with the **larger raw
  item id** (``dataset.item_ids``, compared as values: numerically for integer ids,
  lexicographically for string ids) counts as later. Independent of the row order, so two
  loaders that order the rows differently give the same split. Beware: where ids grow with
  an item's age or obscurity (MovieLens), this systematically sends less popular items to the
  test set (ML-100K: MF test HR@10 8.6 % vs 12.8 % with ``file_order``; see BENCHMARKS.md).
* ``"file_order"`` (default): the later row of ``dataset.interactions`` counts as later (a
  stable sort on the timestamp). This is the source file's order when the loader keeps it (all
  recunlearn loaders do), and RecBole's convention. ML-100K's ``u.data`` rows are in random
  order, so this rule is deterministic and unbiased there.
* ``"random"``: equal timestamps are put in a random order drawn from ``seed``.
"""


# --------------------------------------------------------------------------- validation helpers


def _check_int(name: str, value: Any, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    return bool(value)


def _check_seed(value: Any) -> int:
    seed = _check_int("seed", value, minimum=0)
    if seed >= 2**32:
        raise ConfigError(f"seed must be < 2**32, got {seed}")
    return seed


def _check_not_empty(dataset: Dataset) -> None:
    if len(dataset.interactions) == 0:
        raise DataError(
            f"dataset '{dataset.name}' has no interactions: there is nothing to split",
            field="interactions",
        )


# --------------------------------------------------------------------------- small helpers


def _binary_csr(users: np.ndarray, items: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A canonical binary CSR (sorted indices, duplicates merged, every stored value 1.0)."""
    matrix = sp.csr_matrix(
        (np.ones(len(users), dtype=np.float32), (users, items)), shape=shape, dtype=np.float32
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _distinct_pairs(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (user, item) pairs of the dataset, sorted by user then item."""
    inter = dataset.interactions
    codes = np.unique(inter.user * np.int64(dataset.n_items) + inter.item)
    return codes // dataset.n_items, codes % dataset.n_items


def _item_rank(dataset: Dataset) -> np.ndarray:
    """Per item index, the rank of its raw id (0 = smallest raw id)."""
    try:
        _, rank = np.unique(np.asarray(dataset.item_ids), return_inverse=True)
    except TypeError as exc:  # mixed types that cannot be ordered
        raise DataError(
            f"dataset '{dataset.name}': raw item ids cannot be ordered ({exc}); "
            "use ties='file_order' or ties='random'",
            field="item_ids",
        ) from exc
    return rank.reshape(-1).astype(np.int64)


def _chronological_order(dataset: Dataset, ties: str, seed: int) -> np.ndarray:
    """Row permutation sorting the interactions by user, then time, then the tie rule.

    Within a user's block, the last row is that user's latest event under the tie rule.
    """
    inter = dataset.interactions
    n = len(inter)
    row = np.arange(n)
    if ties == "item_id":
        tie_key = _item_rank(dataset)[inter.item]
    elif ties == "file_order":
        tie_key = row
    elif ties == "random":
        tie_key = np.random.default_rng(seed).permutation(n)
    else:  # pragma: no cover - validated by the callers
        raise ConfigError(f"unknown tie rule {ties!r}; known: {', '.join(TIE_RULES)}")
    # np.lexsort: the last key is the primary one; the row index makes the order total.
    return np.lexsort((row, tie_key, inter.timestamp, inter.user))


def count_tied_latest(dataset: Dataset) -> int:
    """Number of users having several distinct items at their latest timestamp.

    For these users the leave-one-out test item depends on the tie rule of
    :func:`leave_one_out`. ML-100K gives 415 (of 943 users).
    """
    inter = dataset.interactions
    if len(inter) == 0:
        return 0
    latest = np.full(dataset.n_users, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, inter.user, inter.timestamp)
    at_latest = inter.timestamp == latest[inter.user]
    codes = np.unique(inter.user[at_latest] * np.int64(dataset.n_items) + inter.item[at_latest])
    per_user = np.bincount(codes // dataset.n_items, minlength=dataset.n_users)
    return int(np.count_nonzero(per_user >= 2))


# --------------------------------------------------------------------------- leave-one-out


def leave_one_out(
    dataset: Dataset,
    *,
    valid: bool = True,
    ties: TieRule = "file_order",
    seed: int = 0,
    min_train: int = 1,
) -> Split:
    """Leave-one-out by timestamp (protocol ``"loo"``, as in LEGO / NCF).

    Each user's events are sorted by timestamp, equal timestamps being ordered by the tie rule
    ``ties`` (see :data:`TIE_RULES`). Repeated (user, item) events are first collapsed to their
    latest occurrence in that order, so every held-out item is distinct from the user's training
    items. Then, for every user with at least ``1 + valid + min_train`` distinct items:

    * the latest item is the **test** target;
    * if ``valid``, the second latest item is the **validation** target;
    * the rest goes to ``train``.

    Users with fewer items keep all of them in ``train`` and are not evaluated (counted in
    ``split.extra``). ``train_users`` is every user.

    The validation set's ``known`` is ``train``; the test set's ``known`` is ``train`` plus the
    validation items. Both are full n_users x n_items matrices; their rows outside
    ``EvalSet.users`` are irrelevant to the evaluator. The test item is *not* masked during
    validation (it is an ordinary unseen item there).

    Args:
        dataset: the dataset to split.
        valid: hold out the second latest item for validation.
        ties: tie rule among equal timestamps: ``"item_id"``, ``"file_order"`` or ``"random"``.
        seed: seed of the ``"random"`` tie rule (recorded, unused by the other rules).
        min_train: minimum number of training items of an evaluated user (>= 0).

    Returns:
        A :class:`Split` with ``protocol="loo"``; ``params`` records ``valid``, ``ties``,
        ``seed``, ``min_train``; ``extra`` holds the counts: ``n_evaluated``,
        ``n_too_few_interactions`` (users with events but not evaluated),
        ``n_without_interactions``, ``n_duplicate_rows`` (collapsed repeated events),
        ``n_tied_latest`` (:func:`count_tied_latest` of the dataset) and ``n_tie_dependent``
        (evaluated users whose test or validation item would change under another tie rule:
        a held-out event shares its timestamp with the event just before it).

    Raises:
        ConfigError: invalid parameters.
        DataError: no interactions, or no user has enough interactions to be evaluated.
    """
    valid = _check_bool("valid", valid)
    if ties not in TIE_RULES:
        raise ConfigError(f"unknown tie rule ties={ties!r}; known: {', '.join(TIE_RULES)}")
    seed = _check_seed(seed)
    min_train = _check_int("min_train", min_train, minimum=0)
    _check_not_empty(dataset)

    inter = dataset.interactions
    n_users, n_items = dataset.n_users, dataset.n_items
    order = _chronological_order(dataset, ties, seed)
    user, item, stamp = inter.user[order], inter.item[order], inter.timestamp[order]

    # Collapse repeated (user, item) events to their last occurrence in chronological order.
    reversed_codes = (user * np.int64(n_items) + item)[::-1]
    _, first_in_reversed = np.unique(reversed_codes, return_index=True)
    keep = np.zeros(len(user), dtype=bool)
    keep[len(user) - 1 - first_in_reversed] = True
    n_duplicates = int(len(user) - keep.sum())
    user, item, stamp = user[keep], item[keep], stamp[keep]

    counts = np.bincount(user, minlength=n_users)
    block_end = np.cumsum(counts)  # rows of user u end (exclusive) at block_end[u]
    from_end = block_end[user] - 1 - np.arange(len(user))  # 0 = latest event of its user
    needed = 1 + int(valid) + min_train
    evaluated = counts >= needed
    on_evaluated = evaluated[user]
    is_test = on_evaluated & (from_end == 0)
    is_valid = on_evaluated & (from_end == 1) if valid else np.zeros(len(user), dtype=bool)
    is_train = ~(is_test | is_valid)

    users = np.flatnonzero(evaluated)
    if len(users) == 0:
        raise DataError(
            f"dataset '{dataset.name}': no user has the {needed} distinct items that leave-one-out "
            f"needs (1 test{' + 1 validation' if valid else ''} + min_train={min_train})",
            field="interactions",
        )

    same_as_previous = np.r_[False, (user[1:] == user[:-1]) & (stamp[1:] == stamp[:-1])]
    tie_dependent = np.unique(user[(is_test | is_valid) & same_as_previous])

    shape = (n_users, n_items)
    train = _binary_csr(user[is_train], item[is_train], shape)
    test_target = _binary_csr(user[is_test], item[is_test], shape)
    valid_set = None
    test_known = train
    if valid:
        valid_target = _binary_csr(user[is_valid], item[is_valid], shape)
        valid_set = EvalSet(users=users, known=train, target=valid_target)
        test_known = _binary_csr(user[is_train | is_valid], item[is_train | is_valid], shape)

    has_events = counts > 0
    extra = {
        "n_evaluated": int(len(users)),
        "n_too_few_interactions": int(np.count_nonzero(has_events & ~evaluated)),
        "n_without_interactions": int(np.count_nonzero(~has_events)),
        "n_duplicate_rows": n_duplicates,
        "n_tied_latest": count_tied_latest(dataset),
        "n_tie_dependent": int(len(tie_dependent)),
        "min_interactions": needed,
        "n_train_interactions": int(train.nnz),
    }
    return Split(
        protocol="loo",
        params={"valid": valid, "ties": ties, "seed": seed, "min_train": min_train},
        dataset=dataset,
        train=train,
        train_users=np.arange(n_users, dtype=np.int64),
        test=EvalSet(users=users, known=test_known, target=test_target),
        valid=valid_set,
        extra=extra,
    )


# --------------------------------------------------------------------------- user k-fold


def user_folds(n_active: int, n_folds: int, seed: int) -> list[np.ndarray]:
    """Positions ``0..n_active-1`` shuffled and cut into ``n_folds`` contiguous folds.

    Same folds as scikit-learn's ``KFold(n_folds, shuffle=True, random_state=seed)`` (a legacy
    ``RandomState(seed)`` permutation; the first ``n_active % n_folds`` folds get one more
    element), which is what the Adv/AdvX-MultVAE code uses.
    """
    permutation = np.random.RandomState(seed).permutation(n_active)
    return [np.sort(fold) for fold in np.array_split(permutation, n_folds)]


def user_kfold(
    dataset: Dataset,
    *,
    n_folds: int = 5,
    fold: int = 0,
    seed: int = 42,
    input_fraction: float = 0.2,
    valid: bool = True,
    min_items: int = 2,
) -> Split:
    """User-level k-fold (protocol ``"user_kfold"``, as in Adv-MultVAE / AdvX-MultVAE).

    1. Users with at least one interaction (in index order) are shuffled into ``n_folds`` folds
       exactly as ``KFold(n_folds, shuffle=True, random_state=seed)`` does (see
       :func:`user_folds`). Fold ``fold`` holds the test users; if ``valid``, fold
       ``(fold + 1) % n_folds`` holds the validation users; every other fold holds the training
       users (60/20/20 for 5 folds; 80/0/20 without validation).
    2. Items that no training user interacted with are removed from the validation and test
       users' interactions (they are neither input nor target). The official code drops these
       items from the fold's item space instead; here the item space stays fixed (so item
       indices mean the same thing in every fold), the items simply never appear in ``train``,
       in ``known`` or in ``target``. Their number is reported in ``extra``.
    3. Each remaining validation / test user's distinct items are split at random into an
       **input** part of ``floor(input_fraction * n)`` items (at least 1, at most ``n - 1``) and
       a **target** part (the rest) — ``input_fraction=0.2`` is the official 20% input / 80%
       target (``train_test_split(test_size=0.8)``, which also rounds the target part up). The
       random order comes from one key per (user, item) pair drawn from ``seed``, so a user's
       split is the same whichever fold validates or tests them (up to removed items). Users with
       fewer than ``min_items`` usable items would be left with an empty part: they are dropped
       (not evaluated, nothing of theirs in ``train``) and counted in ``extra``.

    Result: ``train`` (binary) = training users' full rows + the evaluated validation / test
    users' input parts; ``train_users`` = the training users (encoder models train on these rows
    only and fold the others in); ``EvalSet.known`` = the input parts of that set's users;
    ``EvalSet.target`` = their target parts. Oversampling the training users to balance an
    attribute (Adv-MultVAE) is a training concern, not part of the split.

    Args:
        dataset: the dataset to split.
        n_folds: number of folds (>= 2; >= 3 when ``valid``).
        fold: index of the test fold, ``0 <= fold < n_folds``.
        seed: seed of the fold assignment and of the input / target split.
        input_fraction: share of a held-out user's items given as input, in (0, 1).
        valid: use the next fold as validation users.
        min_items: minimum number of usable items of an evaluated user (>= 2).

    Returns:
        A :class:`Split` with ``protocol="user_kfold"``; ``params`` records every argument;
        ``extra`` holds the counts (fold sizes, evaluated and dropped users per set, removed
        items, duplicate rows).

    Raises:
        ConfigError: invalid parameters.
        DataError: no interactions, fewer users than folds, or no test user left.
    """
    n_folds = _check_int("n_folds", n_folds, minimum=2)
    fold = _check_int("fold", fold)
    if not 0 <= fold < n_folds:
        raise ConfigError(f"fold must be in 0..{n_folds - 1} for n_folds={n_folds}, got {fold}")
    seed = _check_seed(seed)
    if (
        isinstance(input_fraction, bool)
        or not isinstance(input_fraction, int | float | np.integer | np.floating)
        or not 0.0 < float(input_fraction) < 1.0
    ):
        raise ConfigError(
            f"input_fraction must be a number strictly between 0 and 1, got {input_fraction!r}"
        )
    input_fraction = float(input_fraction)
    valid = _check_bool("valid", valid)
    if valid and n_folds < 3:
        raise ConfigError(
            f"n_folds={n_folds} leaves no training fold when a validation fold is used; "
            "use n_folds >= 3 or valid=False"
        )
    min_items = _check_int("min_items", min_items, minimum=2)
    _check_not_empty(dataset)

    n_users, n_items = dataset.n_users, dataset.n_items
    user, item = _distinct_pairs(dataset)
    n_duplicates = len(dataset.interactions) - len(user)
    active = np.unique(user)
    if len(active) < n_folds:
        raise DataError(
            f"dataset '{dataset.name}': {len(active)} users with interactions cannot fill "
            f"{n_folds} folds",
            field="interactions",
        )

    # 1. folds of users.
    folds = [active[positions] for positions in user_folds(len(active), n_folds, seed)]
    test_fold = folds[fold]
    valid_index = (fold + 1) % n_folds if valid else -1
    valid_fold = folds[valid_index] if valid else np.zeros(0, dtype=np.int64)
    train_fold = np.sort(
        np.concatenate([f for k, f in enumerate(folds) if k not in (fold, valid_index)])
    )
    TRAIN, VALID, TEST = 1, 2, 3
    role = np.zeros(n_users, dtype=np.int8)
    role[train_fold] = TRAIN
    role[valid_fold] = VALID
    role[test_fold] = TEST
    row_role = role[user]

    # 2. items unseen by the training users leave the held-out users' interactions.
    seen = np.zeros(n_items, dtype=bool)
    seen[item[row_role == TRAIN]] = True
    held = row_role >= VALID
    cold_rows = held & ~seen[item]
    usable = held & seen[item]

    # 3. per-user random input / target split, vectorised: one random key per pair, rank
    #    within the user, the first n_input ranks are the input.
    keys = np.random.default_rng(seed).random(len(user))
    n_usable = np.bincount(user[usable], minlength=n_users)
    kept_user = (n_usable >= min_items) & (role >= VALID)
    n_input = np.clip(np.floor(input_fraction * n_usable + 1e-9).astype(np.int64), 1, None)
    n_input = np.minimum(n_input, np.maximum(n_usable - 1, 1))
    rows = np.flatnonzero(usable & kept_user[user])
    rows = rows[np.lexsort((keys[rows], user[rows]))]
    row_user = user[rows]
    first = np.searchsorted(row_user, row_user, side="left")
    rank = np.arange(len(rows)) - first
    is_input = rank < n_input[row_user]
    input_rows, target_rows = rows[is_input], rows[~is_input]

    shape = (n_users, n_items)
    train_rows = np.concatenate([np.flatnonzero(row_role == TRAIN), input_rows])
    train = _binary_csr(user[train_rows], item[train_rows], shape)

    def eval_set(which: int) -> EvalSet:
        users = np.flatnonzero(kept_user & (role == which))
        known_rows = input_rows[role[user[input_rows]] == which]
        target_of = target_rows[role[user[target_rows]] == which]
        return EvalSet(
            users=users,
            known=_binary_csr(user[known_rows], item[known_rows], shape),
            target=_binary_csr(user[target_of], item[target_of], shape),
        )

    test_set = eval_set(TEST)
    if len(test_set.users) == 0:
        raise DataError(
            f"dataset '{dataset.name}': no test user of fold {fold} has the {min_items} usable "
            "items needed for an input and a target part",
            field="interactions",
        )
    valid_set = eval_set(VALID) if valid else None

    def dropped(which: int) -> int:
        return int(np.count_nonzero((role == which) & ~kept_user))

    extra = {
        "fold_sizes": [int(len(f)) for f in folds],
        "n_train_users": int(len(train_fold)),
        "n_valid_users": int(len(valid_set.users)) if valid_set is not None else 0,
        "n_test_users": int(len(test_set.users)),
        "n_valid_dropped": dropped(VALID) if valid else 0,
        "n_test_dropped": dropped(TEST),
        "n_without_interactions": int(n_users - len(active)),
        "n_items_unseen_by_train_users": int(np.count_nonzero(~seen)),
        "n_heldout_items_removed": int(len(np.unique(item[cold_rows]))),
        "n_heldout_rows_removed": int(np.count_nonzero(cold_rows)),
        "n_duplicate_rows": int(n_duplicates),
        "n_train_interactions": int(train.nnz),
    }
    return Split(
        protocol="user_kfold",
        params={
            "n_folds": n_folds,
            "fold": fold,
            "seed": seed,
            "input_fraction": input_fraction,
            "valid": valid,
            "min_items": min_items,
        },
        dataset=dataset,
        train=train,
        train_users=train_fold.astype(np.int64),
        test=test_set,
        valid=valid_set,
        extra=extra,
    )


# --------------------------------------------------------------------------- dispatch

PROTOCOLS: dict[str, Callable[..., Split]] = {"loo": leave_one_out, "user_kfold": user_kfold}
"""Protocol name -> split function."""


def protocol_params(protocol: str) -> dict[str, Any]:
    """The parameters of ``protocol`` with their defaults."""
    function = _protocol(protocol)
    return {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }


def _protocol(protocol: str) -> Callable[..., Split]:
    if protocol not in PROTOCOLS:
        raise ConfigError(
            f"unknown split protocol {protocol!r}; known: {', '.join(sorted(PROTOCOLS))}"
        )
    return PROTOCOLS[protocol]


def make_split(dataset: Dataset, protocol: str, **params: Any) -> Split:
    """Apply the split protocol called ``protocol`` (``"loo"`` or ``"user_kfold"``).

    Args:
        dataset: the dataset to split.
        protocol: a key of :data:`PROTOCOLS`.
        **params: the protocol's keyword parameters (see :func:`leave_one_out` and
            :func:`user_kfold`); unspecified ones take their defaults.

    Raises:
        ConfigError: unknown protocol, unknown parameter or invalid value.
        DataError: the dataset cannot be split (see the protocol's function).
    """
    function = _protocol(protocol)
    allowed = protocol_params(protocol)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ConfigError(
            f"unknown parameter(s) {', '.join(unknown)} for split protocol {protocol!r}; "
            f"allowed: {', '.join(allowed)}"
        )
    return function(dataset, **params)


# --------------------------------------------------------------------------- protocol presets


@dataclass(frozen=True)
class ProtocolPreset:
    """A paper's whole protocol: data filters, split and evaluation, under one name.

    Attributes:
        name: the preset's name (``RunSpec`` / bench configs refer to it).
        description: one line for reports.
        binarize_threshold: ratings >= this are positives (the others are dropped).
        min_user_interactions: users with fewer positives are removed (after binarising).
        min_item_interactions: the same for items (0: no bound).
        split: a protocol of :data:`PROTOCOLS`.
        split_params: its parameters.
        eval_mode: ``"full"`` or ``"sampled"`` ranking of the test split.
        n_negatives: sampled negatives per test user.
        eval_seed: seed of the negative sampler: with the same split and seed every method is
            ranked against the same negatives (drawn per user in user order).
        ks: ranking cut-offs.
    """

    name: str
    description: str
    binarize_threshold: float | None
    min_user_interactions: int
    min_item_interactions: int
    split: str
    split_params: dict[str, Any] = field(default_factory=dict)
    eval_mode: Literal["full", "sampled"] = "full"
    n_negatives: int = 99
    eval_seed: int = 0
    ks: tuple[int, ...] = (10, 20)

    def data_filters(self) -> dict[str, Any]:
        """The ``DataSpec`` fields the preset sets."""
        return {
            "binarize_threshold": self.binarize_threshold,
            "min_user_interactions": self.min_user_interactions,
            "min_item_interactions": self.min_item_interactions,
        }


PROTOCOL_PRESETS: dict[str, ProtocolPreset] = {
    "afrl_loo_sampled99": ProtocolPreset(
        name="afrl_loo_sampled99",
        description="AFRL (SIGIR'24): ratings >= 4 as positives, users with >= 10 positives, "
        "latest positive to test, second latest to validation, 1 + 99 sampled ranking with "
        "seeded negatives",
        binarize_threshold=4.0,
        min_user_interactions=10,
        min_item_interactions=0,
        split="loo",
        split_params={"valid": True, "ties": "file_order", "min_train": 1},
        eval_mode="sampled",
        n_negatives=99,
        eval_seed=0,
        ks=(10, 20),
    )
}
"""Named paper protocols (see :class:`ProtocolPreset`)."""


def protocol_preset(name: str) -> ProtocolPreset:
    """The preset called ``name``.

    Raises:
        ConfigError: unknown name (the message lists the known ones).
    """
    if name not in PROTOCOL_PRESETS:
        raise ConfigError(
            f"unknown protocol preset {name!r}; known: {', '.join(sorted(PROTOCOL_PRESETS))}"
        )
    return PROTOCOL_PRESETS[name]
