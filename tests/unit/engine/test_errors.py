"""One failure model: every error class ToolFlow defines descends from ToolFlowError, and the CLI prints one
that escapes as one line with its kind's exit code."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from toolflow.engine.cli.options import ToolFlowGroup
from toolflow.engine.errors import (
    ERROR_KINDS,
    BudgetError,
    ConfigError,
    InputError,
    LLMError,
    StoreError,
    ToolFlowError,
)

ROOT = Path(__file__).resolve().parents[3]

#: Signals used for control flow inside the repair loop, never surfaced to a caller, and the CLI's own error.
NOT_FAILURES = {"RepairFeedback", "Unrepairable", "Fail"}


def _exception_classes() -> list[tuple[str, str]]:
    """(module, class) for every class in engine/ and loaders/ whose bases look like exceptions."""
    found = []
    for path in [*ROOT.joinpath("engine").rglob("*.py"), *ROOT.joinpath("loaders").rglob("*.py")]:
        rel = path.relative_to(ROOT).with_suffix("")
        module = "toolflow." + ".".join(rel.parts)
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.ClassDef) or node.name in NOT_FAILURES:
                continue
            bases = [ast.unparse(b) for b in node.bases]
            if any(
                b.endswith(("Error", "Exception", "Violation", "Conflict", "Timeout", "Unavailable"))
                or b.startswith(("ValueError", "RuntimeError", "ConnectionError"))
                for b in bases
            ):
                found.append((module, node.name))
    return found


def test_every_error_class_has_the_root() -> None:
    classes = _exception_classes()
    assert len(classes) >= 20  # the scan found the classes, not nothing
    for module, name in classes:
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, ToolFlowError), f"{module}.{name} does not descend from ToolFlowError"


def test_built_in_bases_are_kept() -> None:
    from toolflow.engine.llm.errors import LLMError as LayerLLMError
    from toolflow.engine.llm.errors import LLMSettingsError
    from toolflow.engine.stores.base import QueryTimeout, StoreUnavailable
    from toolflow.loaders.errors import LoadError

    assert issubclass(LoadError, ValueError) and issubclass(LoadError, InputError)
    assert issubclass(StoreUnavailable, ConnectionError) and issubclass(StoreUnavailable, StoreError)
    assert issubclass(QueryTimeout, RuntimeError) and issubclass(QueryTimeout, StoreError)
    assert issubclass(LayerLLMError, RuntimeError) and issubclass(LayerLLMError, LLMError)
    assert issubclass(LLMSettingsError, ValueError) and issubclass(LLMSettingsError, ConfigError)
    err = LoadError("bad type", file="t.json", line=3, field="type")
    assert (err.file, err.line, err.field) == ("t.json", 3, "type") and "t.json, line 3" in str(err)


def test_location_is_part_of_the_message() -> None:
    err = InputError("not a number", file="a.jsonl", line=7, field="n")
    assert str(err) == "a.jsonl, line 7, field 'n': not a number"
    assert str(ConfigError("shares add up to 1.4", option="--mix")) == "--mix: shares add up to 1.4"
    assert str(ToolFlowError("plain")) == "plain"


def test_exit_codes_are_distinct() -> None:
    codes = [kind.exit_code for kind in ERROR_KINDS]
    assert len(set(codes)) == len(codes) and not {0, 1, 2} & set(codes)


@pytest.mark.parametrize(
    "exc",
    [
        InputError("bad\n  line", file="x.jsonl", line=2),
        ConfigError("nope", option="--mix"),
        StoreError("store gone"),
        LLMError("no answer"),
        BudgetError("out of tokens"),
    ],
)
def test_cli_prints_one_line_with_the_kinds_code(exc: ToolFlowError) -> None:
    @click.group(cls=ToolFlowGroup)
    def root() -> None:
        pass

    @root.command()
    def boom() -> None:
        raise exc

    result = CliRunner().invoke(root, ["boom"])
    assert result.exit_code == type(exc).exit_code
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0] == "Error: " + " ".join(str(exc).split())


def test_a_store_error_from_the_engine_exits_with_the_store_code() -> None:
    from toolflow.engine.stores.base import StoreUnavailable

    @click.group(cls=ToolFlowGroup)
    def root() -> None:
        pass

    @root.group()
    def sub() -> None:
        pass

    @sub.command()
    def lost() -> None:
        raise StoreUnavailable("neo4j at bolt://u:secret@127.0.0.1:7687 stopped answering")

    result = CliRunner().invoke(root, ["sub", "lost"])
    assert result.exit_code == StoreError.exit_code and "secret" not in result.output
