"""Where a result comes from: library versions, the source commit and the machine.

Recorded with every run directory, audit and benchmark record, so a number can be traced to
the code and the host that produced it.
"""

from __future__ import annotations

import os
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

_VERSIONED = ("recunlearn", "torch", "numpy", "scipy", "pandas", "scikit-learn")


def versions() -> dict[str, str]:
    """Python and library versions, recorded with every run and benchmark record."""
    out = {"python": platform.python_version()}
    for package in _VERSIONED:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "absent"
    return out


@lru_cache(maxsize=1)
def git_commit() -> str:
    """Short commit of the source tree recunlearn is imported from (``+dirty`` when tracked
    files are modified; ``unknown`` outside a git work tree)."""
    where = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def machine() -> dict[str, Any]:
    """Host, processor, cores, memory and the load average when the cell started."""
    info: dict[str, Any] = {
        "node": platform.node(),
        "system": f"{platform.system()} {platform.release()}",
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        info["memory_gib"] = round(pages * size / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return info
