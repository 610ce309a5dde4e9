"""Report tables in the papers' layouts, with the papers' numbers beside ours.

Cells are mean ± sample std over seeds (folds for AdvX), in percent. A cell is marked
*worse than the paper* when its mean is on the wrong side of the paper's mean: lower HR /
NDCG / Recall; higher attacker BAcc / F1 or lower MAE for a method that unlearns (the
``original`` / base rows are not marked on leakage, which is not their goal). Every cell
links to the records it was computed from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from recunlearn.report import reference
from recunlearn.report.adversarial import (
    best_debiasing,
    cell_table,
    full_grid_fold,
    latest_per_replicate,
    records_frame,
    variant,
)
from recunlearn.report.format import mean_std, pct
from recunlearn.report.frames import (
    method_rank,
    model_name,
    reference_method,
    requirement_label,
)

HIGHER_IS_BETTER = {"HR@10": True, "NDCG@10": True, "Recall@10": True, "BAcc": False, "F1": False}


@dataclass
class TCell:
    """One table cell: our text, the paper's text, whether we are worse, record links."""

    text: str
    paper: str | None = None
    worse: bool = False
    links: tuple[str, ...] = ()

    def markdown(self) -> str:
        """``48.20 ± 1.10 (paper 47.27) ▼``."""
        text = self.text
        if self.paper is not None:
            text += f" ({self.paper})"
        return text + (" ▼" if self.worse else "")


@dataclass
class Table:
    """A titled table with notes under it; ``key`` names what it shows (``base_models``,
    ``removal``...), so a summary document can pick it from a report."""

    title: str
    header: list[str]
    rows: list[list[TCell]]
    notes: list[str] = field(default_factory=list)
    key: str = ""


def paper_text(value: list[float | None] | None) -> str | None:
    """``paper 47.27 ± 2.10`` from a reference ``[mean, std]``."""
    if not value:
        return None
    mean, std = value[0], value[1] if len(value) > 1 else None
    return f"paper {mean:.2f}" + (f" ± {std:.2f}" if std is not None else "")


def worse_than(ours: float, paper: list[float | None] | None, higher_is_better: bool) -> bool:
    """Is our mean (fraction) on the wrong side of the paper's (percent)?"""
    if not paper or ours is None or (isinstance(ours, float) and math.isnan(ours)):
        return False
    value = 100.0 * ours
    return value < paper[0] if higher_is_better else value > paper[0]


def _cell(
    part: pd.DataFrame,
    column: str,
    paper: list[float | None] | None = None,
    *,
    higher_is_better: bool | None = None,
    mark: bool = True,
) -> TCell:
    mean, std, n = mean_std(part[column]) if column in part else (math.nan, None, 0)
    worse = mark and higher_is_better is not None and worse_than(mean, paper, higher_is_better)
    return TCell(pct(mean, std), paper_text(paper), worse, tuple(part["record"]))


def _text(value: Any) -> TCell:
    return TCell(str(value))


def _comparable_note(dataset: str, known: set[str]) -> list[str]:
    if dataset in known:
        return []
    similar = [k for k in known if dataset.startswith(k)]
    if similar:
        return [
            f"**{dataset} is not the paper's {similar[0]}**: the papers' numbers are not shown "
            "beside these results, which must not be compared with them."
        ]
    return [f"The papers report no numbers on {dataset}."]


# ----------------------------------------------------------------------- LEGO Table 1
def lego_table1(frame: pd.DataFrame) -> list[Table]:
    """LEGO Table 1 layout per dataset: rows model x method, columns requirement x {BAcc,
    F1, NDCG@10, worst-case BAcc}; the paper's MLP attacker's BAcc / F1, averaged over the
    requirement's attributes."""
    if frame.empty:
        return []
    tables = []
    known = reference.lego_datasets()
    for dataset, part in frame.groupby("dataset", sort=False):
        requirements = sorted(part["requirement"].unique(), key=lambda r: (len(r), r))
        ranks = method_rank(list(dict.fromkeys(part["method"])))
        header = ["model", "method"]
        for req in requirements:
            label = requirement_label(req)
            header += [
                f"{label}: BAcc",
                f"{label}: F1",
                f"{label}: NDCG@10",
                f"{label}: worst BAcc",
            ]
        rows = []
        for model in dict.fromkeys(part["model"]):
            by_model = part[part["model"] == model]
            for method in sorted(by_model["method"].unique(), key=lambda m: ranks[m]):
                row = [_text(model_name(model)), _text(method)]
                unlearns = method != "original"
                for req in requirements:
                    cell = by_model[
                        (by_model["method"] == method) & (by_model["requirement"] == req)
                    ]
                    if cell.empty:
                        row += [TCell("–")] * 4
                        continue
                    ref = reference.lego_table1(dataset, model, req, reference_method(method))
                    values = ref["values"] if ref else {}
                    row += [
                        _cell(
                            cell,
                            "paper_bacc",
                            values.get("BAcc"),
                            higher_is_better=False,
                            mark=unlearns,
                        ),
                        _cell(
                            cell,
                            "paper_f1",
                            values.get("F1"),
                            higher_is_better=False,
                            mark=unlearns,
                        ),
                        _cell(cell, "NDCG@10", values.get("NDCG@10"), higher_is_better=True),
                        _cell(cell, "worst_bacc"),
                    ]
                rows.append(row)
        seeds = sorted(part["seed"].unique())
        notes = [
            f"Mean ± std over seeds {', '.join(map(str, seeds))} (percent). BAcc / F1: the papers' "
            "MLP attacker (micro-F1 = LEGO's F1), averaged over the requirement's attributes; "
            "worst BAcc: per attribute the attacker farthest from chance (in either "
            "direction: a BAcc far below chance is leakage too), averaged.",
            "▼ / red: worse than the paper (NDCG lower; BAcc or F1 higher for a method that "
            "unlearns).",
            *_comparable_note(dataset, known),
        ]
        tables.append(Table(f"LEGO Table 1 layout — {dataset}", header, rows, notes))
    return tables


