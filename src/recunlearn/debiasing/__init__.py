"""Debiasing selection bias with a few unbiased ratings: data, metrics, methods, runs.

Methods (one trainer interface, :mod:`.registry`): MF, MF-uniform, MF-combine, IPS, SNIPS,
DR-JL, KD-Label, CausE, AutoDebias-lite, ULTD (JL and TP schedules).
"""

from recunlearn.debiasing.data import (
    DebiasData,
    DebiasSplit,
    Triples,
    load_debias_data,
    read_coat,
    read_kuairec,
    read_yahoo,
    split_unbiased,
)
from recunlearn.debiasing.metrics import Convention, evaluate_all, headline
from recunlearn.debiasing.registry import make_trainer, method_names
from recunlearn.debiasing.run import DebiasConfig, execute, run_debias
from recunlearn.debiasing.synthetic import make_mnar

__all__ = [
    "Convention",
    "DebiasConfig",
    "DebiasData",
    "DebiasSplit",
    "Triples",
    "evaluate_all",
    "execute",
    "headline",
    "load_debias_data",
    "make_mnar",
    "make_trainer",
    "method_names",
    "read_coat",
    "read_kuairec",
    "read_yahoo",
    "run_debias",
    "split_unbiased",
]
