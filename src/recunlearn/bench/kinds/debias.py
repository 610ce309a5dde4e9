"""``debias`` cells: one (dataset, method, seed) of the selection-bias experiments (ULTD Table 1).

Parameters: ``dataset`` (coat, yahoo, kuairec, synthetic), ``method`` (a name of
:data:`recunlearn.debias.registry.METHODS`), ``seed`` and optionally ``options`` (method
options), ``threshold`` and ``k``. The files are found in ``--data-dir`` when given, else in
``$RECUNLEARN_DATA/<folder>`` (``coat``, ``yahoo-r3`` or ``yahoo``, ``kuairec``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from recunlearn.bench.registry import CellContext, CellOutput, register_kind
from recunlearn.core.errors import ConfigError

FOLDERS = {"coat": ("coat",), "yahoo": ("yahoo-r3", "yahoo"), "kuairec": ("kuairec",)}


def debias_data_dir(dataset: str, data_dir: str | None) -> str | None:
    """The folder with ``dataset``'s files: ``data_dir`` itself, else under $RECUNLEARN_DATA."""
    if dataset == "synthetic":
        return None
    if data_dir:
        return data_dir
    root = os.environ.get("RECUNLEARN_DATA")
    for folder in FOLDERS.get(dataset, ()):
        if root and (Path(root) / folder).is_dir():
            return str(Path(root) / folder)
    raise ConfigError(
        f"debias cell: no folder for '{dataset}': pass --data-dir or set RECUNLEARN_DATA to a "
        f"folder holding one of {', '.join(FOLDERS.get(dataset, ()))} (field 'dataset')"
    )


@register_kind("debias", protocol="unbiased 5/5/90 split", description="one debiasing run")
def debias_cell(params: dict[str, Any], ctx: CellContext) -> CellOutput:
    """Train and evaluate one debiasing method (see :func:`recunlearn.experiments.debias.run_debias`)."""
    from recunlearn.experiments.debias import run_debias

    dataset = params["dataset"]
    config = {
        "dataset": dataset,
        "method": params["method"],
        "seed": int(params.get("seed", 0)),
        "options": dict(params.get("options") or {}),
        "data_dir": debias_data_dir(dataset, ctx.runtime.get("data_dir")),
        "threads": ctx.threads,
    }
    for key in ("threshold", "k"):
        if params.get(key) is not None:
            config[key] = params[key]
    record = run_debias(config)
    record["row"] = params.get("label") or params["method"]
    return CellOutput(
        metrics=record,
        protocol={"kind": "debias", "split": "A 5% / V 5% / T 90% of the unbiased ratings"},
        dataset={"label": dataset},
    )