def lego_detail(frame: pd.DataFrame) -> list[Table]:
    """One row per dataset x model x requirement x method: HR, NDCG, NDCG relative to the
    original, the papers' attacker, the worst case (with the attackers) and chance."""
    if frame.empty:
        return []
    tables = []
    for dataset, part in frame.groupby("dataset", sort=False):
        ranks = method_rank(list(dict.fromkeys(part["method"])))
        header = [
            "model", "requirement", "method", "seeds", "HR@10", "NDCG@10", "NDCG vs original",
            "paper-MLP BAcc", "paper-MLP F1", "worst BAcc", "worst attackers", "chance BAcc",
            "unlearn s",
        ]  # fmt: skip
        rows = []
        keys = part[["model", "requirement"]].drop_duplicates().itertuples(index=False)
        for model, req in sorted(keys, key=lambda k: (list(part["model"]).index(k[0]), len(k[1]))):
            group = part[(part["model"] == model) & (part["requirement"] == req)]
            base = group[group["method"] == "original"]["NDCG@10"].mean()
            for method in sorted(group["method"].unique(), key=lambda m: ranks[m]):
                cell = group[group["method"] == method]
                ref = reference.lego_table1(dataset, model, req, reference_method(method))
                values = ref["values"] if ref else {}
                ratio = cell["NDCG@10"].mean() / base if base and not math.isnan(base) else math.nan
                attackers = sorted({a for d in cell["worst_attackers"] for a in d.values()})
                seconds = mean_std(cell["unlearn_seconds"])
                rows.append(
                    [
                        _text(model_name(model)),
                        _text(requirement_label(req)),
                        _text(method),
                        _text(len(cell)),
                        _cell(cell, "HR@10", values.get("HR@10"), higher_is_better=True),
                        _cell(cell, "NDCG@10", values.get("NDCG@10"), higher_is_better=True),
                        TCell("–" if math.isnan(ratio) else f"{100 * ratio:.1f} %"),
                        _cell(
                            cell,
                            "paper_bacc",
                            values.get("BAcc"),
                            higher_is_better=False,
                            mark=method != "original",
                        ),
                        _cell(
                            cell,
                            "paper_f1",
                            values.get("F1"),
                            higher_is_better=False,
                            mark=method != "original",
                        ),
                        _cell(cell, "worst_bacc"),
                        _text(", ".join(attackers) or "–"),
                        TCell(pct(cell["chance_bacc"].mean())),
                        TCell(f"{seconds[0]:.2f}" if seconds[2] else "–"),
                    ]
                )
        tables.append(
            Table(
                f"Unlearning detail — {dataset}",
                header,
                rows,
                ["HR / NDCG @10 with the protected matrix swapped in (full ranking)."],
            )
        )
    return tables


def timing_table(frame: pd.DataFrame) -> Table | None:
    """Seconds per request of the dynamic-requirement sequence (LEGO Fig. 3)."""
    if frame.empty:
        return None
    rows = []
    for (dataset, model, method, step), part in frame.groupby(
        ["dataset", "model", "method", "step"], sort=False
    ):
        seconds = mean_std(part["seconds"])
        rows.append(
            [
                _text(dataset),
                _text(model_name(model)),
                _text(method),
                _text(f"{step + 1}. {part['requirement'].iloc[0]}"),
                TCell(
                    f"{seconds[0]:.2f}"
                    + (f" ± {seconds[1]:.2f}" if seconds[1] is not None else ""),
                    links=tuple(dict.fromkeys(part["record"])),
                ),
                _text(int(part["calibrated"].iloc[0]) if part["calibrated"].notna().all() else "–"),
            ]
        )
    header = ["dataset", "model", "method", "request", "seconds", "attributes calibrated"]
    base = frame.groupby(["dataset", "model"])["base_train_seconds"].mean()
    notes = [
        f"Training the base {model_name(m)} on {d}: {s:.1f} s (the dashed line of LEGO Fig. 3)."
        for (d, m), s in base.items()
    ]
    return Table("Dynamic requirements (LEGO Fig. 3): seconds per request", header, rows, notes)


