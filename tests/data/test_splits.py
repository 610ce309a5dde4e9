"""Split protocols: leave-one-out with explicit tie rules, user-level k-fold, dispatch, errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import KFold

from recunlearn.core.errors import ConfigError, DataError
from recunlearn.data.movielens import load_movielens_100k
from recunlearn.data.split_types import Split
from recunlearn.data.splits import (
    PROTOCOLS,
    TIE_RULES,
    count_tied_latest,
    leave_one_out,
    make_split,
    protocol_params,
    user_folds,
    user_kfold,
)
from recunlearn.data.types import Dataset, Interactions
from recunlearn.testing.data import make_tiny_dataset, make_tiny_split
from tests.conftest import shared_data


def build(rows, n_users: int, item_ids, name: str = "hand") -> Dataset:
    """A dataset from (user, item index, timestamp) rows, in this row order."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    inter = Interactions(rows[:, 0], rows[:, 1], np.ones(len(rows)), rows[:, 2])
    return Dataset(
        name=name,
        interactions=inter,
        user_ids=np.arange(1, n_users + 1),
        item_ids=np.asarray(item_ids),
    )


def row_items(matrix: sp.csr_matrix, user: int) -> set[int]:
    return set(matrix.indices[matrix.indptr[user] : matrix.indptr[user + 1]].tolist())


