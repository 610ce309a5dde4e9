"""A rich progress bar over training epochs, shared by the base models and the per-user
methods; disabled, it does nothing (so library callers and the bench stay silent)."""

from __future__ import annotations

from typing import Any


class EpochBar:
    """``label  [bar]  epoch k/total  info  elapsed``, removed from the terminal when closed.

    Args:
        enabled: show the bar (False: every call is a no-op).
        total: the number of epochs.
        label: the bar's label (e.g. the model's or the method's name).
    """

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self._progress: Any = None
        if enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn(f"[bold]{label}[/bold]"),
                BarColumn(),
                TextColumn("epoch {task.completed}/{task.total}"),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(label, total=total, info="")

    def update(self, completed: int, info: str = "") -> None:
        """``completed`` epochs done; ``info`` (e.g. the loss and the best validation value)."""
        if self._progress is not None:
            self._progress.update(self._task, completed=completed, info=info)

    def close(self) -> None:
        """Remove the bar (safe to call twice)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
