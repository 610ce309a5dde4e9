"""``unlearn`` cells: one method x requirement on a trained base run, evaluated and attacked.

The protected matrix comes from :func:`recunlearn.experiments.unlearn.unlearn_run` (LEGO reads and
writes the shared brick store ``OUT/store``), or is the original matrix for ``original``.
Then:

* recommendation: the base run's test evaluation (full ranking, HR / NDCG / Recall @ 10, 20)
  with the protected matrix swapped in; per-user HR@10 / NDCG@10 go to the sidecar;
* attack: LEGO's protocol -- stratified k-fold over all labelled users (transductive: the
  same users whose labels the unlearner used), audit seed = the cell's seed -- with every
  configured attacker. Recorded per attacker and for the worst case (per attribute the
  attacker farthest from chance), averaged over the requirement's attributes as LEGO does;
  ``paper_mlp`` is the papers' number.
"""

from __future__ import annotations

import time
from typing import Any

from recunlearn.bench.kinds.train import per_user_arrays
from recunlearn.bench.registry import CellContext, CellOutput, register_kind

AVERAGED = ("bacc", "micro_f1", "macro_f1", "bacc_gap", "chance_bacc")
SUMMARY_COLUMNS = (
    "attribute",
    "attacker",
    "kind",
    "bacc_mean",
    "bacc_std",
    "micro_f1_mean",
    "micro_f1_std",
    "chance_bacc_mean",
    "bacc_gap_mean",
    "mae_mean",
    "mae_std",
    "chance_mae_mean",
    "worst",
)


def attack_summary(report: Any, attributes: list[str]) -> dict[str, Any]:
    """What a record keeps of a :class:`~recunlearn.audit.LeakageReport`.

    ``average``: per attacker and ``worst case``, the metrics averaged over the requirement's
    categorical attributes within each fold, then mean and std over folds (LEGO's
    multi-attribute rows); ``worst_attackers``: attribute -> its worst attacker;
    ``per_attribute``: the summary rows.
    """
    table = report.average(attributes)
    average: dict[str, dict[str, float]] = {}
    for _, row in table.iterrows():
        average[str(row["attacker"])] = {
            f"{m}_{s}": float(row[f"{m}_{s}"]) for m in AVERAGED for s in ("mean", "std")
        }
    worst = report.worst_case()
    summary = report.summary()
    columns = [c for c in SUMMARY_COLUMNS if c in summary.columns]
    return {
        "average": average,
        "worst_attackers": dict(zip(worst["attribute"], worst["attacker"], strict=True)),
        "per_attribute": summary[columns].to_dict(orient="records"),
        "wall_seconds": float(report.meta.get("wall_seconds", float("nan"))),
        "n_fits": int(report.meta.get("n_fits", 0)),
    }


