"""Resumable fits: where a long per-user fit (AFRL or SM on ML-1M take hours on one core) saves
its training state between epochs, so that an interrupted fit continues from its last saved
epoch instead of starting over.

A checkpoint holds everything the next epoch depends on -- the networks, the optimisers, the
batch generator's and torch's global random state (dropout), the validation schedule and the
best state kept so far -- so a resumed fit takes the very steps the uninterrupted one would
have taken. It is tied to its fit by a fingerprint of the method, its options, the input
matrix and the labels: a checkpoint left by another fit is ignored (with a warning), never
resumed. The fingerprint does not cover the code: a fit resumed after a change to the method's
training loop mixes the two versions (delete the checkpoint to start over).
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from pathlib import Path
from typing import Any

import torch

from recunlearn.core.atomic import atomic_write_bytes

log = logging.getLogger(__name__)


def fit_fingerprint(
    method: str, options_json: str, embeddings: torch.Tensor, codes: list[torch.Tensor]
) -> str:
    """A hex digest identifying one fit: the method's name and options, the input matrix
    and the label codes of its targets."""
    digest = hashlib.sha256()
    digest.update(method.encode())
    digest.update(options_json.encode())
    for tensor in (embeddings, *codes):
        array = tensor.detach().cpu().contiguous().numpy()
        digest.update(str((array.dtype, array.shape)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


class FitCheckpoint:
    """The file a fit saves its training state to.

    Args:
        path: the checkpoint file when it ends in ``.pt`` (its folder is created on the first
            save); any other path is a folder holding one ``fit-<fingerprint>.pt`` per fit
            (several fits, e.g. the leakage guard's held-out refits, then share it).
        every_seconds: save after an epoch once this many seconds have passed since the last
            save (the last epoch is always saved, so a finished fit is never trained again).
    """

    def __init__(self, path: str | Path, every_seconds: float = 600.0) -> None:
        if every_seconds < 0:
            raise ValueError(f"every_seconds must be >= 0, got {every_seconds}")
        self.target = Path(path)
        self.path = self.target
        self.every_seconds = float(every_seconds)
        self.fingerprint: str | None = None
        self._last_save = time.monotonic()

    def bind(self, fingerprint: str) -> None:
        """Tie the checkpoint to one fit (called by the method when its fit starts)."""
        self.fingerprint = fingerprint
        if self.target.suffix != ".pt":
            self.path = self.target / f"fit-{fingerprint[:16]}.pt"
        self._last_save = time.monotonic()

    def load(self) -> dict[str, Any] | None:
        """The saved state of this fit, or None (no file, or a file of another fit)."""
        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - a damaged checkpoint only costs the resume
            log.warning("ignoring the unreadable fit checkpoint %s (%s)", self.path, exc)
            return None
        if state.get("fingerprint") != self.fingerprint:
            log.warning("ignoring %s: it was saved by another fit", self.path)
            return None
        return state

    def due(self, final: bool) -> bool:
        """Save now? Always after the last epoch, otherwise once ``every_seconds`` passed."""
        return final or time.monotonic() - self._last_save >= self.every_seconds

    def save(self, state: dict[str, Any]) -> None:
        """Write ``state`` (with this fit's fingerprint) atomically."""
        buffer = io.BytesIO()
        torch.save({**state, "fingerprint": self.fingerprint}, buffer)
        atomic_write_bytes(self.path, buffer.getvalue())
        self._last_save = time.monotonic()
