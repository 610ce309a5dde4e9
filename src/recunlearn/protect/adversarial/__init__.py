"""In-training adversarial removal of protected attributes (Adv-MultVAE, AdvX-MultVAE).

One head group per protected attribute sits behind a gradient reversal layer on the model's
user representation and is trained jointly with the recommender, for every base model (MF,
NCF, LightGCN, MultVAE) through the shared training loop:

>>> config = AdversaryConfig.from_lambdas({"gender": 400, "age_raw": 200},
...                                       attribute_options={"age_raw": {"scale": 60}})
>>> trainer = AdversarialTrainer(config).fit(model, split)   # doctest: +SKIP
>>> model.user_embeddings()                                  # doctest: +SKIP

The lambda grid runner is :mod:`recunlearn.experiments.adversarial`; the AdvX attacker protocol is
:mod:`recunlearn.audit.advx_attacker`.
"""

from recunlearn.protect.adversarial.config import (
    AdversaryConfig,
    AttributeAdversary,
    parse_adversary,
    validate_config,
)
from recunlearn.protect.adversarial.grl import GradientReversal, grad_reverse
from recunlearn.protect.adversarial.heads import AttributeHead
from recunlearn.protect.adversarial.targets import AttributeTargets, make_targets
from recunlearn.protect.adversarial.trainer import (
    AdversarialTrainer,
    attach_adversaries,
    representation_dim,
)

__all__ = [
    "AdversarialTrainer",
    "AdversaryConfig",
    "AttributeAdversary",
    "AttributeHead",
    "AttributeTargets",
    "GradientReversal",
    "attach_adversaries",
    "grad_reverse",
    "make_targets",
    "parse_adversary",
    "representation_dim",
    "validate_config",
]
