"""ToolBench per-tool JSON loader on the raw RapidAPI categories in shared/data/raw/toolbench."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolflow.loaders import LoadError, load_tools
from toolflow.loaders.toolbench import function_name

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
TOOLBENCH = DATA / "raw" / "toolbench"


@pytest.fixture(scope="module")
def email():
    return load_tools(TOOLBENCH / "Email")


def test_email_counts(email) -> None:
    # raw/toolbench/README.md: Email has 161 tool files and 1,140 APIs. 48 API names repeat within
    # their file: repeats with the same parameters merge, the 20 others are kept under a suffixed name.
    assert email.files == 161 and email.skipped == []
    assert len(email.tools) + email.merged == 1140
    assert (len(email.tools), email.merged, len(email.renamed)) == (1112, 28, 20)
    assert all(r.reason == "definition" and r.new_id.startswith("toolbench:Email/") for r in email.renamed)
    assert {t.category for t in email.tools} == {"Email"}
    strict = load_tools(TOOLBENCH / "Email", skip_invalid=True, strict=True)
    assert (len(strict.tools), strict.merged, len(strict.skipped)) == (1092, 26, 22)
    assert all("duplicate tool id 'toolbench:Email/" in msg for msg in strict.skipped)


def test_strict_load_names_the_duplicate() -> None:
    with pytest.raises(
        LoadError, match=r"email_utilities\.json, at /api_list/\d+, field 'name': duplicate tool id"
    ):
        load_tools(TOOLBENCH / "Email" / "email_utilities.json", strict=True)


def test_names_match_toolbench_function_names(email) -> None:
    """Every Email tool's function names equal the names ToolBench uses (from the shared tool index)."""
    expected: dict[str, set[str]] = {}
    with open(DATA / "toolbench_rapidapi_tool_index.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if '"category": "Email"' in line:
                row = json.loads(line)
                expected[row["tool_key"]] = set(row["functions"])
    source_name = {r.new_id: r.old_name for r in email.renamed}  # copies renamed `<name>_2` by the load
    loaded: dict[str, set[str]] = {}
    for tool in email.tools:
        name = source_name.get(tool.id, tool.name)
        loaded.setdefault(f"Email/{tool.extra['tool_standardized_name']}", set()).add(name)
    assert len(expected) == 161
    assert loaded == expected


def test_spot_check_send_otp(email) -> None:
    tool = next(t for t in email.tools if t.id == "toolbench:Email/abir82_otp_service/Send OTP")
    assert tool.name == "send_otp_for_abir82_otp_service"
    assert tool.original_name == "Send OTP"
    assert tool.required == ["email_to", "email_from", "password"]
    email_to = tool.parameters["properties"]["email_to"]
    assert email_to["type"] == "string" and email_to["x-original-type"] == "STRING"
    assert email_to["examples"] == ["email_id_of_receiver"]  # RapidAPI `default` is an example value
    assert tool.extra["tool_name"] == "Abir82 OTP Service"


def test_real_and_inferred_return_schemas(email) -> None:
    verify = next(t for t in email.tools if t.id == "toolbench:Email/bouncer_email_verification/VerifyEmail")
    assert verify.returns_inferred is False
    assert set(verify.returns["properties"]) >= {"account", "domain", "email", "status"}
    assert verify.parameters["properties"]["timeout"]["type"] == "number"
    inferred = [t for t in email.tools if t.returns_inferred]
    assert len(inferred) == 29
    assert all(t.returns.get("type") in {"object", "array"} for t in inferred)
    assert sum(t.returns is not None for t in email.tools) == 80


def test_loose_types_are_normalized(email) -> None:
    types = {
        p.get("x-original-type"): p.get("type")
        for t in email.tools
        for p in t.parameters["properties"].values()
        if "x-original-type" in p
    }
    assert types["CREDENTIALS"] == "string"
    assert types["DATEPICKER"] == "string"
    assert types["LIST"] == "array"
    assert types["JSON"] == "object"
    assert types["BOOLEAN"] == "boolean"


@pytest.mark.parametrize(
    ("category", "files", "apis"),
    [("Food", 136, 538), ("Translation", 114, 305), ("Weather", 106, 405)],
)
def test_other_categories_account_for_every_api(category: str, files: int, apis: int) -> None:
    result = load_tools(TOOLBENCH / category, skip_invalid=True)
    assert result.files == files
    assert len(result.tools) + result.merged + len(result.skipped) == apis
    assert all(t.id.startswith(f"toolbench:{category}/") for t in result.tools)


def test_function_name_rule() -> None:
    assert function_name("Get Weather (v2)", "weather_api") == "get_weather_v2_for_weather_api"
    assert function_name("id", "chess") == "is_id_for_chess"  # Python-ish keywords get 'is_'
    assert function_name("run", "11bet") == "run_for_get_11bet"  # tool names starting with a digit
    long = function_name("a" * 80, "tool")
    assert len(long) == 64 and long.endswith("_for_tool")
