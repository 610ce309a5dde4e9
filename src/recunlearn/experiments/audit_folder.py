"""The audit output folder, written atomically (complete or absent).

Contents::

    records.json            meta + one record per attacker x attribute x fold x seed
    summary.md              the markdown summary (recunlearn.report.audit.render_markdown)
    leakage.png             leakage vs chance per attacker and attribute
    projection_pca.png      PCA of the embeddings coloured by each attribute
                            (before | after side by side when a comparison table is given)
    projection_tsne.png     the same with t-SNE (<= 3,000 users), unless disabled
"""

from __future__ import annotations

from pathlib import Path

from recunlearn.audit.inputs import AttributeTable, EmbeddingTable
from recunlearn.audit.leakage_report import LeakageReport
from recunlearn.core.atomic import atomic_directory
from recunlearn.report.audit import render_markdown
from recunlearn.report.audit_figures import plot_leakage, plot_projection

RECORDS = "records.json"
SUMMARY = "summary.md"
LEAKAGE_PNG = "leakage.png"
PROJECTION_PNG = "projection_{method}.png"


def write_audit_folder(
    report: LeakageReport,
    out: str | Path,
    *,
    embeddings: EmbeddingTable | None = None,
    attributes: AttributeTable | None = None,
    compare: EmbeddingTable | None = None,
    labels: tuple[str, str] = ("audited", "compared"),
    tsne: bool = True,
    overwrite: bool = False,
    seed: int = 0,
) -> Path:
    """Write records, summary and figures into ``out`` (a temporary folder renamed at the end).

    Args:
        report: the audit's report.
        out: the folder to create.
        embeddings: the audited table (for the projections; none drawn without it).
        attributes: the attributes used to colour the projections (restricted to the audited
            attributes).
        compare: a second table drawn beside the first (e.g. before / after unlearning).
        labels: column titles of the two tables.
        tsne: draw the t-SNE projection too (about 10-30 s for 3,000 users on one core).
        overwrite: replace an existing ``out``.
        seed: seed of the projections' user sample and of t-SNE.

    Raises:
        ConfigError: ``out`` exists and ``overwrite`` is false.
    """
    out = Path(out)
    with atomic_directory(out, overwrite=overwrite, kind="audit") as tmp:
        report.to_json(tmp / RECORDS)
        (tmp / SUMMARY).write_text(render_markdown(report) + "\n")
        plot_leakage(report, tmp / LEAKAGE_PNG)
        if embeddings is not None and attributes is not None:
            shown = attributes.select(report.attributes)
            tables = [(labels[0], embeddings)]
            if compare is not None:
                tables.append((labels[1], compare))
            methods = ("pca", "tsne") if tsne else ("pca",)
            for method in methods:
                target = tmp / PROJECTION_PNG.format(method=method)
                plot_projection(tables, shown, target, method=method, seed=seed)
    return out
