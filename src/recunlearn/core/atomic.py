"""Atomic writes: outputs are built under a temporary name and renamed into place.

A reader therefore sees either the previous complete output or the new complete output, never
a half-written one, and a crash leaves at most a hidden ``.tmp-*`` sibling behind.

Every directory written here carries an owner mark (:data:`OWNER_MARK`, naming what wrote it).
An existing directory is only ever replaced when it carries the mark (or is an output written
before the mark existed, recognised by its files): ``--overwrite`` on a folder of the user's
own is refused. Two processes writing the same new directory cannot both succeed: the second
rename finds the first one's complete directory and fails with a clear error.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recunlearn.core.errors import ConfigError

OWNER_MARK = ".recunlearn"
"""File in every directory recunlearn writes; its text names the kind of output."""

LEGACY_SIGNATURES: tuple[tuple[str, ...], ...] = (
    ("config.json", "metrics.json"),
    ("records.json", "summary.md"),
)
"""File sets that identify an output written before :data:`OWNER_MARK` existed."""


def is_own_directory(path: str | Path) -> bool:
    """True when ``path`` is a directory recunlearn wrote (owner mark or a legacy layout)."""
    path = Path(path)
    if not path.is_dir():
        return False
    if (path / OWNER_MARK).is_file():
        return True
    return any(all((path / name).is_file() for name in names) for names in LEGACY_SIGNATURES)


def check_writable(final: str | Path, *, overwrite: bool = False) -> None:
    """Raise before any work when ``final`` cannot be written.

    Nothing is created: the parent folder (and its missing ancestors) are made when the
    output is written.

    Raises:
        ConfigError: ``final`` exists, is not an empty folder, and ``overwrite`` is false or it
            is not a directory recunlearn wrote; or its parent folder cannot be created or
            written (a file in the way, no permission, a read-only file system).
    """
    final = Path(final)
    if final.exists() and not (final.is_dir() and not any(final.iterdir())):
        if not overwrite:
            raise ConfigError(f"{final} already exists (pass --overwrite to replace it)")
        if not is_own_directory(final):
            raise ConfigError(
                f"{final} is not a directory recunlearn wrote (no {OWNER_MARK} file): refusing "
                "to replace it; choose another output path"
            )
    _check_can_create_in(final.parent)


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_can_create_in(folder: Path) -> None:
    """Raise unless a directory can be created in ``folder`` (or in the closest existing
    ancestor, when ``folder`` does not exist yet); nothing is left behind.

    The check really creates (and removes) a directory: permission bits alone do not tell
    about read-only file systems, and every write is allowed to root.
    """
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise ConfigError(f"cannot create the folder {folder}: {existing} is a file, not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=".recunlearn-probe-", dir=existing)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"cannot write into {existing}: {reason}; choose an output folder you can write to"
        ) from exc
    os.rmdir(probe)


@contextmanager
def atomic_directory(
    final: str | Path, *, overwrite: bool = False, kind: str = "output"
) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``final`` when the block succeeds.

    Args:
        final: the directory to create.
        overwrite: replace an existing ``final`` that recunlearn wrote (otherwise its existence
            is an error, checked before any work is done and again at the final rename).
        kind: what is written (stored in the owner mark), e.g. ``run`` or ``audit``.

    Raises:
        ConfigError: see :func:`check_writable`; or another process created ``final`` while
            this one was writing (nothing of either is lost).
    """
    final = Path(final)
    check_writable(final, overwrite=overwrite)
    tmp = _temporary_sibling(final)
    try:
        yield tmp
        (tmp / OWNER_MARK).write_text(kind + "\n")
        if final.exists() and overwrite and any(final.iterdir()):
            check_writable(final, overwrite=True)
            trash = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
            os.replace(final, trash / final.name)
            try:
                os.replace(tmp, final)
            except BaseException:
                os.replace(trash / final.name, final)  # put the old output back
                shutil.rmtree(trash, ignore_errors=True)
                raise
            shutil.rmtree(trash, ignore_errors=True)
        else:
            _rename_new(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _temporary_sibling(final: Path) -> Path:
    """A new hidden directory beside ``final`` (its parent folders created)."""
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"cannot write into {final.parent}: {reason}") from exc


def _rename_new(tmp: Path, final: Path) -> None:
    """Rename ``tmp`` to a ``final`` that must not have appeared meanwhile."""
    if final.exists() and not (final.is_dir() and not any(final.iterdir())):
        raise ConfigError(f"{final} was created by another process while this one was writing")
    try:
        os.rename(tmp, final)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise ConfigError(
                f"{final} was created by another process while this one was writing"
            ) from exc
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
