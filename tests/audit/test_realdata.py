"""ML-100K (skipped without ../shared/data): every attribute passes the checks, gender leaks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import TruncatedSVD

from recunlearn.audit import audit
from recunlearn.data.loading import load_dataset

from ..conftest import shared_data


@pytest.mark.realdata
def test_ml100k_interaction_svd_leaks_gender():
    dataset = load_dataset("ml-100k", shared_data("ml-100k"))
    X = TruncatedSVD(16, random_state=0).fit_transform(dataset.matrix())
    order = np.random.default_rng(0).permutation(dataset.n_users)  # ids carry the join
    report = audit(
        X[order],
        dataset,
        ids=dataset.user_ids[order],
        attackers=["logreg"],
        n_jobs=1,
        progress=False,
    )
    assert report.meta["join"]["n_matched"] == 943
    per = report.meta["per_attribute"]
    assert per["occupation"]["n_used"] == 943 and len(per["occupation"]["classes"]) == 21
    summary = report.summary().set_index("attribute")
    assert summary.loc["gender", "bacc_mean"] > 0.6  # well above chance 0.5
    assert summary.loc["age_raw", "mae_mean"] < summary.loc["age_raw", "chance_mae_mean"]
