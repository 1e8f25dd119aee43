"""One function declaration (`{name, description, parameters}`) to a Tool: shared by OpenAI and BFCL.

Both formats declare functions the same way and differ only in the wrappers around them and in how
loose their types are; the wrappers live in `openai_tools.py` and `bfcl.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolflow.loaders.build import FileContext
from toolflow.loaders.sources import data_suffix

#: Keys of a function declaration that become Tool fields; the rest is kept in `extra`.
_KNOWN = frozenset({"name", "description", "parameters", "response", "returns", "required"})


def file_stem(path: Path) -> str:
    """The file name without its data extensions ('a.v2.jsonl.gz' -> 'a.v2')."""
    name = path.name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    suffix = data_suffix(path)
    return name[: -len(suffix)] if suffix and name.lower().endswith(suffix) else name


def add_function(
    ctx: FileContext,
    fn: Any,
    *,
    source: str,
    group: int | None,
    line: int | None,
    pointer: str,
    category: str | None = None,
    fn_pointer: str | None = None,
) -> None:
    """Validate one declaration and add it under id `<source>:<file stem>/<source name>`.

    `fn_pointer` is where the declaration itself sits when `pointer` names its wrapper (OpenAI's
    `{"type": "function", "function": {...}}`); dangling `$ref`s are reported under it.
    """
    if not isinstance(fn, dict):
        ctx.error(
            f"function declaration must be an object, got {type(fn).__name__}", line=line, pointer=pointer
        )
        return
    name = fn.get("name")
    parameters = fn.get("parameters")
    # Some exports (xLAM/APIGen-style) put `required` beside `parameters` instead of inside it.
    if isinstance(parameters, dict) and "required" not in parameters and isinstance(fn.get("required"), list):
        parameters = {**parameters, "required": fn["required"]}
    returns_key = "response" if "response" in fn else "returns"
    returns = fn.get(returns_key)
    if isinstance(returns, str):  # a prose description of the result is still worth keeping
        returns = {"description": returns}
    extra = {k: v for k, v in fn.items() if k not in _KNOWN}
    tool = ctx.make(
        id=f"{source}:{file_stem(ctx.path)}/{name}",
        name=name,
        description=fn.get("description"),
        parameters=parameters,
        returns=returns,
        category=category,
        source=source,
        extra=extra,
        line=line,
        pointer=pointer,
        parameters_at=f"{fn_pointer or pointer}/parameters",
        returns_at=f"{fn_pointer or pointer}/{returns_key}",
    )
    ctx.add(tool, group=group, line=line, pointer=pointer)
