"""scripts/longest.py measures modules and functions (decorators and nesting included) and --check fails on
anything over its limit."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "longest.py"


@pytest.fixture(scope="module")
def longest():
    spec = importlib.util.spec_from_file_location("longest_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclass/NamedTuple machinery looks the module up
    spec.loader.exec_module(module)
    return module


SOURCE = """import functools


class Box:
    @functools.cache
    def method(self):
        def inner():
            return 1
        return inner()


async def short():
    return 2
"""


def test_spans_count_decorators_and_qualify_nested_names(tmp_path: Path, longest) -> None:
    path = tmp_path / "m.py"
    path.write_text(SOURCE)
    module, funcs = longest.measure(path, "m.py")
    assert module.lines == 13
    spans = {f.name: (f.lines, f.where) for f in funcs}
    assert spans == {"Box.method": (5, "m.py:5"), "Box.method.inner": (2, "m.py:7"), "short": (2, "m.py:12")}


def test_check_fails_only_over_the_limits(tmp_path: Path, longest, capsys) -> None:
    (tmp_path / "m.py").write_text(SOURCE)
    assert longest.main([str(tmp_path), "--check", "--max-function", "5", "--max-module", "13"]) == 0
    assert longest.main([str(tmp_path), "--check", "--max-function", "4"]) == 1
    out = capsys.readouterr().out
    assert "!    5  " in out and "Box.method" in out and "1 over, of 3" in out
    assert longest.main([str(tmp_path), "--max-function", "4"]) == 0  # without --check it only reports


def test_a_file_that_does_not_parse_is_one_line(tmp_path: Path, longest, capsys) -> None:
    (tmp_path / "bad.py").write_text("def f(:\n")
    assert longest.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.py, line 1" in err
