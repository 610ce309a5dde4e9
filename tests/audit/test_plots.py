"""PNG figures: projections (PCA, t-SNE, before | after) and leakage bars."""

from __future__ import annotations

import numpy as np

from recunlearn.audit import audit
from recunlearn.audit.inputs import AttributeTable, EmbeddingTable
from recunlearn.report.audit_figures import plot_leakage, plot_projection

PNG = b"\x89PNG"


def _tables(planted_data, n=80):
    ids = planted_data["ids"][:n]
    attributes = AttributeTable.from_mapping(
        {k: (a, v[:n]) for k, (a, v) in planted_data["attributes"].items()}, ids=ids
    )
    before = EmbeddingTable(planted_data["X"][:n], ids)
    after = EmbeddingTable(planted_data["X"][:n][::-1], ids[::-1])  # other row order
    return before, after, attributes


def test_projections_side_by_side(tmp_path, planted_data):
    before, after, attributes = _tables(planted_data)
    for method in ("pca", "tsne"):
        out = plot_projection(
            [("before", before), ("after", after)],
            attributes,
            tmp_path / f"{method}.png",
            method=method,
            max_points=50,
        )
        assert out.read_bytes()[:4] == PNG


def test_leakage_bars(tmp_path, planted_data):
    report = audit(
        planted_data["X"],
        planted_data["attributes"],
        attackers=["logreg", "knn"],
        n_folds=2,
        n_jobs=1,
        progress=False,
    )
    out = plot_leakage(report, tmp_path / "leakage.png")
    assert out.read_bytes()[:4] == PNG
    assert np.isfinite(report.summary()["seconds"]).all()