# ------------------------------------------------------------------------ AdvX Table 2
AdvxPick = tuple[str, str, pd.Series | None]
"""(our row label, the paper's row, the picked grid cell)."""


def advx_picks(
    table: pd.DataFrame,
    categorical: str | None,
    continuous: str | None,
    most_replicated: bool = True,
) -> list[AdvxPick]:
    """The rows of AdvX Table 2 from one (dataset, model) cell table: the base model, then
    for each attribute the single-adversary and the simultaneous cell that remove it best
    (picked on test numbers, as the paper does). With ``most_replicated`` only cells measured
    on the most folds compete, so a lucky one-fold cell never passes for a five-fold mean."""

    attributes = [a for a in (categorical, continuous) if a]
    if most_replicated and not table.empty:
        table = table[table["n"] == table["n"].max()]
    kinds = table.apply(lambda row: variant(row, attributes), axis=1)
    base = table[kinds == "base"]
    picks: list[AdvxPick] = [("base (no heads)", "MultVAE", base.iloc[0] if len(base) else None)]
    for attribute, kind, suffix in (
        (categorical, "categorical", "G"),
        (continuous, "continuous", "A"),
    ):
        if not attribute:
            continue
        for prefix, mask in (("Adv", kinds == f"adv:{attribute}"), ("AdvX", kinds == "advx")):
            row = best_debiasing(table, attribute, kind=kind, candidates=mask)
            picks.append((f"{prefix}-{attribute}", f"{prefix}MultVAE-{suffix}", row))
    return picks


def _advx_cell(
    row: pd.Series | None,
    column: str,
    paper: list[float | None] | None,
    higher_is_better: bool | None,
    links: tuple[str, ...],
) -> TCell:
    if row is None or column not in row or pd.isna(row[column]):
        return TCell("–", paper_text(paper))
    std = row.get(f"{column}_std")
    std = None if std is None or pd.isna(std) else float(std)
    worse = higher_is_better is not None and worse_than(float(row[column]), paper, higher_is_better)
    return TCell(pct(float(row[column]), std), paper_text(paper), worse, links)


def advx_table2(
    records: list[dict[str, Any]], link_for: Callable[[pd.Series], tuple[str, ...]]
) -> list[Table]:
    """AdvX Table 2 layout per (dataset, model) of ``user_kfold`` grid records; then, for a
    grid with one fold holding more cells (a full grid beside a few cells rerun on every fold),
    the same layout on that fold alone with the grid's wall time: the paper's pick among all of
    its cells, which shows what choosing on the test numbers among many cells adds."""

    kfold = [r for r in records if str(r.get("protocol", "")).startswith("user_kfold")]
    if not kfold:
        return []
    frame = records_frame(kfold)
    table = cell_table(frame)
    parts = [(key, part, "", True) for key, part in table.groupby(["dataset", "model"], sort=False)]
    walls: dict[tuple, tuple[int, float, int]] = {}
    for key, part in frame.groupby(["dataset", "model"], sort=False):
        chosen, note = full_grid_fold(part)
        if note:
            parts.append((key, cell_table(chosen), note, False))
            grid = latest_per_replicate(chosen[chosen["objective"].isin(["reversal", "none"])])
            walls[key] = (len(grid), grid["wall_seconds"].sum() / 60, chosen["replicate"].nunique())
    tables = []
    for (dataset, model), part, note, replicated in parts:
        part = part.reset_index(drop=True)
        kinds = _attribute_kinds(kfold)
        categorical = next((a for a, k in kinds.items() if k == "categorical"), None)
        continuous = next((a for a, k in kinds.items() if k == "continuous"), None)
        header = ["row", "λ", "NDCG@10", "Recall@10"]
        if categorical:
            header += [f"BAcc {categorical} (AdvX attacker)", f"BAcc {categorical} (worst)"]
        if continuous:
            header += [f"MAE {continuous} (AdvX attacker)", f"MAE {continuous} (worst)"]
        header.append("folds")
        rows = []
        for label, paper_row, row in advx_picks(part, categorical, continuous, replicated):
            ref = reference.advx_table2(dataset, paper_row)
            values = ref["values"] if ref else {}
            links = link_for(row) if row is not None else ()
            unlearns = not label.startswith("base")
            lambdas = (
                "–"
                if row is None or bool(row["base"])
                else ", ".join(
                    f"{a} {row.get(f'lambda:{a}', 0):g}" for a in (categorical, continuous) if a
                )
            )
            cells = [
                TCell(f"{label} ({paper_row})"),
                TCell(lambdas),
                _advx_cell(row, "NDCG@10", values.get("NDCG@10"), True, links),
                _advx_cell(row, "Recall@10", values.get("Recall@10"), True, links),
            ]
            if categorical:
                cells += [
                    _advx_cell(
                        row,
                        f"{categorical}:advx",
                        values.get("BAcc_G"),
                        False if unlearns else None,
                        links,
                    ),
                    _advx_cell(row, f"{categorical}:worst", None, None, links),
                ]
            if continuous:
                cells += [
                    _advx_cell(
                        row,
                        f"{continuous}:advx",
                        values.get("MAE_A"),
                        True if unlearns else None,
                        links,
                    ),
                    _advx_cell(row, f"{continuous}:worst", None, None, links),
                ]
            cells.append(TCell("–" if row is None else str(int(row["n"]))))
            rows.append(cells)
        notes = [
            "Percent; MAE on the scaled age (AdvX: age / 60 on ML-1M). λ picks use the test "
            "numbers, as AdvX reports its best-debiasing cells: optimistic. `AdvX attacker`: "
            "the AdvX attacker protocol; `worst`: worst case over the audit attackers.",
            "▼ / red: worse than the paper (NDCG / Recall lower; BAcc higher or MAE lower "
            "for a row that removes).",
            *_comparable_note(
                dataset, {r["dataset"] for r in reference.load_reference()["advx_table2"]["rows"]}
            ),
        ]
        if note:
            count, minutes, folds = walls[(dataset, model)]
            notes.append(
                f"Wall time of the grid's {count} cells (base included; train + attack, one "
                f"thread, {folds} fold(s)): {minutes:.0f} min."
            )
        cells = part[~part["base"].astype(bool)]["cell"].nunique()
        title = f"AdvX Table 2 layout — {dataset} · {model_name(model)}"
        if note:
            title += f"{note}, {cells} λ cells"
        tables.append(Table(title, header, rows, notes))
    return tables


