"""Every registered post-hoc method meets :class:`recunlearn.testing.UnlearnerContract`."""

from __future__ import annotations

from recunlearn.protect.posthoc.registry import UNLEARNERS
from recunlearn.testing import UnlearnerContract


class TestSplitEraser(UnlearnerContract):
    name = "split-eraser"
    fast_options = {"permutations": 10}
    planted_gender = (-5.0, 5.0)  # removed


class TestLEGO(UnlearnerContract):
    name = "lego-paper"
    fast_options = {"calibration_steps": 30, "combination_steps": 10}


class TestDP(UnlearnerContract):
    name = "dp"
    planted_gender = (15.0, 42.0)  # noise of scale 1 lowers it, from ~47, without removing it


class TestInductiveMap(UnlearnerContract):
    name = "inductive-map"
    fast_options = {"steps": 10}


class TestLinearErasure(UnlearnerContract):
    name = "linear-erasure"
    # exact in-sample equalisation of every labelled user leaves a mirror below chance
    planted_gender = (-20.0, -4.0)


class TestD2DFR(UnlearnerContract):
    name = "d2dfr"
    fast_options = {"steps": 10, "reg": 0.0, "batch_users": 128}


class TestAFRL(UnlearnerContract):
    name = "afrl"
    fast_options = {"epochs": 2, "batch_size": 128, "validation": "none"}
    needs_scorer = True


class TestSM(UnlearnerContract):
    name = "sm"
    fast_options = {"epochs": 2, "batch_size": 256, "d_steps": 2, "validation": "none"}
    needs_scorer = True


class TestFFVAE(UnlearnerContract):
    name = "ffvae"
    fast_options = {"epochs": 3, "validation": "none"}


def test_every_registered_method_has_a_contract_test() -> None:
    tested = {
        c.name
        for c in globals().values()
        if isinstance(c, type) and issubclass(c, UnlearnerContract)
    }
    assert set(UNLEARNERS) <= tested, sorted(set(UNLEARNERS) - tested)
