"""audit(): planted signal found, no false leakage, join by id, fixed test users, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.dummy import DummyClassifier, DummyRegressor

from recunlearn.audit import DEFAULT_ATTACKERS, AttackerSpec, audit
from recunlearn.audit import core as audit_core
from recunlearn.audit.io import read_attributes, read_embeddings
from recunlearn.core.errors import ConfigError, DataError
from recunlearn.data.types import Attribute

from .conftest import GENDER, NOISE, planted

FAST = ("paper_mlp", "knn")
SHUFFLED = ["gender", "age_raw"]


def _run(data, **kwargs):
    kwargs.setdefault("n_jobs", 1)
    kwargs.setdefault("progress", False)
    return audit(data["X"], data["attributes"], **kwargs)


def test_planted_signal_found_and_independent_label_at_chance_for_every_attacker(planted_data):
    report = _run(
        planted_data, attackers=DEFAULT_ATTACKERS, n_folds=3, select=["gender", "noise", "age_raw"]
    )
    assert len(report.records) == 6 * 3 * 3  # attackers x attributes x folds
    summary = report.summary().set_index(["attribute", "attacker"])
    for attacker in DEFAULT_ATTACKERS:
        gender = summary.loc[("gender", attacker)]
        assert gender["bacc_mean"] > 0.75, attacker
        assert gender["auc_mean"] > 0.8, attacker
        noise = summary.loc[("noise", attacker)]
        # within 3 standard deviations of a guesser's BAcc (about 0.087 for 300 users)
        assert abs(noise["bacc_mean"] - 0.5) < 3 * noise["bacc_null_sd"], attacker
        assert abs(noise["bacc_z"]) < 3, attacker
        age = summary.loc[("age_raw", attacker)]
        assert age["mae_mean"] < age["chance_mae_mean"], attacker
    worst = report.worst_case().set_index("attribute")
    assert worst.loc["gender", "bacc_gap"] > 0.25


def test_rows_shuffled_with_ids_give_identical_results(planted_data):
    n = len(planted_data["X"])
    order = np.random.default_rng(1).permutation(n)
    aligned = _run(
        planted_data,
        ids=planted_data["ids"],
        attribute_ids=planted_data["ids"],
        attackers=FAST,
        n_folds=3,
        seeds=(0, 1),
        select=SHUFFLED,
    )
    # embeddings shuffled, attributes in the original order: only the ids tie them together
    shuffled = audit(
        planted_data["X"][order],
        planted_data["attributes"],
        ids=planted_data["ids"][order],
        attribute_ids=planted_data["ids"],
        attackers=FAST,
        n_folds=3,
        seeds=(0, 1),
        select=SHUFFLED,
        n_jobs=1,
        progress=False,
    )
    columns = ["attribute", "attacker", "seed", "fold", "bacc", "auc", "mae", "r2"]
    pd.testing.assert_frame_equal(aligned.records[columns], shuffled.records[columns])
    assert shuffled.meta["join"]["join"] == "id"


def test_partial_id_overlap_is_counted(planted_data):
    ids = planted_data["ids"].copy()
    ids[:20] += 10_000  # 20 embedding users without attributes
    report = _run(
        planted_data,
        ids=ids,
        attribute_ids=planted_data["ids"],
        attackers=["logreg"],
        select=["gender"],
    )
    join = report.meta["join"]
    assert (join["n_matched"], join["n_embedding_only"], join["n_attribute_only"]) == (280, 20, 20)
    assert report.meta["per_attribute"]["gender"]["n_used"] == 280
    with pytest.raises(DataError, match="ids differ"):
        _run(planted_data, ids=ids, attribute_ids=planted_data["ids"], strict_ids=True)


class _Spy:
    """Records the first embedding column (= the user's row number) of every training set."""

    seen: list[np.ndarray] = []

    def __init__(self):
        self.inner = DummyClassifier(strategy="stratified", random_state=0)

    def fit(self, X, y):
        _Spy.seen.append(X[:, 0].astype(int))
        self.inner.fit(X, y)
        self.classes_ = self.inner.classes_
        return self

    def predict(self, X):
        return self.inner.predict(X)

    def predict_proba(self, X):
        return self.inner.predict_proba(X)


def test_fixed_test_users_train_only_on_the_others():
    n = 60
    rng = np.random.default_rng(0)
    X = np.column_stack([np.arange(n), rng.normal(size=n)])  # column 0 = row number
    labels = np.arange(n) % 2
    labels[5] = -1  # unlabelled: neither trained nor tested
    test = np.zeros(n, dtype=bool)
    test[40:] = True
    spy = AttackerSpec("spy", "records training rows", lambda s: _Spy(), lambda s: DummyRegressor())
    _Spy.seen = []
    report = audit(
        X,
        {"gender": (GENDER, labels)},
        attackers=[spy],
        test_users=test,
        seeds=(0, 1),
        n_jobs=1,
        progress=False,
    )
    assert len(_Spy.seen) == 2  # once per seed
    expected = np.setdiff1d(np.arange(40), [5])
    for rows in _Spy.seen:
        np.testing.assert_array_equal(np.sort(rows), expected)
    assert set(report.records["n_test"]) == {20} and set(report.records["n_train"]) == {39}
    assert report.meta["protocol"] == "fixed_test"
    assert report.meta["per_attribute"]["gender"]["n_test_users"] == 20
    # index form of the same test set gives the same records
    _Spy.seen = []
    again = audit(
        X,
        {"gender": (GENDER, labels)},
        attackers=[spy],
        test_users=np.arange(40, 60),
        seeds=(0, 1),
        n_jobs=1,
        progress=False,
    )
    pd.testing.assert_frame_equal(
        report.records.drop(columns=["fit_seconds", "predict_seconds"]),
        again.records.drop(columns=["fit_seconds", "predict_seconds"]),
    )


def test_records_per_attacker_attribute_fold_seed_and_metadata(planted_data):
    report = _run(
        planted_data, attackers=FAST, n_folds=4, seeds=(0, 1, 2), select=["gender", "age_raw"]
    )
    assert len(report.records) == 2 * 2 * 4 * 3
    counts = report.records.groupby(["attribute", "attacker"]).size()
    assert set(counts) == {12}
    meta = report.meta
    assert meta["seeds"] == [0, 1, 2] and meta["n_folds"] == 4
    assert meta["per_attribute"]["gender"]["chance_bacc"] == 0.5
    assert meta["per_attribute"]["age_raw"]["chance_mae"] > 0
    assert set(meta["attacker_seconds"]) == set(FAST)


def test_dataset_and_tensor_inputs(tiny_dataset):
    X = torch.randn(tiny_dataset.n_users, 4, generator=torch.Generator().manual_seed(0))
    X[:, 0] += torch.as_tensor(tiny_dataset.labels("gender") * 3.0, dtype=torch.float32)
    report = audit(X, tiny_dataset, attackers=["logreg"], n_folds=3, n_jobs=1, progress=False)
    assert report.attributes == ["gender", "age_raw"]
    assert report.summary().set_index("attribute").loc["gender", "bacc_mean"] > 0.8


def test_unlabelled_users_are_left_out_and_counted(planted_data):
    gender = planted_data["attributes"]["gender"][1].copy()
    gender[:30] = -1
    report = audit(
        planted_data["X"],
        {"gender": (GENDER, gender)},
        attackers=["logreg"],
        n_jobs=1,
        progress=False,
    )
    info = report.meta["per_attribute"]["gender"]
    assert (info["n_left_out_no_label"], info["n_used"]) == (30, 270)
    assert report.records["n_test"].sum() == 270


def test_stratified_sample_is_reported(planted_data):
    report = _run(planted_data, attackers=["logreg"], sample=100, select=["gender"])
    assert report.meta["per_attribute"]["gender"]["sample_size"] == 100
    assert report.records["n_test"].sum() == 100


def test_parallel_jobs_give_the_same_records(planted_data, monkeypatch):
    monkeypatch.setattr(audit_core, "MIN_PARALLEL_ROWS", 0)
    kwargs = {"attackers": FAST, "n_folds": 2, "select": ["gender", "age_raw"]}
    serial = _run(planted_data, **kwargs)
    parallel = _run(planted_data, n_jobs=2, **kwargs)
    assert parallel.meta["workers"] == 2
    columns = ["attribute", "attacker", "seed", "fold", "bacc", "micro_f1", "auc", "mae", "r2"]
    pd.testing.assert_frame_equal(serial.records[columns], parallel.records[columns])


# ------------------------------------------------------------------------------ bad input
def test_nan_embeddings_name_file_and_field(tmp_path, planted_data):
    frame = pd.DataFrame(planted_data["X"], columns=[f"e{j}" for j in range(8)])
    frame.insert(0, "user_id", planted_data["ids"])
    frame.loc[3, "e2"] = np.nan
    path = tmp_path / "emb.parquet"
    frame.to_parquet(path)
    table = read_embeddings(path)
    with pytest.raises(DataError, match=r"emb.parquet'.*field 'e2': 1 NaN or infinite"):
        audit(table, planted_data["attributes"], attribute_ids=planted_data["ids"], progress=False)


def test_single_class_and_rare_class(planted_data):
    X = planted_data["X"]
    labels = np.zeros(len(X), dtype=int)
    labels[:10] = -1
    with pytest.raises(DataError, match="field 'gender': a single class \\('F'\\)"):
        audit(X, {"gender": (GENDER, labels)}, progress=False, n_jobs=1)
    occupation = Attribute("occupation", "categorical", ("a", "b", "c"))
    codes = np.arange(len(X)) % 2
    codes[:3] = 2  # 3 members < 5 folds
    with pytest.raises(DataError, match="field 'occupation': class\\(es\\) 'c' \\(3\\)"):
        audit(X, {"occupation": (occupation, codes)}, progress=False, n_jobs=1)
    report = audit(
        X,
        {"occupation": (occupation, codes)},
        attackers=["logreg"],
        rare_classes="drop",
        progress=False,
        n_jobs=1,
    )
    info = report.meta["per_attribute"]["occupation"]
    assert (info["n_dropped_rare"], info["dropped_classes"]) == (3, ["c"])
    # chance is 1 / the classes present after the drop (2), not 1 / every class of the attribute
    assert info["chance_bacc"] == pytest.approx(0.5)
    assert set(report.records["chance_bacc"]) == {0.5}
    assert report.worst_case().iloc[0]["chance_bacc_mean"] == pytest.approx(0.5)


def test_file_inputs_name_the_file(tmp_path, planted_data):
    ids = planted_data["ids"]
    path = tmp_path / "users.csv"
    gender = np.array(["M"] * len(ids), dtype=object)
    gender[-3:] = "F"  # 3 members < 5 folds
    frame = pd.DataFrame({"user_id": ids, "gender": gender})
    frame.to_csv(path, index=False)
    table = read_attributes(path)
    with pytest.raises(DataError, match=r"users.csv'.*field 'gender': class\(es\) 'F' \(3\)"):
        audit(planted_data["X"], table, ids=ids, progress=False)
    emb = tmp_path / "emb.csv"
    other = pd.DataFrame(planted_data["X"][:5], columns=[f"e{j}" for j in range(8)])
    other.insert(0, "user_id", [1, 2, 3, 4, 5])
    other.to_csv(emb, index=False)
    with pytest.raises(DataError, match=r"emb.csv'.*field 'user_id': no user id is shared"):
        audit(read_embeddings(emb), table, progress=False)
    dup = tmp_path / "dup.csv"
    other.assign(user_id=[1, 1, 2, 3, 4]).to_csv(dup, index=False)
    with pytest.raises(DataError, match=r"dup.csv'.*field 'user_id': 1 duplicated"):
        audit(read_embeddings(dup), table, progress=False)


def test_continuous_text_in_a_mapping(planted_data):
    text = np.array(["young"] * len(planted_data["X"]), dtype=object)
    with pytest.raises(DataError, match="field 'age_raw': continuous attribute given as text"):
        audit(
            planted_data["X"],
            {"age_raw": (planted()["attributes"]["age_raw"][0], text)},
            progress=False,
        )


def test_bad_options(planted_data):
    with pytest.raises(ConfigError, match="n_folds"):
        _run(planted_data, n_folds=1)
    with pytest.raises(ConfigError, match="unknown attacker"):
        _run(planted_data, attackers=["nope"])
    with pytest.raises(ConfigError, match="seeds"):
        _run(planted_data, seeds=())
    with pytest.raises(DataError, match="no such attribute"):
        _run(planted_data, select=["height"])
    with pytest.raises(ConfigError, match="mask"):
        _run(planted_data, test_users=np.ones(3, dtype=bool))
    with pytest.raises(DataError, match="no labelled user among the test users"):
        audit(
            planted_data["X"],
            {"noise": (NOISE, planted_data["attributes"]["noise"][1])},
            test_users=np.zeros(len(planted_data["X"]), dtype=bool),
            progress=False,
        )


def test_transfer_attack_reads_a_flipped_attribute_far_below_chance(planted_data):
    """Negating the gender direction fools nobody trained on the protected rows, and an
    attacker trained on the original rows then scores far *below* chance: the flip signature."""
    X = planted_data["X"]
    flipped = X.copy()
    flipped[:, 0] = -flipped[:, 0]
    attrs = {"gender": planted_data["attributes"]["gender"]}
    common = dict(attackers=["logreg"], progress=False, n_jobs=1)
    same = audit(flipped, attrs, **common).worst_case().set_index("attribute").loc["gender"]
    transfer = audit(flipped, attrs, train_embeddings=X, **common)
    row = transfer.worst_case().set_index("attribute").loc["gender"]
    assert same["bacc_mean"] > 0.85
    assert row["bacc_mean"] < 0.15
    assert transfer.meta["transfer"] and transfer.meta["protocol"] == "kfold_transfer"
    with pytest.raises(ConfigError, match="same users"):
        audit(flipped, attrs, train_embeddings=X[:-1], **common)


def test_permuted_labels_give_the_floor_of_the_metric(planted_data):
    attrs = {"gender": planted_data["attributes"]["gender"]}
    report = audit(planted_data["X"], attrs, attackers=["logreg"], permute_labels=3, progress=False)
    gap = report.worst_case().set_index("attribute").loc["gender"]["bacc_mean"] - 0.5
    assert abs(gap) < 0.08 and report.meta["protocol"] == "kfold_permuted"


# ------------------------------------------------------------------ pinned defaults and edges
def test_default_is_five_stratified_folds(planted_data):
    report = audit(
        planted_data["X"],
        planted_data["attributes"],
        attackers=["logreg"],
        select=["gender"],
        seeds=(0,),
        n_jobs=1,
        progress=False,
    )
    assert sorted(report.records["fold"]) == [0, 1, 2, 3, 4]
    assert report.records["n_test"].sum() == len(planted_data["X"])


def test_a_sample_of_every_labelled_user_is_the_full_audit(planted_data):
    """sample == the labelled count is no sample at all (not a split of n into n and 0)."""
    kwargs = {"attackers": ["logreg"], "n_folds": 3, "select": ["gender"]}
    full = _run(planted_data, **kwargs)
    same = _run(planted_data, sample=len(planted_data["X"]), **kwargs)
    assert same.meta["per_attribute"]["gender"]["sample_size"] is None
    columns = ["seed", "fold", "bacc", "auc", "n_test"]
    pd.testing.assert_frame_equal(full.records[columns], same.records[columns])


def test_too_few_continuous_labels_for_the_folds_names_the_field(planted_data):
    age = np.full(len(planted_data["X"]), np.nan)
    age[:3] = [20.0, 30.0, 40.0]
    with pytest.raises(DataError, match="field 'age_raw': 3 labelled users for 5 folds"):
        audit(
            planted_data["X"],
            {"age_raw": (planted()["attributes"]["age_raw"][0], age)},
            progress=False,
            n_jobs=1,
        )


def test_no_attribute_to_audit_names_the_attribute_file(tmp_path, planted_data):
    path = tmp_path / "users.csv"
    pd.DataFrame({"user_id": planted_data["ids"], "gender": ["M", "F"] * 150}).to_csv(
        path, index=False
    )
    with pytest.raises(DataError, match="users.csv'.*no attribute to audit") as caught:
        audit(
            planted_data["X"],
            read_attributes(path),
            ids=planted_data["ids"],
            select=[],
            progress=False,
        )
    assert caught.value.path == path


def test_attacker_seeds_are_stable_across_releases():
    """Recorded audits reproduce bit for bit only while the seed derivation stays the same:
    these values are the ones every committed record was made with."""
    assert audit_core.derive_seed(0, 0, "gender", "logreg") == 610612752
    assert audit_core.derive_seed(2, 4, "age", "knn") == 25685235


def test_error_messages_name_what_is_wrong(planted_data):
    X = planted_data["X"]
    n = len(X)
    with pytest.raises(DataError, match="field 'gender': no matched user has a label"):
        audit(X, {"gender": (GENDER, np.full(n, -1))}, progress=False)
    with pytest.raises(ConfigError, match=f"test_users mask has 3 entries for {n} embedding rows"):
        audit(X, planted_data["attributes"], test_users=np.ones(3, dtype=bool), progress=False)
    # held-out view whose training users all share one class: the message names that class
    gender = np.asarray(planted_data["attributes"]["gender"][1]).copy()
    test = gender == 0
    test[:5] = True  # some 'M' users among the test users too
    gender[~test] = 1
    with pytest.raises(
        DataError, match=r"field 'gender': a single class \('M'\) among the training users"
    ):
        audit(X, {"gender": (GENDER, gender)}, test_users=test, progress=False)
