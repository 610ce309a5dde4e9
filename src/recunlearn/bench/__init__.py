"""Benchmark runner: a YAML grid of cells, one JSON record per cell, resumable and parallel.

>>> from recunlearn.bench import load_config, run_bench          # doctest: +SKIP
>>> result = run_bench("benchmarks/configs/smoke.yaml", "bench/smoke")   # doctest: +SKIP

* :mod:`recunlearn.bench.config` -- the YAML config's schema (pydantic);
* :mod:`recunlearn.bench.loading` -- reading a config: errors naming file and field, name and
  option checks;
* :mod:`recunlearn.bench.cells` -- expansion into cells with stable hashes and dependencies;
* :mod:`recunlearn.bench.registry` -- cell kinds (``register_kind`` adds one);
* :mod:`recunlearn.bench.kinds` -- the built-in kinds (train, unlearn, adversarial, timing);
* :mod:`recunlearn.core.records` -- record files, sidecars, provenance;
* :mod:`recunlearn.bench.runner` -- skipping finished cells, scheduling, progress.

Reports are built from the records by :mod:`recunlearn.report`.
"""

from recunlearn.bench import kinds  # noqa: F401  (registers the built-in kinds)
from recunlearn.bench.cells import Cell, cell_hash, expand
from recunlearn.bench.config import BenchConfig
from recunlearn.bench.loading import load_config, parse_config
from recunlearn.bench.registry import KINDS, CellContext, CellOutput, register_kind
from recunlearn.bench.runner import BenchResult, run_bench
from recunlearn.core.records import read_records

__all__ = [
    "KINDS",
    "BenchConfig",
    "BenchResult",
    "Cell",
    "CellContext",
    "CellOutput",
    "cell_hash",
    "expand",
    "load_config",
    "parse_config",
    "read_records",
    "register_kind",
    "run_bench",
]
