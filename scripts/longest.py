"""Print the longest modules and functions, so the size rules (~400 lines a module, ~60 a function) can be checked.

    python scripts/longest.py                  # top 15 of each over engine/ loaders/ cypher/ bench/ scripts/
    python scripts/longest.py --top 5 engine   # another scope
    python scripts/longest.py --check          # exit 1 when anything is over the limits

Lengths are physical lines as `ast` sees them: a module's line count, a function's span from its first
decorator to its last line (docstrings and comments included, since a reader has to get through them too).
Nested functions and methods are listed under their qualified name (``Class.method``, ``outer.inner``).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATHS = ("engine", "loaders", "cypher", "bench", "scripts")
MAX_MODULE = 400
MAX_FUNCTION = 60


class Span(NamedTuple):
    lines: int
    where: str  # path[:line]
    name: str


def python_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_file() and path.suffix == ".py":
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)


def _functions(
    node: ast.AST, prefix: str = ""
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method under `node`, with its qualified name."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + child.name, child
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        else:
            yield from _functions(child, prefix)


def measure(path: Path, shown: str) -> tuple[Span, list[Span]]:
    """The module's span and its functions' spans (a file that does not parse raises SyntaxError)."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))
    module = Span(len(text.splitlines()), shown, "")
    funcs = []
    for name, fn in _functions(tree):
        first = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
        funcs.append(Span((fn.end_lineno or fn.lineno) - first + 1, f"{shown}:{first}", name))
    return module, funcs


def collect(paths: list[Path]) -> tuple[list[Span], list[Span]]:
    modules: list[Span] = []
    functions: list[Span] = []
    for path in python_files(paths):
        shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        module, funcs = measure(path, shown)
        modules.append(module)
        functions += funcs
    key = lambda s: (-s.lines, s.where)  # noqa: E731 - longest first, ties by place
    return sorted(modules, key=key), sorted(functions, key=key)


def report(title: str, spans: list[Span], top: int, limit: int) -> int:
    """Print the top `top` spans (and every one over `limit`); return how many are over it."""
    over = sum(1 for s in spans if s.lines > limit)
    print(f"{title} (limit ~{limit} lines; {over} over, of {len(spans)})")
    for s in spans[: max(top, over)]:
        mark = "!" if s.lines > limit else " "
        print(f" {mark}{s.lines:5d}  {s.where}{'  ' + s.name if s.name else ''}")
    return over


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help=f"files or folders (default: {' '.join(DEFAULT_PATHS)})")
    parser.add_argument("--top", type=int, default=15, help="how many of each to print (default 15)")
    parser.add_argument("--max-module", type=int, default=MAX_MODULE, help="module limit in lines")
    parser.add_argument("--max-function", type=int, default=MAX_FUNCTION, help="function limit in lines")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a module or function is over its limit"
    )
    args = parser.parse_args(argv)
    paths = [Path(p).resolve() for p in args.paths] or [ROOT / p for p in DEFAULT_PATHS]
    if missing := [str(p) for p in paths if not p.exists()]:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    try:
        modules, functions = collect(paths)
    except SyntaxError as exc:
        print(f"error: {exc.filename}, line {exc.lineno}: {exc.msg}", file=sys.stderr)
        return 2
    over = report("Longest modules", modules, args.top, args.max_module)
    print()
    over += report("Longest functions", functions, args.top, args.max_function)
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())
