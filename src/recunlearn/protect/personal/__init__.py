"""Per-user requirements: each user chooses which attributes must not shape their own
recommendations (the AFRL paper's personalised fairness).

* :class:`PersonalRequirement`: users x attributes, read from ``user_id,requirement`` tables;
* :func:`assemble`: any post-hoc method served per user (one ``transform`` per distinct
  requirement); methods that are per-user by design (:class:`PersonalProtector`) answer in one
  pass;
* the per-user methods: :mod:`.afrl` (AFRL), :mod:`.sm` (SM) and :mod:`.ffvae` (FFVAE), all
  registered as post-hoc unlearners on a frozen base model's user representation.
"""

from recunlearn.protect.personal.assemble import PersonalProtector, assemble
from recunlearn.protect.personal.requirement import PersonalRequirement, combinations

__all__ = ["PersonalProtector", "PersonalRequirement", "assemble", "combinations"]
