"""Contract tests shipped as mixins, and small seeded test data.

A new component is tested by one line in a test module::

    from recunlearn.testing import RecommenderContract

    class TestMyModel(RecommenderContract):
        name = "my-model"        # its name in the registry

:class:`RecommenderContract` (models), :class:`UnlearnerContract` (post-hoc methods),
:class:`PersonalContract` (methods that answer a requirement per user) and
:class:`AttackerContract` (audit attackers) read the component from its registry. Importing
this package needs pytest (a development dependency).
"""

from recunlearn.testing.attacker import AttackerContract
from recunlearn.testing.personal import PersonalContract
from recunlearn.testing.recommender import RecommenderContract
from recunlearn.testing.unlearner import UnlearnerContract

__all__ = ["AttackerContract", "PersonalContract", "RecommenderContract", "UnlearnerContract"]