def same_csr(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    return a.shape == b.shape and (a != b).nnz == 0


def same_split(a: Split, b: Split) -> bool:
    sets = [(a.test, b.test)] + ([(a.valid, b.valid)] if a.valid is not None else [])
    return (
        same_csr(a.train, b.train)
        and np.array_equal(a.train_users, b.train_users)
        and all(
            np.array_equal(x.users, y.users)
            and same_csr(x.known, y.known)
            and same_csr(x.target, y.target)
            for x, y in sets
        )
    )


# raw ids decrease with the index, so "larger raw id" differs from "larger index"
HAND_ITEMS = [50, 40, 30, 20, 10]
HAND_ROWS = [
    # user 0: items 0 and 4 tie at its latest timestamp 5; item 0 has the larger raw id (50)
    (0, 3, 1),
    (0, 0, 5),
    (0, 4, 5),
    (0, 1, 2),
    # user 1: no tie
    (1, 2, 3),
    (1, 1, 1),
    (1, 0, 2),
    # user 2: two events, both at its latest timestamp: too few to be evaluated
    (2, 1, 1),
    (2, 2, 1),
    # user 3: nothing
]


@pytest.fixture()
def hand() -> Dataset:
    return build(HAND_ROWS, 4, HAND_ITEMS)


def tie_heavy(n_users: int = 150, per_user: int = 8, seed: int = 5) -> Dataset:
    """Timestamps drawn from 4 values: most users have ties, some at their latest event."""
    rng = np.random.default_rng(seed)
    n_items = 60
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    stamps = rng.integers(0, 4, len(users))
    shuffle = rng.permutation(len(users))  # a file order that is not sorted by user
    rows = np.stack([users, items, stamps], axis=1)[shuffle]
    return build(rows, n_users, rng.permutation(1000)[:n_items] + 1, name="ties")


# --------------------------------------------------------------------------- leave-one-out


def test_count_tied_latest(hand):
    assert count_tied_latest(hand) == 2  # users 0 and 2
    # a repeated event of the same item is not a tie
    assert count_tied_latest(build([(0, 1, 4), (0, 1, 4), (0, 2, 1)], 1, [1, 2, 3])) == 0
    assert count_tied_latest(build(np.zeros((0, 3)), 2, [1, 2])) == 0


@pytest.mark.parametrize(
    ("ties", "test_item", "valid_item"), [("item_id", 0, 4), ("file_order", 4, 0)]
)
def test_loo_tie_rules_by_hand(hand, ties, test_item, valid_item):
    split = leave_one_out(hand, ties=ties)
    assert split.protocol == "loo"
    assert split.params == {"valid": True, "ties": ties, "seed": 0, "min_train": 1}
    np.testing.assert_array_equal(split.test.users, [0, 1])
    np.testing.assert_array_equal(split.valid.users, [0, 1])
    np.testing.assert_array_equal(split.train_users, [0, 1, 2, 3])
    assert row_items(split.test.target, 0) == {test_item}
    assert row_items(split.valid.target, 0) == {valid_item}
    assert row_items(split.train, 0) == {3, 1}
    # user 1 has no tie: the same under every rule
    assert row_items(split.test.target, 1) == {2}
    assert row_items(split.valid.target, 1) == {0}
    assert row_items(split.train, 1) == {1}
    # user 2 is too short: all in train, not evaluated
    assert row_items(split.train, 2) == {1, 2}
    assert row_items(split.test.known, 0) == {3, 1, valid_item}
    assert row_items(split.valid.known, 0) == {3, 1}
    assert split.extra["n_evaluated"] == 2
    assert split.extra["n_too_few_interactions"] == 1
    assert split.extra["n_without_interactions"] == 1
    assert split.extra["n_tied_latest"] == 2
    assert split.extra["n_tie_dependent"] == 1  # user 0


def test_loo_random_ties_are_seeded(hand):
    chosen = {
        seed: row_items(leave_one_out(hand, ties="random", seed=seed).test.target, 0)
        for seed in range(16)
    }
    assert set().union(*chosen.values()) == {0, 4}  # both tied items get drawn
    for seed in (0, 3):
        a = leave_one_out(hand, ties="random", seed=seed)
        b = leave_one_out(hand, ties="random", seed=seed)
        assert same_split(a, b)
        assert a.params["seed"] == seed


def test_loo_matches_the_hand_made_fixture_without_ties():
    dataset = make_tiny_dataset()
    reference = make_tiny_split(dataset)
    for ties in TIE_RULES:
        split = leave_one_out(dataset, ties=ties)
        assert same_csr(split.train, reference.train)
        assert same_csr(split.valid.target, reference.valid.target)
        assert same_csr(split.test.target, reference.test.target)
        assert same_csr(split.test.known, reference.test.known)
        assert split.extra["n_tie_dependent"] == 0


def _expected_test_items(dataset: Dataset) -> tuple[dict[str, dict[int, int]], set[int]]:
    """Test item per user under item_id and file_order (one user at a time), and tied users."""
    inter = dataset.interactions
    expected: dict[str, dict[int, int]] = {"item_id": {}, "file_order": {}}
    tied: set[int] = set()
    for user in np.unique(inter.user):
        rows = np.flatnonzero(inter.user == user)
        latest = inter.timestamp[rows].max()
        at_latest = rows[inter.timestamp[rows] == latest]
        if len(at_latest) > 1:
            tied.add(int(user))
        raw = dataset.item_ids[inter.item[at_latest]]
        expected["item_id"][int(user)] = int(inter.item[at_latest[np.argmax(raw)]])
        expected["file_order"][int(user)] = int(inter.item[at_latest[-1]])
    return expected, tied


def test_tie_rules_differ_exactly_for_tied_users():
    dataset = tie_heavy()
    expected, tied = _expected_test_items(dataset)
    assert count_tied_latest(dataset) == len(tied) > 20
    splits = {ties: leave_one_out(dataset, ties=ties, seed=1) for ties in TIE_RULES}
    test_item = {
        ties: {u: row_items(s.test.target, u).pop() for u in s.test.users.tolist()}
        for ties, s in splits.items()
    }
    assert test_item["item_id"] == expected["item_id"]
    assert test_item["file_order"] == expected["file_order"]
    users = set(test_item["item_id"])
    differ = {u for u in users if test_item["item_id"][u] != test_item["file_order"][u]}
    expected_differ = {u for u in tied if expected["item_id"][u] != expected["file_order"][u]}
    assert differ == expected_differ and len(differ) > 5
    for u in users - tied:  # untied users: one answer whatever the rule
        assert test_item["item_id"][u] == test_item["file_order"][u] == test_item["random"][u]
    # the random rule always picks one of the tied latest items
    latest = dataset.interactions.timestamp
    for u in tied:
        rows = np.flatnonzero(dataset.interactions.user == u)
        top = rows[latest[rows] == latest[rows].max()]
        assert test_item["random"][u] in set(dataset.interactions.item[top].tolist())


@pytest.mark.parametrize("ties", TIE_RULES)
def test_loo_partitions_the_interactions(ties):
    dataset = tie_heavy()
    split = leave_one_out(dataset, ties=ties, seed=2)
    full = dataset.matrix()
    total = split.train + split.valid.target + split.test.target
    assert total.max() == 1.0  # disjoint
    assert same_csr(total.tocsr(), full)
    for evalset in (split.valid, split.test):
        assert evalset.known.multiply(evalset.target).nnz == 0
        assert np.all(np.diff(evalset.target.indptr)[evalset.users] == 1)
    assert same_csr(split.test.known, (split.train + split.valid.target).tocsr())
    assert split.train.dtype == np.float32 and np.all(split.train.data == 1.0)
    assert same_split(split, leave_one_out(dataset, ties=ties, seed=2))


def test_loo_repeated_events_collapse_to_the_latest():
    # item 1 at t=1 and again at t=3: its latest occurrence makes it the test item
    dataset = build([(0, 1, 1), (0, 2, 2), (0, 1, 3), (0, 3, 0)], 1, [1, 2, 3, 4])
    split = leave_one_out(dataset)
    assert row_items(split.test.target, 0) == {1}
    assert row_items(split.valid.target, 0) == {2}
    assert row_items(split.train, 0) == {3}
    assert split.extra["n_duplicate_rows"] == 1


def test_loo_without_validation_and_min_train(hand):
    split = leave_one_out(hand, valid=False, min_train=0)
    assert split.valid is None
    np.testing.assert_array_equal(split.test.users, [0, 1, 2])  # user 2 now qualifies
    assert same_csr(split.test.known, split.train)
    strict = leave_one_out(hand, min_train=2)
    np.testing.assert_array_equal(strict.test.users, [0])
    assert strict.extra["min_interactions"] == 4
    assert row_items(strict.train, 1) == {0, 1, 2}
    with pytest.raises(DataError, match="no user has the 5 distinct items"):
        leave_one_out(hand, min_train=3)


# --------------------------------------------------------------------------- user k-fold


def test_user_folds_match_sklearn_kfold():
    for n, k in [(60, 5), (943, 5), (23, 4)]:
        kfold = KFold(n_splits=k, shuffle=True, random_state=42)
        reference = [np.sort(test) for _, test in kfold.split(np.arange(n))]
        mine = user_folds(n, k, 42)
        assert all(np.array_equal(a, b) for a, b in zip(mine, reference, strict=True))


def test_user_kfold_roles_and_parts():
    dataset = make_tiny_dataset()
    full = dataset.matrix()
    splits = [user_kfold(dataset, fold=f) for f in range(5)]
    tests = [set(s.test.users.tolist()) for s in splits]
    assert set().union(*tests) == set(range(dataset.n_users))
    assert sum(len(t) for t in tests) == dataset.n_users  # every user tested exactly once
    for f, split in enumerate(splits):
        assert split.protocol == "user_kfold"
        assert split.params == {
            "n_folds": 5,
            "fold": f,
            "seed": 42,
            "input_fraction": 0.2,
            "valid": True,
            "min_items": 2,
        }
        assert split.extra["fold_sizes"] == [12] * 5
        train, valid, test = (
            set(split.train_users.tolist()),
            set(split.valid.users.tolist()),
            set(split.test.users.tolist()),
        )
        assert len(train) == 36 and not train & valid and not train & test and not valid & test
        assert valid == tests[(f + 1) % 5]
        seen = set(split.train[split.train_users].indices.tolist())
        for user in range(dataset.n_users):
            items = row_items(full, user)
            if user in train:
                assert row_items(split.train, user) == items
                continue
            evalset = split.valid if user in valid else split.test
            known, target = row_items(evalset.known, user), row_items(evalset.target, user)
            usable = items & seen
            assert known | target == usable and not known & target
            assert len(known) == max(1, int(0.2 * len(usable)))
            assert row_items(split.train, user) == known  # the input part is in train
            other = split.test if evalset is split.valid else split.valid
            assert not row_items(other.known, user) and not row_items(other.target, user)
        assert split.train.dtype == np.float32 and np.all(split.train.data == 1.0)


def test_user_kfold_is_deterministic_and_seeded():
    dataset = make_tiny_dataset()
    a, b = user_kfold(dataset, fold=2), user_kfold(dataset, fold=2)
    assert same_split(a, b)
    c = user_kfold(dataset, fold=2, seed=7)
    assert not np.array_equal(a.test.users, c.test.users)


def test_user_kfold_input_part_does_not_depend_on_the_role():
    # a user's input / target split is the same when it validates (fold f) or tests (fold f+1)
    dataset = make_tiny_dataset()
    compared = 0
    for f in range(5):
        now, later = user_kfold(dataset, fold=f), user_kfold(dataset, fold=(f + 1) % 5)
        for user in now.valid.users.tolist():
            usable = row_items(now.valid.known, user) | row_items(now.valid.target, user)
            usable_later = row_items(later.test.known, user) | row_items(later.test.target, user)
            if usable == usable_later:  # same items left after removing unseen ones
                assert row_items(now.valid.known, user) == row_items(later.test.known, user)
                compared += 1
    assert compared > 30


def _with_private_items(n_users: int = 40, n_shared: int = 12, seed: int = 0) -> Dataset:
    """Every user has one item nobody else has; users 0..7 have a single shared item."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        rows.append((user, n_shared + user, 10))  # private item
        n = 1 if user < 8 else int(rng.integers(3, 10))
        rows += [(user, int(i), 5) for i in rng.choice(n_shared, n, replace=False)]
    return build(rows, n_users, np.arange(n_shared + n_users) + 1, name="private")


def test_user_kfold_items_unseen_by_training_users_are_removed():
    dataset = _with_private_items()
    split = user_kfold(dataset, fold=1, input_fraction=0.5)
    held = np.concatenate([split.valid.users, split.test.users])
    train_items = set(split.train[split.train_users].indices.tolist())
    for evalset in (split.valid, split.test):
        assert set(evalset.known.indices.tolist()) <= train_items
        assert set(evalset.target.indices.tolist()) <= train_items
    # every held-out user loses its private item; users 0..7 then have 1 item and are dropped
    held_all = set(range(40)) - set(split.train_users.tolist())
    assert split.extra["n_heldout_rows_removed"] == len(held_all)
    assert split.extra["n_heldout_items_removed"] == len(held_all)
    short = {u for u in held_all if u < 8}
    assert split.extra["n_valid_dropped"] + split.extra["n_test_dropped"] == len(short) > 0
    assert set(held.tolist()) == held_all - short
    for user in short:
        assert not row_items(split.train, user)
    # the item space stays fixed
    assert split.train.shape == (40, dataset.n_items)
    assert split.extra["n_items_unseen_by_train_users"] == len(held_all)


def test_user_kfold_options():
    dataset = make_tiny_dataset()
    no_valid = user_kfold(dataset, valid=False, n_folds=4, fold=3)
    assert no_valid.valid is None
    assert len(no_valid.train_users) == 45 and len(no_valid.test.users) == 15
    half = user_kfold(dataset, input_fraction=0.5)
    assert np.all(np.diff(half.test.known.indptr)[half.test.users] == 6)
    strict = user_kfold(_with_private_items(), min_items=6)
    assert (
        strict.extra["n_test_dropped"] > user_kfold(_with_private_items()).extra["n_test_dropped"]
    )


# --------------------------------------------------------------------------- dispatch and errors


def test_make_split_dispatches():
    dataset = make_tiny_dataset()
    assert set(PROTOCOLS) == {"loo", "user_kfold"}
    assert same_split(
        make_split(dataset, "loo", ties="file_order"), leave_one_out(dataset, ties="file_order")
    )
    assert same_split(make_split(dataset, "user_kfold", fold=3), user_kfold(dataset, fold=3))
    assert protocol_params("loo") == {
        "valid": True,
        "ties": "file_order",
        "seed": 0,
        "min_train": 1,
    }
    with pytest.raises(ConfigError, match="unknown split protocol 'kfold'; known: loo, user_kfold"):
        make_split(dataset, "kfold")
    with pytest.raises(ConfigError, match="unknown parameter.*n_folds.*'loo'"):
        make_split(dataset, "loo", n_folds=5)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_folds": 1}, "n_folds must be >= 2"),
        ({"n_folds": 2}, "no training fold"),
        ({"n_folds": 5, "fold": 5}, r"fold must be in 0\.\.4"),
        ({"fold": -1}, r"fold must be in 0\.\.4"),
        ({"fold": 1.0}, "fold must be an integer"),
        ({"input_fraction": 0.0}, "strictly between 0 and 1"),
        ({"input_fraction": 1.0}, "strictly between 0 and 1"),
        ({"input_fraction": 1.5}, "strictly between 0 and 1"),
        ({"input_fraction": float("nan")}, "strictly between 0 and 1"),
        ({"input_fraction": "0.2"}, "strictly between 0 and 1"),
        ({"min_items": 1}, "min_items must be >= 2"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"valid": "yes"}, "valid must be true or false"),
    ],
)
def test_user_kfold_rejects_bad_parameters(params, message):
    with pytest.raises(ConfigError, match=message):
        user_kfold(make_tiny_dataset(n_users=10), **params)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ties": "latest"}, "unknown tie rule ties='latest'; known: item_id, file_order, random"),
        ({"min_train": -1}, "min_train must be >= 0"),
        ({"valid": 1}, "valid must be true or false"),
        ({"seed": True}, "seed must be an integer"),
    ],
)
def test_loo_rejects_bad_parameters(hand, params, message):
    with pytest.raises(ConfigError, match=message):
        leave_one_out(hand, **params)


def test_bad_datasets():
    empty = build(np.zeros((0, 3)), 3, [1, 2])
    for protocol in PROTOCOLS:
        with pytest.raises(DataError, match="has no interactions"):
            make_split(empty, protocol)
    assert issubclass(DataError, ValueError) and issubclass(ConfigError, ValueError)
    three_users = build([(u, 0, 0) for u in range(3)] + [(u, 1, 1) for u in range(3)], 5, [1, 2])
    with pytest.raises(DataError, match="3 users with interactions cannot fill 5 folds"):
        user_kfold(three_users)
    with pytest.raises(DataError, match="no test user"):
        user_kfold(three_users, n_folds=3, min_items=3)


# --------------------------------------------------------------------------- real data


def _ml100k() -> Dataset:
    return load_movielens_100k(shared_data("ml-100k"))


@pytest.mark.realdata
def test_ml100k_numbers():
    dataset = _ml100k()
    assert count_tied_latest(dataset) == 415
    split = leave_one_out(dataset)
    assert split.extra["n_evaluated"] == dataset.n_users == 943
    assert split.extra["n_tied_latest"] == 415
    assert split.train.nnz == 100_000 - 2 * 943
    other = leave_one_out(dataset, ties="item_id")
    differ = np.diff((split.test.target != other.test.target).tocsr().indptr) > 0
    assert differ.sum() == 281
    kfold = user_kfold(dataset)
    assert kfold.extra["fold_sizes"] == [189, 189, 189, 188, 188]
    assert len(kfold.train_users) == 565


def _counted_users() -> Dataset:
    """13 users with 2, 3 or 8 distinct items (items 0.. of a shared range), three anchors
    holding every item, one duplicated row and two users without interactions."""
    counts = [2, 3, 2, 3, 8, 8, 2, 3, 8, 8, 8, 8, 8]
    rows = [(u, i, i) for u, n in enumerate(counts) for i in range(n)]
    rows += [(u, i, i) for u in (13, 14, 15) for i in range(8)] + [(0, 0, 5)]
    return build(rows, 18, np.arange(100, 108))


@pytest.mark.parametrize(
    ("fraction", "inputs"), [(0.2, {2: 1, 3: 1, 8: 1}), (0.9, {2: 1, 3: 2, 8: 7})]
)
def test_user_kfold_input_sizes_and_min_items_by_hand(fraction, inputs):
    dataset = _counted_users()
    full = dataset.matrix()
    tested = []
    for fold in range(4):
        split = user_kfold(dataset, n_folds=4, fold=fold, input_fraction=fraction, seed=3)
        for evalset in (split.test, split.valid):
            for user in evalset.users.tolist():
                n = len(row_items(full, user))
                known, target = row_items(evalset.known, user), row_items(evalset.target, user)
                assert (len(known), len(target)) == (inputs[n], n - inputs[n]), (user, n)
        tested += split.test.users.tolist()
    # users with exactly min_items (2) usable items are kept: every active user is tested
    assert sorted(tested) == list(range(16))


def test_user_kfold_defaults_and_counts_by_hand():
    dataset = _counted_users()
    split = user_kfold(dataset)
    assert split.params == {
        "n_folds": 5,
        "fold": 0,
        "seed": 42,
        "input_fraction": 0.2,
        "valid": True,
        "min_items": 2,
    }
    assert split.dataset is dataset
    assert split.train_users.dtype == np.int64
    sizes = split.extra["fold_sizes"]
    assert sizes == [4, 3, 3, 3, 3]
    assert split.extra["n_train_users"] == len(split.train_users) == 9
    assert split.extra["n_valid_users"] == len(split.valid.users) == 3
    assert split.extra["n_test_users"] == len(split.test.users) == 4
    assert split.extra["n_valid_dropped"] == split.extra["n_test_dropped"] == 0
    assert split.extra["n_without_interactions"] == 2
    assert split.extra["n_duplicate_rows"] == 1
    assert split.extra["n_train_interactions"] == split.train.nnz


def test_user_kfold_without_validation_trains_on_every_other_user():
    dataset = _counted_users()
    full = dataset.matrix()
    for fold in range(4):
        split = user_kfold(dataset, n_folds=4, fold=fold, valid=False)
        assert split.valid is None
        assert split.extra["n_valid_users"] == 0 and split.extra["n_valid_dropped"] == 0
        train = set(split.train_users.tolist())
        assert train | set(split.test.users.tolist()) == set(range(16))
        for user in train:  # whole rows, none of them held out as validation
            assert row_items(split.train, user) == row_items(full, user)


def test_split_errors_name_the_interactions():
    three_users = build([(u, 0, 0) for u in range(3)] + [(u, 1, 1) for u in range(3)], 5, [1, 2])
    with pytest.raises(DataError) as few:
        user_kfold(three_users)
    with pytest.raises(DataError) as no_test:
        user_kfold(three_users, n_folds=3, min_items=3)
    assert few.value.field == no_test.value.field == "interactions"


def test_item_ids_that_cannot_be_ordered_are_a_clear_error():
    mixed = build([(0, 0, 1), (0, 1, 1), (1, 0, 2), (1, 1, 3)], 2, np.array([1, "a"], dtype=object))
    with pytest.raises(DataError, match="cannot be ordered.*ties='file_order'") as error:
        leave_one_out(mixed, ties="item_id")
    assert error.value.field == "item_ids"
    assert leave_one_out(mixed, ties="file_order", valid=False).test.users.tolist() == [0, 1]
