"""Fit checkpoints: a fingerprint per fit, atomic saves, and only the same fit's file loaded
(resuming itself is checked for every method by the per-user contract)."""

from __future__ import annotations

import torch

from recunlearn.protect.personal.checkpoint import FitCheckpoint, fit_fingerprint

MATRIX = torch.arange(12, dtype=torch.float32).reshape(4, 3)
CODES = [torch.tensor([0, 1, 1, -1])]


def test_the_fingerprint_changes_with_every_input():
    first = fit_fingerprint("sm", '{"lam": 20}', MATRIX, CODES)
    assert first == fit_fingerprint("sm", '{"lam": 20}', MATRIX.clone(), [CODES[0].clone()])
    others = [
        fit_fingerprint("afrl", '{"lam": 20}', MATRIX, CODES),
        fit_fingerprint("sm", '{"lam": 2}', MATRIX, CODES),
        fit_fingerprint("sm", '{"lam": 20}', MATRIX + 1e-6, CODES),
        fit_fingerprint("sm", '{"lam": 20}', MATRIX, [torch.tensor([0, 1, -1, -1])]),
        fit_fingerprint("sm", '{"lam": 20}', MATRIX.double(), CODES),
    ]
    assert len({first, *others}) == 6


def test_only_the_same_fits_state_is_loaded(tmp_path):
    path = tmp_path / "deep" / "fit.pt"
    checkpoint = FitCheckpoint(path, every_seconds=0)
    checkpoint.bind("a" * 64)
    assert checkpoint.load() is None  # nothing saved yet
    checkpoint.save({"epoch": 3, "weights": torch.ones(2)})
    assert [p.name for p in path.parent.iterdir()] == ["fit.pt"]  # no temporary left
    state = checkpoint.load()
    assert state is not None and state["epoch"] == 3
    other = FitCheckpoint(path)
    other.bind("b" * 64)
    assert other.load() is None  # another fit's file is not resumed
    path.write_bytes(b"not a checkpoint")
    assert checkpoint.load() is None  # nor a damaged one


def test_a_folder_holds_one_file_per_fit(tmp_path):
    names = []
    for fingerprint in ("1" * 64, "2" * 64):
        checkpoint = FitCheckpoint(tmp_path / "saved", every_seconds=0)
        checkpoint.bind(fingerprint)
        checkpoint.save({"epoch": 0})
        names.append(checkpoint.path.name)
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == sorted(names)
    assert names == ["fit-1111111111111111.pt", "fit-2222222222222222.pt"]


def test_saves_are_due_after_the_interval_or_at_the_end():
    checkpoint = FitCheckpoint("x.pt", every_seconds=3600)
    checkpoint.bind("c" * 64)
    assert not checkpoint.due(final=False) and checkpoint.due(final=True)
    assert FitCheckpoint("x.pt", every_seconds=0).due(final=False)
