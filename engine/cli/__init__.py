"""The `toolflow` command line. `main` is the root group (the console script's entry point)."""

from toolflow.engine.cli.root import cli as main

__all__ = ["main"]
