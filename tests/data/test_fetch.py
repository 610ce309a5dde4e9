"""fetch(): download from a local HTTP server, checksum checks, atomic installation."""

from __future__ import annotations

import hashlib
import http.server
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from recunlearn.core.errors import DataError
from recunlearn.data.fetch import SOURCES, destination, fetch, parse_checksum
from recunlearn.data.movielens import load_movielens_100k
from tests.data.test_movielens import write_ml100k


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, silent, counting GET requests."""

    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        """Silence the access log."""


@pytest.fixture
def server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Path, list[str]]]:
    """A local HTTP server on 127.0.0.1: (base url, served folder, request log)."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    served = tmp_path / "served"
    served.mkdir()
    hits: list[str] = []
    handler = type("Handler", (_Handler,), {"hits": hits})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(handler, directory=str(served))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served, hits
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def make_zip(
    served: Path, tmp_path: Path, name: str = "ml-100k.zip", drop: str | None = None
) -> str:
    """Zip a miniature ML-100K (top folder ``ml-100k/``) into ``served``; returns its md5."""
    source = write_ml100k(tmp_path / "source" / "ml-100k")
    archive = served / name
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(source.iterdir()):
            if path.name != drop:
                zf.write(path, f"ml-100k/{path.name}")
    return hashlib.md5(archive.read_bytes()).hexdigest()


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_fetch_downloads_verifies_and_extracts(server, tmp_path: Path) -> None:
    url, served, hits = server
    md5 = make_zip(served, tmp_path)
    root = tmp_path / "data"
    path = fetch("ml-100k", root, url=f"{url}/ml-100k.zip", checksum=f"md5:{md5}", progress=False)
    assert path == root / "ml-100k" and (path / "u.data").is_file()
    assert _leftovers(root) == ["ml-100k"], "no temporary file or folder left"
    assert load_movielens_100k(path).n_users == 4
    again = fetch("ml-100k", root, url=f"{url}/ml-100k.zip", checksum=md5, progress=False)
    assert again == path and len(hits) == 1, "a complete folder is not downloaded again"


def test_fetch_force_replaces_and_accepts_sha256(server, tmp_path: Path) -> None:
    url, served, hits = server
    make_zip(served, tmp_path)
    sha = hashlib.sha256((served / "ml-100k.zip").read_bytes()).hexdigest()
    root = tmp_path / "data"
    (root / "ml-100k").mkdir(parents=True)
    (root / "ml-100k" / "stale.txt").write_text("old")
    fetch(
        "ml-100k",
        root / "ml-100k",
        url=f"{url}/ml-100k.zip",
        checksum=f"sha256:{sha}",
        force=True,
        progress=False,
    )
    assert not (root / "ml-100k" / "stale.txt").exists() and (root / "ml-100k" / "u.item").is_file()
    assert _leftovers(root) == ["ml-100k"] and len(hits) == 1


def test_checksum_mismatch_deletes_everything(server, tmp_path: Path) -> None:
    url, served, _ = server
    make_zip(served, tmp_path)
    root = tmp_path / "data"
    with pytest.raises(DataError, match="checksum mismatch") as info:
        fetch("ml-100k", root, url=f"{url}/ml-100k.zip", checksum="md5:" + "0" * 32, progress=False)
    assert info.value.field == "checksum" and "deleted" in str(info.value)
    assert _leftovers(root) == []


def test_nothing_half_written_on_bad_archives(server, tmp_path: Path) -> None:
    url, served, _ = server
    root = tmp_path / "data"
    md5 = make_zip(served, tmp_path, drop="u.user")
    with pytest.raises(DataError, match="lacks"):
        fetch("ml-100k", root, url=f"{url}/ml-100k.zip", checksum=md5, progress=False)
    assert _leftovers(root) == []
    (served / "junk.zip").write_bytes(b"not a zip at all")
    md5 = hashlib.md5(b"not a zip at all").hexdigest()
    with pytest.raises(DataError, match="not a valid zip"):
        fetch("ml-100k", root, url=f"{url}/junk.zip", checksum=md5, progress=False)
    assert _leftovers(root) == []


def test_download_failure_is_a_data_error(server, tmp_path: Path) -> None:
    url, _, _ = server
    root = tmp_path / "data"
    with pytest.raises(DataError, match="cannot download"):
        fetch("ml-100k", root, url=f"{url}/missing.zip", checksum="0" * 32, progress=False)
    assert _leftovers(root) == []


def test_bad_requests(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="known datasets"):
        fetch("netflix", tmp_path)
    with pytest.raises(DataError, match="http"):
        fetch("ml-1m", tmp_path, url="file:///etc/passwd", force=True)
    assert _leftovers(tmp_path) == []


def test_sources_and_checksum_parsing() -> None:
    for source in SOURCES.values():
        algorithm, digest = parse_checksum(source.checksum)
        assert algorithm == "md5" and len(digest) == 32
        assert source.url.startswith("https://files.grouplens.org/datasets/movielens/")
    assert parse_checksum("A" * 64) == ("sha256", "a" * 64)
    with pytest.raises(DataError):
        parse_checksum("crc32:1234")


def test_destination_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert destination("ml-1m", tmp_path) == tmp_path / "ml-1m"
    assert destination("ml-1m", tmp_path / "ml-1m") == tmp_path / "ml-1m"
    monkeypatch.setenv("RECUNLEARN_DATA", str(tmp_path / "env"))
    assert destination("ml-100k") == tmp_path / "env" / "ml-100k"
