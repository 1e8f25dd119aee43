"""One failure model: every error ToolFlow raises on purpose descends from `ToolFlowError`.

Callers (the CLI, a notebook, a pipeline) can catch one root, or one kind: bad input, a store that fails, an
LLM that cannot answer, a setting that cannot be used, a budget that ran out. Each kind has its own exit
code, so a script driving `toolflow` can tell "fix your file" from "the server is down" without parsing
text. The concrete classes elsewhere keep their historical built-in bases (ValueError, RuntimeError, …)
beside these, so existing `except ValueError:` clauses keep working.

Location (file, line, field, option) is optional and lives in class-level defaults, because subclasses that
also derive from a built-in exception do not run this `__init__` through the cooperative chain.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar


class ToolFlowError(Exception):
    """Root of ToolFlow's own errors: a one-line message, optionally naming where the problem is."""

    exit_code: ClassVar[int] = 1
    kind: ClassVar[str] = "error"
    file: str | None = None
    line: int | None = None
    field: str | None = None
    option: str | None = None

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        option: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.option = option
        where = self.where()
        super().__init__(f"{where}: {message}" if where else message)

    def where(self) -> str:
        """The location parts that are known, joined (``file, line 3, field 'x'`` or ``--mix``)."""
        parts: list[str] = []
        if self.option:
            parts.append(self.option)
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)


class InputError(ToolFlowError):
    """A file or value given to ToolFlow cannot be used (tool files, labels, dialogues, a query)."""

    exit_code = 3
    kind = "input"


class ConfigError(ToolFlowError):
    """An option, environment variable or setting has a value that cannot be used."""

    exit_code = 4
    kind = "config"


class StoreError(ToolFlowError):
    """The graph store cannot serve the work (unreachable, busy, a query stopped)."""

    exit_code = 5
    kind = "store"


class LLMError(ToolFlowError):
    """The language model (or a simulated/live tool behind it) could not produce what was asked."""

    exit_code = 6
    kind = "llm"


class BudgetError(ToolFlowError):
    """A token, time or repair budget ran out before the work was done."""

    exit_code = 7
    kind = "budget"


#: Every kind with its exit code, most specific first (the CLI's --help epilog and docs/errors.md list them).
ERROR_KINDS: tuple[type[ToolFlowError], ...] = (InputError, ConfigError, StoreError, LLMError, BudgetError)


def exit_code_for(exc: BaseException) -> int:
    """The process exit code for an error: its kind's code, 1 for any other ToolFlowError or exception."""
    return exc.exit_code if isinstance(exc, ToolFlowError) else 1


def one_line(exc: BaseException) -> str:
    """The error's message on one line (drivers add caret lines and indented detail)."""
    return " ".join(str(exc).split()) or type(exc).__name__
