"""The one error type loaders raise, carrying where in the input the problem is.

A loader that fails on a 47k-line file is only useful if the message says which line and which field,
so every error names the file and, when known, the line, the JSON pointer and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from toolflow.engine.errors import InputError


class LoadError(ValueError, InputError):
    """Bad or unrecognised input: the message names the file, line or JSON pointer, and field."""

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        pointer: str | None = None,
        field: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.line = line
        self.pointer = pointer
        self.field = field
        super().__init__(self._format())

    def _format(self) -> str:
        where: list[str] = []
        if self.file:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.pointer is not None:
            where.append(f"at {self.pointer or '/'}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.problem}" if where else self.problem

    def located(
        self,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        pointer: str | None = None,
        field: str | None = None,
    ) -> LoadError:
        """A copy with missing location parts filled in (inner code knows the field, outer code the file)."""
        return LoadError(
            self.problem,
            file=self.file if self.file is not None else file,
            line=self.line if self.line is not None else line,
            pointer=self.pointer if self.pointer is not None else pointer,
            field=self.field if self.field is not None else field,
        )


#: Called for each recoverable problem: raise it (strict) or record it and go on (skip_invalid).
OnError = Callable[[LoadError], None]


def raise_error(err: LoadError) -> None:
    """The strict default for `OnError`."""
    raise err


def json_pointer(*parts: str | int) -> str:
    """RFC 6901 pointer from raw path parts ('/' and '~' escaped)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
