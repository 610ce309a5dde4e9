"""Every per-user method meets :class:`recunlearn.testing.PersonalContract`."""

from __future__ import annotations

from recunlearn.protect.personal import PersonalProtector
from recunlearn.protect.posthoc.registry import UNLEARNERS
from recunlearn.testing import PersonalContract


class TestAFRL(PersonalContract):
    name = "afrl"
    fast_options = {"epochs": 2, "batch_size": 128, "validation": "none"}


class TestSM(PersonalContract):
    name = "sm"
    fast_options = {"epochs": 2, "batch_size": 256, "d_steps": 2, "validation": "none"}


class TestFFVAE(PersonalContract):
    name = "ffvae"
    fast_options = {"epochs": 3, "validation": "none"}


def test_every_per_user_method_has_a_personal_contract_test() -> None:
    personal = {
        name for name in UNLEARNERS if isinstance(UNLEARNERS.get(name)(), PersonalProtector)
    }
    tested = {
        c.name
        for c in globals().values()
        if isinstance(c, type) and issubclass(c, PersonalContract)
    }
    assert personal and personal <= tested, sorted(personal - tested)
