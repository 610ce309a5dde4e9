"""Helpers of the fault suite that run in child processes (so they live at module level), and
the checks of what a killed or raced writer leaves behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORK = multiprocessing.get_context("fork")
"""Children inherit the parent's imported modules: no second torch import per child."""


def kill_self() -> None:
    """End this process the way ``kill -9`` does: no cleanup, no ``finally``."""
    os.kill(os.getpid(), signal.SIGKILL)


def run_in_pair(target: Callable[..., Any], args: tuple, tags: tuple[str, str]) -> list[Any]:
    """Run ``target(*args, barrier, queue, tag)`` in two processes that wait on one barrier
    before each attempt; returns what each put on the queue, in tag order."""
    barrier = FORK.Barrier(2)
    queue = FORK.Queue()
    procs = [FORK.Process(target=target, args=(*args, barrier, queue, tag)) for tag in tags]
    for proc in procs:
        proc.start()
    results = dict(queue.get(timeout=120) for _ in procs)
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0, f"child exited with {proc.exitcode}"
    return [results[tag] for tag in tags]


def hidden_leftovers(folder: Path) -> list[str]:
    """Names of temporary entries (``.name.tmp-*``) in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and ".tmp-" in p.name)
