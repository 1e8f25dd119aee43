"""The `toolflow` command line (entry point: `toolflow.engine.cli.main:cli`)."""
