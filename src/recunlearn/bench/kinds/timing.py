"""``timing`` cells: seconds per request of a dynamic-requirement sequence (LEGO Fig. 3).

On one base run, the requirements of the sequence arrive one after the other:

* ``lego+store``: one LEGO fitted once with a fresh (private) brick store -- a request only
  calibrates the attributes not calibrated before, then combines;
* ``lego recompute``: a new LEGO per request, every attribute calibrated again;
* ``d2dfr sequential``: a new D2DFR per request (it unlearns attributes one after another).

The base model's training time is recorded as the reference line. Timing cells are
registered ``exclusive``: the runner runs them with no other cell in parallel.
"""

from __future__ import annotations

import tempfile
import time
from typing import Any

from recunlearn.bench.registry import CellContext, CellOutput, register_kind


@register_kind("timing", protocol="loo_full", exclusive=True)
def timing_cell(params: dict[str, Any], ctx: CellContext) -> CellOutput:
    """Time LEGO (with and without its store) and D2DFR on a sequence of requirements."""
    from recunlearn.data.fingerprint import dataset_fingerprint
    from recunlearn.experiments import rundir
    from recunlearn.experiments.train import load_trained
    from recunlearn.protect.posthoc.base import labels_from_dataset, model_scorer
    from recunlearn.protect.posthoc.registry import make_unlearner

    dataset = ctx.dataset(params["data"])
    source = ctx.run_dir(params["base"])
    run = load_trained(source, dataset=dataset)
    labels = labels_from_dataset(dataset)
    original = run.model.user_embeddings()
    scorer = model_scorer(run.model, run.split.test.known)
    sequence = [list(r) for r in params["sequence"]]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix=".timing-store.tmp-", dir=ctx.out) as store:
        lego = make_unlearner("lego", **params["lego"]).fit(original, labels, store=store)
        for requirement in sequence:
            started = time.perf_counter()
            lego.transform(requirement)
            rows.append(
                {
                    "method": "lego+store",
                    "requirement": requirement,
                    "seconds": time.perf_counter() - started,
                    "calibrated": int(lego.timings_.get("calibrated", 0)),
                }
            )
    for requirement in sequence:
        started = time.perf_counter()
        make_unlearner("lego", **params["lego"]).fit(original, labels).transform(requirement)
        rows.append(
            {
                "method": "lego recompute",
                "requirement": requirement,
                "seconds": time.perf_counter() - started,
                "calibrated": len(requirement),
            }
        )
    for requirement in sequence:
        started = time.perf_counter()
        d2dfr = make_unlearner("d2dfr", **params["d2dfr"])
        d2dfr.fit(original, labels, scorer=scorer).transform(requirement)
        rows.append(
            {
                "method": "d2dfr sequential",
                "requirement": requirement,
                "seconds": time.perf_counter() - started,
                "calibrated": len(requirement),
            }
        )
    base_metrics = rundir.read_json(source / rundir.METRICS)
    train_seconds = float(base_metrics.get("train_seconds") or 0.0)
    return CellOutput(
        metrics={
            "rows": rows,
            "base_train_seconds": train_seconds,
            "model": params["model"],
            "threads": ctx.threads,
        },
        protocol={"timing": "wall seconds per request, one process, nothing else running"},
        dataset={"label": dataset.label, "fingerprint": dataset_fingerprint(dataset)},
        wall={"sequence": sum(r["seconds"] for r in rows)},
    )
