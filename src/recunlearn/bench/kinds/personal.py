"""``personal`` cells: one method served per user on a trained base run (the AFRL paper's
Table 2 protocol).

The method is fitted once on the base run's user matrix (per-user methods train through the
frozen scorer; LEGO and the other removal methods read and write the shared brick store),
then serves every column of the section (see :class:`~recunlearn.bench.config.
PersonalSettings`): each requirement given to every user, the empty requirement, and a mixed
table where each user draws one requirement (seeded by the cell's seed). Per column:

* recommendation: the base run's test evaluation (its protocol: for ``afrl_loo_sampled99``
  1 + 99 sampled negatives fixed by seed) with the served matrix swapped in; per-user HR@10 and
  NDCG@10 go to the sidecar (``NDCG@10|<column>``) for the Wilcoxon tests;
* attack (transductive, stratified k-fold over the labelled users, audit seed = the cell's
  seed): the AFRL paper's ``afrl_mlp`` -- per attribute its AUC folded to max(AUC, 1 - AUC),
  and averaged over the requirement's attributes (the paper's number) -- and the worst of the
  audit attackers, in points from chance, per attribute. A uniform column attacks every
  attribute (the kept ones must stay readable); the mixed column attacks each attribute over
  the users who asked for it;
* held-out view (``heldout_fraction > 0``): a second fit without the labels of a share of the
  users, served the same columns, attacked by training on the other users and testing on them.

``original`` cells serve the base matrix unchanged (one audit, the same for every column).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from recunlearn.bench.registry import CellContext, CellOutput, register_kind

EMPTY = "none"
MIXED = "mixed"


def column_tables(settings: dict[str, Any], n_users: int, seed: int) -> list[tuple[str, Any]]:
    """``(label, PersonalRequirement)`` per column: ``gender+age``..., ``none``, ``mixed``."""
    from recunlearn.protect.personal import PersonalRequirement

    attributes = settings["attributes"]
    out = [
        ("+".join(names), PersonalRequirement.uniform(n_users, attributes, names))
        for names in settings["requirements"]
    ]
    if settings["empty"]:
        out.append((EMPTY, PersonalRequirement.uniform(n_users, attributes, None)))
    if settings["mixed"]:
        choices = [tuple(r) for r in settings["requirements"]]
        table = PersonalRequirement.random(n_users, attributes, seed, choices=choices)
        out.append((MIXED, table))
    return out


def leakage(report: Any, attributes: list[str], attackers: list[str]) -> dict[str, Any]:
    """Per attribute: ``afrl_mlp``'s folded AUC and the worst of ``attackers`` (the audit
    attackers) in signed points from chance; the requirement-level AUC over ``attributes``
    (mean and std over folds, the paper's number) and the largest |distance|."""
    from recunlearn.audit.afrl_attacker import requirement_auc

    summary = report.summary()
    audited = [a for a in dict.fromkeys(summary["attribute"]) if a in set(report.attributes)]
    auc: dict[str, float] = {}
    worst: dict[str, float] = {}
    worst_attacker: dict[str, str] = {}
    for name in audited:
        auc[name] = requirement_auc(report, [name])["auc_mean"]
        rows = summary[(summary["attribute"] == name) & summary["attacker"].isin(attackers)]
        if rows.empty:
            continue
        points = 100.0 * (rows["bacc_mean"] - rows["chance_bacc_mean"])
        pick = int(np.argmax(np.abs(points.to_numpy())))
        worst[name] = float(points.iloc[pick])
        worst_attacker[name] = str(rows["attacker"].iloc[pick])
    asked = [a for a in attributes if a in auc]
    overall = requirement_auc(report, asked) if asked else {"auc_mean": math.nan}
    distances = [abs(worst[a]) for a in asked if a in worst]
    return {
        "auc": auc,
        "auc_mean": overall["auc_mean"],
        "auc_std": overall.get("auc_std", math.nan),
        "worst": worst,
        "worst_attacker": worst_attacker,
        "worst_max": max(distances) if distances else math.nan,
    }


class _Served:
    """A fitted method (or the base matrix) answering requirement tables."""

    def __init__(self, method: Any, original: torch.Tensor) -> None:
        self.method = method
        self.original = original

    def __call__(self, table: Any) -> tuple[torch.Tensor | None, float]:
        """The served matrix (None = the original) and the seconds it took."""
        from recunlearn.protect.personal import assemble

        if self.method is None:
            return None, 0.0
        log: dict[str, Any] = {}
        matrix = assemble(self.method, self.original, table, log=log)
        return matrix, float(log["seconds"])


def _fit(
    params: dict[str, Any], ctx: CellContext, run: Any, labels: dict[str, Any], phase: str
) -> tuple[_Served, float, dict[str, Any]]:
    """The cell's method fitted on the base matrix with ``labels``: (server, seconds, log).

    A per-user method saves its training state in the cell's partial folder (one file per
    ``phase``), so an interrupted cell resumes its fits; the seconds count every attempt."""
    from recunlearn.experiments.unlearn import run_scorer
    from recunlearn.protect.personal.base import PersonalUnlearner
    from recunlearn.protect.posthoc.registry import UNLEARNERS, make_unlearner

    original = run.model.user_embeddings()
    if params["unlearner"] is None:
        return _Served(None, original), 0.0, {}
    name = params["unlearner"]
    store = ctx.store_dir if UNLEARNERS.get(name).uses_store else None
    method = make_unlearner(name, **params["options"])
    if isinstance(method, PersonalUnlearner):
        method.checkpoint_to(ctx.partial_dir / f"{phase}.pt")
    started = time.perf_counter()
    method.fit(original, labels, scorer=run_scorer(run), store=store)
    seconds = time.perf_counter() - started
    logs = getattr(method, "logs_", None)
    log: dict[str, Any] = {}
    if isinstance(logs, dict) and "epochs" in logs:
        log = {"epochs": len(logs["epochs"]), "kept_epoch": logs.get("kept_epoch")}
        if "resumed" in logs:
            log["resumed"] = logs["resumed"]
            seconds += float(logs["resumed"]["seconds_before"])
    return _Served(method, original), seconds, log


def _audit(
    matrix: torch.Tensor,
    attributes: Any,
    select: list[str],
    settings: dict[str, Any],
    seed: int,
    test_users: np.ndarray | None = None,
) -> Any:
    from recunlearn.audit import audit
    from recunlearn.audit.afrl_attacker import afrl_attacker_spec

    spec = afrl_attacker_spec(**settings.get("afrl_attacker", {}))
    attackers = [spec if a == "afrl_mlp" else a for a in settings["attackers"]]
    common: dict[str, Any] = dict(
        attackers=attackers, select=select, seeds=(seed,), n_jobs=1, progress=False
    )
    if test_users is not None:
        return audit(matrix, attributes, test_users=test_users, **common)
    return audit(matrix, attributes, n_folds=settings["n_folds"], rare_classes="drop", **common)


def _view(
    serve: _Served,
    columns: list[tuple[str, Any]],
    dataset: Any,
    settings: dict[str, Any],
    seed: int,
    hidden: np.ndarray | None = None,
    evaluate: Callable[[torch.Tensor | None], Any] | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Serve and attack every column (``hidden``: the held-out view); with ``evaluate``, also
    evaluate. Returns per-column metrics and the per-column evaluation results."""
    from recunlearn.experiments.unlearn import asking_attributes

    six = [a for a in settings["attackers"] if a != "afrl_mlp"]
    attributes = list(settings["attributes"])
    out: dict[str, dict[str, Any]] = {}
    results: dict[str, Any] = {}
    cached: dict[str, Any] | None = None
    for label, table in columns:
        matrix, seconds = serve(table)
        shown = serve.original if matrix is None else matrix
        names = [] if label in (EMPTY, MIXED) else label.split("+")
        entry: dict[str, Any] = {"requirement": names, "serve_seconds": seconds}
        if label == MIXED:
            entry["requirement"] = MIXED
            entry["groups"] = {"+".join(k): int(len(v)) for k, v in table.groups()}
            asking, skipped = asking_attributes(
                dataset, table, n_folds=settings["n_folds"], hidden=hidden
            )
            if asking:
                report = _audit(shown, asking, list(asking), settings, seed, hidden)
                entry.update(leakage(report, list(asking), six))
            else:
                entry.update(auc={}, auc_mean=math.nan, auc_std=math.nan, worst={})
                entry.update(worst_attacker={}, worst_max=math.nan)
            if skipped:
                entry["skipped"] = skipped
        else:
            if matrix is None and cached is not None:
                found = cached
            else:
                report = _audit(shown, dataset, attributes, settings, seed, hidden)
                found = {"report": report}
                if matrix is None:
                    cached = found
            entry.update(leakage(found["report"], names, six))
        if evaluate is not None:
            results[label] = evaluate(matrix)
            entry["test"] = results[label].summary
        out[label] = entry
    return out, results


@register_kind("personal", protocol="afrl_loo_sampled99")
def personal_cell(params: dict[str, Any], ctx: CellContext) -> CellOutput:
    """Serve per-user requirements with one method on a base run: ranking quality and the
    AFRL attacker's AUC per requirement column, transductive and held-out."""
    from recunlearn.data.fingerprint import dataset_fingerprint
    from recunlearn.experiments.train import evaluate_test, load_trained
    from recunlearn.protect.posthoc.base import heldout_users, hide_labels, labels_from_dataset

    settings = params["personal"]
    seed = int(params["seed"])
    dataset = ctx.dataset(params["data"])
    run = load_trained(ctx.run_dir(params["base"]), dataset=dataset)
    labels = labels_from_dataset(dataset)
    columns = column_tables(settings, dataset.n_users, seed)

    def evaluate(matrix: torch.Tensor | None) -> Any:
        spec = run.spec.evaluation
        return evaluate_test(run.model, run.split, spec, return_topk=0, user_embeddings=matrix)

    started = time.perf_counter()
    serve, fit_seconds, log = _fit(params, ctx, run, labels, "transductive")
    view, results = _view(serve, columns, dataset, settings, seed, evaluate=evaluate)
    transductive = time.perf_counter()
    heldout_seconds = 0.0
    fraction = float(settings["heldout_fraction"])
    if fraction > 0:
        hidden = heldout_users(dataset.n_users, fraction, seed)
        second, heldout_seconds, held_log = _fit(
            params, ctx, run, hide_labels(labels, hidden), "heldout"
        )
        if "resumed" in held_log:
            log["heldout_resumed"] = held_log["resumed"]
        held, _ = _view(second, columns, dataset, settings, seed, hidden=hidden)
        for label, entry in held.items():
            view[label]["heldout"] = {
                k: entry[k] for k in ("auc", "auc_mean", "auc_std", "worst", "worst_max")
            }
    finished = time.perf_counter()
    base = evaluate(None).summary
    frames = {label: result.per_user for label, result in results.items()}
    first = next(iter(frames.values()))
    per_user: dict[str, np.ndarray] = {
        "user_id": dataset.user_ids[first["user"].to_numpy()],
    }
    for label, frame in frames.items():
        for metric in ("HR@10", "NDCG@10"):
            per_user[f"{metric}|{label}"] = frame[metric].to_numpy(dtype=float)
    split = run.split
    mode = next(iter(results.values())).mode
    return CellOutput(
        metrics={
            "columns": view,
            "test_original": base,
            "fit_seconds": fit_seconds,
            "heldout_fit_seconds": heldout_seconds,
            "users": int(dataset.n_users),
            "test_users": int(len(split.test.users)),
            "unlearning": {"options": params["options"], **log},
        },
        protocol={
            "split": f"{split.protocol}_{mode}",
            "split_params": split.params,
            "attack": f"stratified {settings['n_folds']}-fold CV over the labelled users "
            f"(transductive), audit seed {seed}; afrl_mlp AUC folded to max(AUC, 1 - AUC), "
            "averaged over the requirement's attributes; the mixed column attacks each "
            "attribute over the users who asked for it",
            "attack_heldout": f"{fraction:.0%} of the users' labels hidden from the method; "
            "attackers trained on the other users, tested on them"
            if fraction > 0
            else None,
            "attackers": list(settings["attackers"]),
        },
        dataset={"label": dataset.label, "fingerprint": dataset_fingerprint(dataset)},
        per_user=per_user,
        wall={
            "fit": fit_seconds,
            "transductive": transductive - started,
            "heldout": finished - transductive,
            "heldout_fit": heldout_seconds,
        },
    )
