"""The one progress bar: rich on stderr, the same columns for every long job (load, build, sample, synth)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second over rich's recent window (e.g. "212 texts/s"); blank until there is a rate."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} {self.unit}/s" if speed else "", style="progress.data.speed")


def progress_bar(console: Console | None = None, *, transient: bool = False, disable: bool = False,
                 extra: str = "", rate: str = "") -> Progress:
    """A rich Progress with description, bar, n/total, elapsed and remaining time (`extra`: a trailing
    text column, e.g. ``"kept {task.fields[kept]}"``; `rate`: a unit, to show items per second)."""
    columns: list[ProgressColumn | str] = [TextColumn("[bold]{task.description:<14}"), BarColumn(),
                                           MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
    if rate:
        columns.append(RateColumn(rate))
    if extra:
        columns.append(TextColumn(extra))
    return Progress(*columns, console=console or Console(stderr=True), transient=transient, disable=disable)


@contextmanager
def counter(total: int, label: str, enabled: bool = True, *, transient: bool = True) -> Iterator[Callable[[int], None]]:
    """A bar over `total` items yielding ``advance(k)``; a no-op callback when not `enabled`."""
    if not enabled:
        yield lambda k=1: None
        return
    with progress_bar(transient=transient) as bar:
        task = bar.add_task(label, total=total)
        yield lambda k=1: bar.advance(task, k)