def _attribute_kinds(records: Sequence[dict[str, Any]]) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for record in records:
        for leakage in (record.get("leakage") or {}).values():
            for name, entry in leakage.items():
                kinds.setdefault(name, entry.get("kind", "categorical"))
    return kinds


def _fraction(mean: float, std: float | None) -> str:
    """``0.754 ± 0.003`` (fractions, as ULTD prints them), ``–`` when missing."""
    if math.isnan(mean):
        return "–"
    return f"{mean:.3f}" + (f" ± {std:.3f}" if std is not None else "")


def ultd_table1(frame: pd.DataFrame) -> list[Table]:
    """ULTD Table 1 layout: per dataset, methods x (AUC, NDCG@5, Recall@5) beside the paper.

    Values are fractions as the paper prints them. NDCG / Recall are over users with a positive
    test item (``positive_only``, Recall = hits / #pos); the all-users convention (no-positive
    NDCG = 1, Recall = hits / min(K, #pos)) is shown beside them, without paper numbers, since
    the paper does not state its convention.
    """
    if frame.empty:
        return []
    paper_all = reference.load_reference().get("ultd_table1", {})
    out = []
    for dataset, part in frame.groupby("dataset", sort=False):
        paper = paper_all.get(str(dataset).lower(), {})
        rows = []
        for method, rows_of in part.groupby("method", sort=False):
            ref = paper.get(method)
            cells = [_text(method), _text(len(rows_of))]
            for i, column in enumerate(("AUC", "NDCG@5", "Recall@5")):
                mean, std, _ = mean_std(rows_of[column])
                value = [100.0 * ref[i]] if ref else None
                worse = worse_than(mean, value, higher_is_better=True)
                paper_value = f"paper {ref[i]:.3f}" if ref else None
                links = tuple(rows_of["record"])
                cells.append(TCell(_fraction(mean, std), paper_value, worse, links))
            for column in ("NDCG@5 (all users)", "Recall@5 (all users, min(K, #pos))"):
                mean, std, _ = mean_std(rows_of[column])
                cells.append(TCell(_fraction(mean, std), links=tuple(rows_of["record"])))
            rows.append(cells)
        header = [
            "method",
            "seeds",
            "AUC",
            "NDCG@5",
            "Recall@5",
            "NDCG@5 (all users)",
            "Recall@5 (all users, min(K, #pos))",
        ]
        notes = [
            "Paper: " + str(paper_all.get("_source", "ULTD Table 1")),
            "NDCG@5 / Recall@5: users with a positive test item, Recall = hits / #pos.",
        ]
        out.append(Table(f"ULTD Table 1 — {dataset}", header, rows, notes))
    return out
