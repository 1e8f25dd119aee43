"""The console the use cases narrate on: the caller's, or a silent one for a notebook or a pipeline."""

from __future__ import annotations

from rich.console import Console


def quiet_console() -> Console:
    """A console that prints nothing (progress bars and summaries are dropped)."""
    return Console(stderr=True, quiet=True)
