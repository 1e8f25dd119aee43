"""The reason registry: every reason a run emits starts with a registered code, emitted strings are unchanged,
and --flag-only refuses a code no check emits."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.unit.synth.test_checks import good, mutate
from toolflow.engine.cli import main
from toolflow.engine.synth.checks import check_dialogue, reason_code
from toolflow.engine.synth.reasons import Reason, reasons_table, unknown_codes

ROOT = Path(__file__).resolve().parents[3]
CODE_TEXT = re.compile(r"^([a-z][a-z0-9]*(?:_[a-z0-9]+)*): ")
#: Texts in engine/synth that look like "word: …" but are not reasons (console lines, card fields, an error).
NOT_REASONS = {"scenario", "ray", "license", "run", "model"}


def _leading_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return None


def _synth_sources() -> list[Path]:
    return [p for p in ROOT.joinpath("engine", "synth").rglob("*.py") if p.name != "reasons.py"]


def test_every_reason_in_the_code_is_registered() -> None:
    used: set[str] = set()
    for path in _synth_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "Reason"
            ):
                assert node.attr in Reason.__members__, f"{path.name}: Reason.{node.attr} is not registered"
                used.add(node.attr)
            if isinstance(node, ast.Expr):  # docstrings
                continue
            text = _leading_text(node)
            if text and (m := CODE_TEXT.match(text)) and m.group(1) not in NOT_REASONS:
                pytest.fail(f"{path.name}: {text[:50]!r} writes a reason code as a literal; use Reason")
    assert used == set(Reason.__members__), f"registered but never emitted: {set(Reason.__members__) - used}"


def test_emitted_strings_are_unchanged() -> None:
    assert f"{Reason.UNKNOWN_TOOL}: 'x'" == "unknown_tool: 'x'"
    assert str(Reason.TRUNCATED) == "truncated" and Reason("near_duplicate") is Reason.NEAR_DUPLICATE
    assert all(r.description and "\n" not in r.description for r in Reason)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.messages[6]["tool_calls"][0]["function"].update(name="cancel_hotel"),
        lambda d: d.messages[6]["tool_calls"][0]["function"].update(arguments='{"hotel_id": '),
        lambda d: d.messages.insert(5, {"role": "tool", "tool_call_id": "zz", "content": "{}"}),
        lambda d: d.messages[5].update(content="Now run book_hotel with the hotel_id."),
        lambda d: [d.messages.pop() for _ in range(4)],
    ],
)
def test_reasons_from_checks_carry_registered_codes(change) -> None:
    result = check_dialogue(mutate(change))
    reasons = result.failed + result.flags
    assert reasons and all(reason_code(r) in Reason._value2member_map_ for r in reasons), reasons


def test_flag_only_refuses_an_unknown_code(tmp_path: Path) -> None:
    assert unknown_codes(("argument_not_sourced", "argument_not_sourcd")) == ["argument_not_sourcd"]
    res = CliRunner().invoke(
        main, ["synth", "-n", "1", "--out", str(tmp_path / "d.jsonl"), "--flag-only", "argument_not_sourcd"]
    )
    assert res.exit_code == 2 and "unknown reason code(s) argument_not_sourcd" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "d.jsonl").exists()


def test_flag_only_still_turns_a_known_code_into_a_flag() -> None:
    d = mutate(lambda d: d.messages[6]["tool_calls"][0]["function"].update(name="cancel_hotel"))
    result = check_dialogue(d, as_flags=[Reason.UNKNOWN_TOOL])
    assert not any(r.startswith("unknown_tool") for r in result.failed)
    assert any(r.startswith("unknown_tool: ") for r in result.flags)
    assert check_dialogue(good()).passed


def test_reasons_command_lists_every_code() -> None:
    res = CliRunner().invoke(main, ["reasons"])
    assert res.exit_code == 0 and res.output.strip() == reasons_table()
    listed = {line.split()[0] for line in res.output.splitlines()}
    assert listed == {r.value for r in Reason}
    assert "toolflow reasons" in CliRunner().invoke(main, ["synth", "--help"]).output


def test_configs_refuse_an_unknown_code(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from toolflow.engine.synth.job import RunConfig
    from toolflow.engine.synth.loop import SynthConfig

    out = tmp_path / "d.jsonl"
    assert RunConfig(n=1, out=out, flag_only=["argument_not_sourced"]).flag_only == ["argument_not_sourced"]
    assert SynthConfig(flag_only=["truncated"]).flag_only == ["truncated"]
    with pytest.raises(ValidationError, match="unknown reason code"):
        RunConfig(n=1, out=out, flag_only=["argument_not_sourcd"])
    with pytest.raises(ValidationError, match="unknown reason code"):
        SynthConfig(flag_only=["bogus"])
