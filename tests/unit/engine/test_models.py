"""Boundary models: any source name becomes a valid OpenAI function name, keeping its distinguishing tail."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from toolflow.engine.models import FUNCTION_NAME_RE, to_function_name


def test_dots_spaces_and_runs_of_symbols_become_one_underscore() -> None:
    assert to_function_name("math.gcd") == "math_gcd"
    assert to_function_name("  Get the weather!! now ") == "Get_the_weather_now"
    assert to_function_name("already_valid-name") == "already_valid-name"


def test_a_long_name_keeps_its_tail() -> None:
    raw = "a" * 80 + "_distinguishing_part"
    name = to_function_name(raw)
    assert len(name) == 64 and name.endswith("_distinguishing_part")
    assert to_function_name(raw, max_len=10) == "shing_part"
    assert to_function_name(raw, max_len=5) == "part"  # a cut that starts with "_" drops it


def test_a_name_without_any_usable_character_is_tool() -> None:
    assert to_function_name("") == "tool"
    assert to_function_name("...///") == "tool"


@given(st.text(max_size=200))
def test_every_result_is_a_valid_function_name(raw: str) -> None:
    assert FUNCTION_NAME_RE.match(to_function_name(raw))
