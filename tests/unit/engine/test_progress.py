"""The build's progress bar shows a rate (texts/s) next to the ETA."""

from __future__ import annotations

import io

from rich.console import Console

from toolflow.engine.progress import progress_bar


def test_rate_column_shows_items_per_second():
    clock = [0.0]
    console = Console(file=io.StringIO(), width=120, force_terminal=False)
    bar = progress_bar(console, rate="texts")
    bar.get_time = lambda: clock[0]  # rich reads the time through this hook
    with bar:
        task = bar.add_task("embedding", total=1000)
        for _ in range(4):
            clock[0] += 1.0
            bar.advance(task, 50)
        line = str(bar.columns[-1].render(bar.tasks[0]))
        assert line == "50 texts/s"
        remaining = bar.columns[-2].render(bar.tasks[0])
        assert str(remaining) == "0:00:16"  # 800 texts left at 50/s


def test_no_rate_before_progress():
    bar = progress_bar(Console(file=io.StringIO()), rate="texts")
    with bar:
        bar.add_task("embedding", total=None)
        assert str(bar.columns[-1].render(bar.tasks[0])) == ""
