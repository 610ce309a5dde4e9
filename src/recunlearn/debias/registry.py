"""Method names -> trainers, and per-dataset defaults.

Every method is ``make_trainer(name, **options)``: a trainer with ``fit(split)`` and
``predict(users, items)``. Unknown options raise a :class:`recunlearn.core.errors.ConfigError`.
"""

from __future__ import annotations

from typing import Any

from recunlearn.core.registry import Registry
from recunlearn.debias.autodebias import AutoDebias
from recunlearn.debias.cause import CausE
from recunlearn.debias.dr import DRJL
from recunlearn.debias.ips import IPS
from recunlearn.debias.kd import KDLabel
from recunlearn.debias.mf import MF
from recunlearn.debias.trainer import DebiasTrainer
from recunlearn.debias.ultd import ULTD

METHODS: Registry[tuple[type[DebiasTrainer], dict[str, Any]]] = Registry("debiasing method")
"""Method name -> (trainer class, its fixed options)."""
METHODS.register("mf", (MF, {"train_on": "biased"}))
METHODS.register("mf-uniform", (MF, {"train_on": "uniform"}))
METHODS.register("mf-combine", (MF, {"train_on": "combine"}))
METHODS.register("ips", (IPS, {"self_normalize": False}))
METHODS.register("snips", (IPS, {"self_normalize": True}))
METHODS.register("dr-jl", (DRJL, {}))
METHODS.register("kd-label", (KDLabel, {}))
METHODS.register("cause", (CausE, {}))
METHODS.register("autodebias", (AutoDebias, {}))
METHODS.register("ultd-jl", (ULTD, {"schedule": "jl"}))
METHODS.register("ultd-tp", (ULTD, {"schedule": "tp"}))

#: dataset -> default options shared by all methods (debias.md §1-2 [asm]) and the top-K cut-off
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    # Coat lr / weight_decay: chosen for MF on validation AUC (V, seeds 0-2) from
    # lr {0.005, 0.01, 0.05} x weight_decay {1e-5, 1e-4, 1e-3}; shared by every method
    "coat": {"dim": 16, "user_batch": 32, "patience": 20, "lr": 0.05, "weight_decay": 1e-3},
    # Yahoo lr / weight_decay: chosen for MF on validation AUC (seeds 0-2) from lr {0.005, 0.01,
    # 0.05} x weight_decay {1e-5, 1e-4, 1e-3}, then {0.005, 0.01} x {0, 1e-6} (the first best
    # sat on the grid's edge): 0.005 / 1e-6, valid AUC 0.689 (1e-5: 0.687); shared by every method
    "yahoo": {"dim": 32, "user_batch": 512, "patience": 10, "lr": 0.005, "weight_decay": 1e-6},
    "kuairec": {"dim": 64, "user_batch": 64, "patience": 10},
    "synthetic": {"dim": 8, "user_batch": 32, "patience": 10, "epochs": 100},
}
TOP_K = {"coat": 5, "yahoo": 5, "kuairec": 50, "synthetic": 5}

#: method -> dataset -> options chosen on validation AUC (see benchmarks/notes/issue7_debiasing.md)
#: (benchmarks/ultd_table1.py --tune METHOD, mean validation AUC over seeds 0-2; T never read).
#: Methods not listed keep their config defaults (not tuned).
TUNED: dict[str, dict[str, dict[str, Any]]] = {
    # grid g_reg {1e-4, 1e-2, 1e-1} x alpha_lr {1e-3, 1e-2}: all within 0.002 of each other
    "ultd-jl": {"coat": {"g_reg": 0.1, "alpha_lr": 1e-3}},
    "ultd-tp": {"coat": {"g_reg": 0.1, "alpha_lr": 1e-3}},  # reused from ultd-jl (not tuned)
    # grid clip {0.02, 0.05, 0.1} x propensity {naive_bayes, learned}
    "dr-jl": {"coat": {"clip": 0.05, "propensity": "learned"}},
}


def method_names() -> list[str]:
    """All registered method names."""
    return METHODS.names()


def default_options(method: str, dataset: str) -> dict[str, Any]:
    """Dataset defaults plus the method's tuned values for that dataset."""
    out = dict(DATASET_DEFAULTS.get(dataset, {}))
    out.update(TUNED.get(method, {}).get(dataset, {}))
    return out


def make_trainer(name: str, **options: Any) -> DebiasTrainer:
    """A fresh, unfitted trainer for a method name (options override the name's defaults)."""
    cls, fixed = METHODS.get(name)
    merged = {**fixed, **options}
    trainer = cls(**merged)
    trainer.name = name
    return trainer
