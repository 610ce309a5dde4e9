"""A persistent store of calibrated embedding matrices ("bricks") for dynamic requirements.

A brick is one attribute's calibrated matrix for one source matrix. Its key hashes the
source matrix, the attribute's labels, the calibration hyperparameters and the store format,
so a brick is only ever reused for exactly the inputs it was computed from.

Layout::

    STORE                      format marker ("recunlearn-brick-store <version>")
    bricks/<key>.safetensors   tensor "matrix" + metadata (attribute, source fingerprint,
                               config, calibration log, library version)

Writes go to a temporary file in ``bricks/`` and are renamed into place, so a process killed
mid-calibration leaves the store readable (at most a ``.tmp-*`` file, ignored and cleaned by
:meth:`BrickStore.clean`), and concurrent readers see either no brick or a complete one. An
existing brick is never overwritten. Processes that create the same new store at once all
succeed (see :class:`BrickStore`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from recunlearn.core.atomic import atomic_write_text
from recunlearn.core.errors import DataError

STORE_FORMAT = "recunlearn-brick-store 1"
MARKER = "STORE"


def matrix_fingerprint(matrix: torch.Tensor | np.ndarray) -> str:
    """Hash of a float32 matrix's shape and bytes (16 hex digits)."""
    array = np.ascontiguousarray(np.asarray(matrix, dtype=np.float32))
    digest = hashlib.sha256(str(array.shape).encode())
    digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def brick_key(source: str, attribute: str, labels: np.ndarray, config: dict[str, Any]) -> str:
    """The store key of one brick."""
    digest = hashlib.sha256(STORE_FORMAT.encode())
    digest.update(source.encode())
    digest.update(attribute.encode())
    digest.update(np.ascontiguousarray(labels).tobytes())
    digest.update(json.dumps(config, sort_keys=True).encode())
    return digest.hexdigest()[:24]


class BrickStore:
    """Bricks on disk under ``root`` (created on first use).

    Several processes may open (and so create) the same new store at once: a folder holding
    nothing but parts of a store (``bricks/``, the marker, the marker's temporary files) is a
    store being created by another process, and is completed rather than refused. The marker is
    written atomically, so it is read either absent or whole.

    Raises:
        DataError: ``root`` is a file, a folder holding other files, or a store of another
            format; or it cannot be created.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.bricks = self.root / "bricks"
        marker = self.root / MARKER
        if not marker.exists():
            self._create(marker)
        found = marker.read_text().strip()
        if found != STORE_FORMAT:
            raise DataError(
                f"store format '{found}' is not '{STORE_FORMAT}' (written by another version); "
                "use a new store folder",
                path=marker,
            )
        self.bricks.mkdir(exist_ok=True)

    def _create(self, marker: Path) -> None:
        """Create the store in place, or complete one another process is creating."""
        if self.root.exists() and not self.root.is_dir():
            raise DataError("is a file, not a brick store folder", path=self.root)
        if self.root.exists() and not _only_store_parts(self.root):
            raise DataError("folder is not empty and is not a brick store", path=self.root)
        try:
            self.bricks.mkdir(parents=True, exist_ok=True)
            if not marker.exists():
                atomic_write_text(marker, STORE_FORMAT + "\n")
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise DataError(f"cannot create the brick store: {reason}", path=self.root) from exc

    def path(self, key: str) -> Path:
        """File of brick ``key``."""
        return self.bricks / f"{key}.safetensors"

    def __contains__(self, key: str) -> bool:
        return self.path(key).exists()

    def keys(self) -> list[str]:
        """Keys of the complete bricks."""
        return sorted(p.stem for p in self.bricks.glob("*.safetensors"))

    def get(self, key: str, source: str) -> tuple[torch.Tensor, dict[str, Any]] | None:
        """The brick's matrix and metadata, or None when absent.

        Raises:
            DataError: the file is corrupted or belongs to other source embeddings.
        """
        path = self.path(key)
        if not path.exists():
            return None
        try:
            tensors = load_file(str(path))
            with open(path, "rb") as handle:
                header_len = int.from_bytes(handle.read(8), "little")
                header = json.loads(handle.read(header_len))
            meta = json.loads(header.get("__metadata__", {}).get("recunlearn", "{}"))
        except (SafetensorError, OSError, ValueError) as exc:
            raise DataError(
                f"corrupted brick ({exc}); delete it to recompute it", path=path
            ) from exc
        if "matrix" not in tensors:
            raise DataError("brick has no 'matrix' tensor; delete it", path=path, field="matrix")
        if meta.get("source") != source:
            raise DataError("brick was computed for other embeddings", path=path, field="source")
        return tensors["matrix"], meta

    def put(self, key: str, matrix: torch.Tensor, meta: dict[str, Any]) -> Path:
        """Write a brick atomically; an existing brick is kept as is (first writer wins)."""
        path = self.path(key)
        if path.exists():
            return path
        meta = {**meta, "library": _version()}
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.tmp-", dir=self.bricks)
        os.close(fd)
        try:
            save_file(
                {"matrix": matrix.detach().contiguous().to(torch.float32)},
                tmp,
                metadata={"recunlearn": json.dumps(meta)},
            )
            if path.exists():  # another process finished first
                Path(tmp).unlink()
            else:
                os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def clean(self) -> int:
        """Remove temporary files left by killed writers; returns how many."""
        stale = [*self.bricks.glob(".*.tmp-*"), *self.root.glob(f".{MARKER}.tmp-*")]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)


def _version() -> str:
    try:
        return metadata.version("recunlearn")
    except metadata.PackageNotFoundError:
        return "unknown"


def _only_store_parts(root: Path) -> bool:
    """True when every entry of ``root`` belongs to a store (possibly one being created)."""
    for entry in root.iterdir():
        if entry.name == MARKER or entry.name.startswith(f".{MARKER}.tmp-"):
            continue
        if entry.name == "bricks" and entry.is_dir():
            continue
        return False
    return True
