"""Rating data with a biased (self-selected) and an unbiased (randomly sampled) part, for debiasing:
Coat, Yahoo! R3, KuaiRec and a synthetic MNAR generator."""

from recunlearn.data.feedback.mnar import make_mnar
from recunlearn.data.feedback.readers import load_debias_data, read_coat, read_kuairec, read_yahoo
from recunlearn.data.feedback.types import DebiasData, DebiasSplit, Triples, split_unbiased

__all__ = [
    "DebiasData",
    "DebiasSplit",
    "Triples",
    "load_debias_data",
    "make_mnar",
    "read_coat",
    "read_kuairec",
    "read_yahoo",
    "split_unbiased",
]