@register_kind("unlearn", protocol="loo_full")
def unlearn_cell(params: dict[str, Any], ctx: CellContext) -> CellOutput:
    """Unlearn a requirement from a base run; evaluate HR/NDCG@10 and attack the result in the
    transductive, held-out and transfer views (the leakage guard)."""
    from recunlearn.audit import audit
    from recunlearn.audit.guard import GuardSettings, pool_heldout
    from recunlearn.data.fingerprint import dataset_fingerprint
    from recunlearn.experiments.train import evaluate_test, load_trained
    from recunlearn.experiments.unlearn import guard_check, unlearn_run
    from recunlearn.protect.posthoc.base import heldout_masks, labels_from_dataset
    from recunlearn.protect.posthoc.registry import UNLEARNERS

    dataset = ctx.dataset(params["data"])
    source = ctx.run_dir(params["base"])
    requirement = list(params["requirement"])
    audit_cfg = params["audit"]
    started = time.perf_counter()
    unlearning: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if params["unlearner"] is None:
        run = load_trained(source, dataset=dataset)
        protected = run.model.user_embeddings()
        after = evaluate_test(
            run.model, run.split, run.spec.evaluation, return_topk=0, user_embeddings=None
        )
        unlearn_seconds = 0.0
        before_summary = after.summary
        split = run.split
    else:
        # methods that keep per-attribute bricks share the store (created by the runner)
        store = ctx.store_dir if UNLEARNERS.get(params["unlearner"]).uses_store else None
        result = unlearn_run(
            source,
            params["unlearner"],
            requirement,
            None,
            options=params["options"],
            store=store,
            dataset=dataset,
            guard=None,
        )
        run = result.source
        protected, after = result.protected, result.after
        unlearn_seconds = float(result.metrics["unlearn_seconds"])
        before_summary = result.before.summary
        split = run.split
        unlearning = {
            k: v
            for k, v in result.metrics.items()
            if k not in ("before", "after", "dataset", "leakage")
        }
    evaluated = time.perf_counter()

    def attack(select: list[str], **options: Any) -> Any:
        """The grid's attackers on the protected rows, one job, quiet."""
        return audit(
            protected,
            dataset,
            attackers=audit_cfg["attackers"],
            select=select,
            seeds=(params["seed"],),
            n_jobs=1,
            progress=False,
            **options,
        )

    heldout = float(audit_cfg.get("heldout_fraction", 0.0))
    repeats = int(audit_cfg.get("heldout_repeats", 1))
    if params["unlearner"] is not None and (heldout > 0 or audit_cfg.get("transfer")):
        guard = GuardSettings(
            tuple(audit_cfg["attackers"]),
            audit_cfg["n_folds"],
            heldout,
            params["seed"],
            1,
            heldout_repeats=repeats,
        )
        check = guard_check(
            run,
            params["unlearner"],
            params["options"],
            result.requirement,
            run.model.user_embeddings(),
            protected,
            labels_from_dataset(dataset),
            guard,
            store,
            transfer=bool(audit_cfg.get("transfer")),
            audit_original=False,
        )
        report = check.after
        extra["leakage"] = {"table": check.to_dict()["table"]}
        if check.heldout is not None:
            extra["attack_heldout"] = attack_summary(check.heldout, requirement)
        if check.transfer is not None:
            extra["attack_transfer"] = attack_summary(check.transfer, requirement)
    else:
        report = attack(requirement, n_folds=audit_cfg["n_folds"])
    if params["unlearner"] is None and heldout > 0:
        held = pool_heldout(
            [
                attack(requirement, test_users=hidden)
                for hidden in heldout_masks(dataset.n_users, heldout, params["seed"], repeats)
            ]
        )
        extra["attack_heldout"] = attack_summary(held, requirement)
    kept = [a for a in audit_cfg.get("kept", []) if a not in requirement]
    if kept:
        extra["attack_kept"] = attack_summary(attack(kept, n_folds=audit_cfg["n_folds"]), kept)
    if params["unlearner"] is None and audit_cfg.get("floor_permutations"):
        extra["floor"] = [
            attack_summary(
                attack(requirement, n_folds=audit_cfg["n_folds"], permute_labels=permutation),
                requirement,
            )
            for permutation in range(int(audit_cfg["floor_permutations"]))
        ]
    attacked = time.perf_counter()
    frame = after.per_user.copy()
    frame.insert(0, "user_id", dataset.user_ids[frame["user"].to_numpy()])
    return CellOutput(
        metrics={
            "test": after.summary,
            "test_original": before_summary,
            "attack": attack_summary(report, requirement),
            **extra,
            "unlearning": unlearning,
            "test_users": int(len(split.test.users)),
        },
        protocol={
            "split": f"{split.protocol}_{after.mode}",
            "split_params": split.params,
            "attack": f"stratified {audit_cfg['n_folds']}-fold CV over all labelled users "
            f"(transductive, LEGO), audit seed {params['seed']}",
            "attack_heldout": f"{heldout:.0%} of the users' labels hidden from the method; "
            "attackers trained on the other users, tested on them"
            + (f"; {repeats} disjoint masks, one fit each, pooled" if repeats > 1 else "")
            if heldout > 0
            else None,
            "attack_transfer": "logistic attacker fitted on the original rows (k-fold), "
            "tested on the protected rows"
            if audit_cfg.get("transfer")
            else None,
            "attackers": list(audit_cfg["attackers"]),
        },
        dataset={"label": dataset.label, "fingerprint": dataset_fingerprint(dataset)},
        per_user=per_user_arrays(frame),
        wall={
            "unlearn": unlearn_seconds,
            "unlearn_and_evaluate": evaluated - started,
            "audit": attacked - evaluated,
        },
    )
