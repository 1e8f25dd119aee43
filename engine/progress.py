"""The one progress bar: rich on stderr, the same columns for every long job (load, build, sample, synth)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def progress_bar(console: Console | None = None, *, transient: bool = False, disable: bool = False,
                 extra: str = "") -> Progress:
    """A rich Progress with description, bar, n/total, elapsed and remaining time (`extra`: a trailing
    text column, e.g. ``"kept {task.fields[kept]}"``)."""
    columns = [TextColumn("[bold]{task.description:<14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn()]
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
