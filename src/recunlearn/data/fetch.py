"""Download a MovieLens archive from its publisher, verify it and unpack it atomically.

Nothing is downloaded unless :func:`fetch` is called (``recunlearn data fetch <name>``); the
loaders never download. The archive goes to a temporary file next to the destination, its
checksum is verified (a mismatch deletes it), it is extracted into a temporary folder and only
then moved into place with :func:`os.replace`, so an interrupted or failed fetch never leaves a
half-written dataset folder behind.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recunlearn.core.errors import DataError
from recunlearn.data.paths import data_root

logger = logging.getLogger(__name__)

_CHUNK = 1 << 16


@dataclass(frozen=True)
class Source:
    """Where a dataset is published and how to check the download.

    Attributes:
        url: the publisher's archive.
        checksum: ``"<algorithm>:<hex digest>"`` of the archive.
        required: files that must be present in the extracted folder.
    """

    url: str
    checksum: str
    required: tuple[str, ...]


# The MD5s are GroupLens' own published values (the ``.zip.md5`` files next to each archive,
# "MD5 (ml-100k.zip) = 0e33842e24a9c977be4e0107933c0723" and
# "MD5 (ml-1m.zip) = c4d9eecfca2ab87c1945afe126590906"), as quoted identically by several
# independent projects that verify their downloads against those files.
SOURCES: dict[str, Source] = {
    "ml-100k": Source(
        url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        checksum="md5:0e33842e24a9c977be4e0107933c0723",
        required=("u.data", "u.user", "u.item"),
    ),
    "ml-1m": Source(
        url="https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        checksum="md5:c4d9eecfca2ab87c1945afe126590906",
        required=("ratings.dat", "users.dat", "movies.dat"),
    ),
}


def parse_checksum(checksum: str) -> tuple[str, str]:
    """``"md5:<hex>"``, ``"sha256:<hex>"`` or a bare hex digest (32 chars = md5, 64 = sha256)."""
    algorithm, sep, digest = checksum.strip().lower().rpartition(":")
    if not sep:
        algorithm = {32: "md5", 40: "sha1", 64: "sha256"}.get(len(digest), "")
    if algorithm not in ("md5", "sha1", "sha256") or not digest:
        raise DataError(
            f"cannot read checksum {checksum!r} (use 'md5:<hex>' or 'sha256:<hex>')",
            field="checksum",
        )
    return algorithm, digest


def destination(name: str, dest: str | Path | None = None) -> Path:
    """Folder a fetch of ``name`` fills: ``dest/<name>`` (or ``dest`` itself if it is already
    called ``<name>``); by default ``$RECUNLEARN_DATA/<name>`` or the cache."""
    if dest is None:
        return data_root() / name
    dest = Path(dest).expanduser()
    return dest if dest.name == name else dest / name


def _complete(folder: Path, required: tuple[str, ...]) -> bool:
    return folder.is_dir() and all((folder / f).is_file() for f in required)


def _download(url: str, target: Path, algorithm: str, progress: bool) -> str:
    """Stream ``url`` into ``target`` and return its hex digest."""
    digest = hashlib.new(algorithm)
    try:
        response = urllib.request.urlopen(url, timeout=60)
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(
            f"cannot download {url}: {getattr(exc, 'reason', exc)}", field="url"
        ) from exc
    with response, target.open("wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        bar = _progress_bar(total, url, progress)
        try:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
        finally:
            bar.close()
    return digest.hexdigest()


def _progress_bar(total: int | None, url: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1], disable=not enabled
    )


def _safe_extract(archive: Path, into: Path) -> None:
    """Extract a zip, refusing members that would land outside ``into``."""
    root = into.resolve()
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                target = (into / member.filename).resolve()
                if root != target and root not in target.parents:
                    raise DataError(f"unsafe path in archive: {member.filename!r}", path=archive)
            zf.extractall(into)
    except zipfile.BadZipFile as exc:
        raise DataError(f"not a valid zip archive: {exc}", path=archive) from exc


def _content_root(folder: Path) -> Path:
    """The single top-level folder of an extracted archive, or ``folder`` itself."""
    entries = [p for p in folder.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder


def _install(extracted: Path, final: Path, scratch: Path) -> None:
    """Move ``extracted`` to ``final`` (replacing an existing folder) with renames only."""
    old = None
    if final.exists():
        old = scratch / "previous"
        os.replace(final, old)
    try:
        os.replace(extracted, final)
    except OSError:
        if old is not None:
            os.replace(old, final)
        raise


def fetch(
    name: str,
    dest: str | Path | None = None,
    *,
    url: str | None = None,
    checksum: str | None = None,
    force: bool = False,
    progress: bool = True,
) -> Path:
    """Download dataset ``name`` from its publisher, verify its checksum and unpack it.

    Args:
        name: ``"ml-100k"`` or ``"ml-1m"``.
        dest: data root (the dataset goes to ``dest/<name>``) or the dataset folder itself
            when its name is ``name``; default ``$RECUNLEARN_DATA/<name>`` or the user cache.
        url: another location of the same archive (e.g. a mirror); must be http(s).
        checksum: expected ``"md5:<hex>"`` / ``"sha256:<hex>"`` overriding the built-in one
            (needed when ``url`` serves a different archive).
        force: download again even when the folder is already complete. An existing folder
            (complete with ``force``, or incomplete) is replaced only after the new archive
            has been verified and extracted; until then it is left untouched.
        progress: show a progress bar on stderr.

    Returns:
        The dataset folder.

    Raises:
        DataError: unknown name, download failure, checksum mismatch (the download is deleted),
            invalid archive or an archive without the expected files.
    """
    if name not in SOURCES:
        raise DataError(
            f"cannot fetch {name!r}: known datasets are {sorted(SOURCES)}", field="name"
        )
    source = SOURCES[name]
    final = destination(name, dest)
    if _complete(final, source.required) and not force:
        logger.info("%s already present in %s", name, final)
        return final
    url = url or source.url
    if not url.startswith(("http://", "https://")):
        raise DataError(f"only http(s) URLs are supported, got {url!r}", field="url")
    algorithm, expected = parse_checksum(checksum or source.checksum)
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-fetch-", dir=final.parent))
    try:
        archive = scratch / f"{name}.zip.part"
        got = _download(url, archive, algorithm, progress)
        if got != expected:
            archive.unlink(missing_ok=True)
            raise DataError(
                f"checksum mismatch for {url}: expected {algorithm} {expected}, got {got}; "
                "the download was deleted",
                field="checksum",
            )
        extracted = scratch / "extracted"
        _safe_extract(archive, extracted)
        archive.unlink()
        content = _content_root(extracted)
        missing = [f for f in source.required if not (content / f).is_file()]
        if missing:
            raise DataError(f"the archive from {url} lacks {missing}", field="files")
        _install(content, final, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    logger.info("%s ready in %s", name, final)
    return final
