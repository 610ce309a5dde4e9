"""Debiasing selection bias with a few unbiased ratings: metrics and methods.

Methods (one trainer interface, :mod:`.registry`): MF, MF-uniform, MF-combine, IPS, SNIPS,
DR-JL, KD-Label, CausE, AutoDebias-lite, ULTD (JL and TP schedules). The data live in
:mod:`recunlearn.data.feedback`; a whole run (train, evaluate, write) is
:func:`recunlearn.experiments.debias.run_debias`.
"""

from recunlearn.debias.metrics import Convention, evaluate_all, headline
from recunlearn.debias.registry import make_trainer, method_names

__all__ = ["Convention", "evaluate_all", "headline", "make_trainer", "method_names"]
