"""``protocol_gap`` cells: how far selection on the test set inflates leave-one-out numbers.

LEGO reports HR@10 15.7-16.4 on ML-100K where RecBole and recunlearn get 12-14 with honest,
validation-based early stopping. One cell trains a model under one protocol variant:

* ``honest``: latest -> test, second latest -> validation, early stopping on validation;
* ``test_selected``: the same split, the epoch chosen on the *test* set (what the official D2D
  code, LEGO's sibling repository, does);
* ``no_valid_test_selected``: no validation hold-out (the second-latest item is trained on) and
  test-set selection: the D2D code's full protocol.

Rows other than ``honest`` are NOT results: they overfit the test set and exist only to measure
how much such selection inflates the numbers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from recunlearn.bench.registry import CellContext, CellOutput, register_kind

VARIANTS = ("honest", "test_selected", "no_valid_test_selected")


@register_kind("protocol_gap", protocol="loo_full")
def protocol_gap_cell(params: dict[str, Any], ctx: CellContext) -> CellOutput:
    """Train one model under one protocol variant (see the module docstring)."""
    from recunlearn.core.errors import ConfigError
    from recunlearn.data.loading import load_data
    from recunlearn.data.spec import DataSpec
    from recunlearn.data.splits import leave_one_out
    from recunlearn.evaluation.evaluator import evaluate
    from recunlearn.models.registry import make_model

    variant = params["variant"]
    if variant not in VARIANTS:
        raise ConfigError(f"unknown protocol_gap variant '{variant}'; known: {', '.join(VARIANTS)}")
    dataset = load_data(DataSpec(name=params["dataset"], data_dir=ctx.runtime.get("data_dir")))
    split = leave_one_out(
        dataset, ties=params.get("ties", "file_order"), valid=variant != "no_valid_test_selected"
    )
    if variant != "honest":
        split = dataclasses.replace(split, valid=split.test)
    model = make_model(params["model"], seed=int(params["seed"])).fit(split, progress=False)
    test = evaluate(model, split.test, ks=(10,), metrics=("HR", "NDCG")).summary
    return CellOutput(
        metrics={"best_epoch": model.best_epoch_, "test": test, "variant": variant},
        protocol={"split": "loo_full", "ties": params.get("ties", "file_order")},
        dataset={"label": dataset.label},
        wall={"train": float(model.train_seconds_ or 0.0)},
    )
