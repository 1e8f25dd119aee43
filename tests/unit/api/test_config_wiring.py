"""Each knob is declared once and reaches the code that uses it.

- every CLI option's default is its config field's default (no command keeps a default of its own);
- the result caps given on the command line reach the tool agent's output schema, over the backend's;
- ``--workers 2`` splits ``--budget-tokens`` between the workers (the run spends about the budget, not 2x).
"""

from __future__ import annotations

from typing import Any

import click
from click.testing import CliRunner
from fake_llm import FIXTURES, AutoLLM, fixture_tools

from toolflow.engine.api import llm as api_llm
from toolflow.engine.cli import main
from toolflow.engine.cli.options import ConfigOption, field_default
from toolflow.engine.synth.jsonl import read_records

TOOLS = str(FIXTURES / "tools.jsonl")
SAMPLES = str(FIXTURES / "samples.jsonl")

#: Options with a default that is not a config knob: what to print, and where the samples file goes.
PRESENTATION = {("sample", "--out"), ("stats", "--top"), ("eval", "--show")}


def _commands(group: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, group)]
    if isinstance(group, click.Group):
        for name, cmd in group.commands.items():
            found += _commands(cmd, (*path, name))
    return found


def _options() -> list[tuple[str, click.Option]]:
    return [(" ".join(path), p) for path, cmd in _commands(main) for p in cmd.params if isinstance(p, click.Option)]


def _default(opt: click.Option) -> Any:
    """The option's declared default (None when unset: click 8.3 marks that with a sentinel)."""
    return None if type(opt.default).__name__ == "Sentinel" else opt.default


def test_every_cli_default_is_its_config_fields_default() -> None:
    checked = 0
    for where, opt in _options():
        default = _default(opt)
        if isinstance(opt, ConfigOption):
            want = field_default(opt.config_model, opt.config_field)
            got = opt.to_config(default) if default is not None else None
            assert got == want, f"{where} {opt.opts[0]}: default {default!r} != " \
                                f"{opt.config_model.__name__}.{opt.config_field} = {want!r}"
            checked += 1
            continue
        trivial = default in (None, False, (), "") or opt.is_flag and opt.secondary_opts  # --x/--no-x: on
        name = (where.split(" ")[-1] if where else "", opt.opts[0])
        assert trivial or name in PRESENTATION or opt.name in ("help", "version"), (
            f"`toolflow {where} {opt.opts[0]}` declares its own default {default!r}: declare it on a config field "
            "and use config_option")
    assert checked >= 60  # the walk reached the commands' config options


class CapsLLM(AutoLLM):
    """A backend that asks for small results (like the embedded model) and records the tool agent's schemas."""

    schemas: list[dict[str, Any]] = []

    def result_limits(self) -> dict[str, int]:
        return {"result_items": 2, "result_chars": 80}

    async def structured_json(self, role, messages, json_schema, **kw):
        if role == "tool":
            CapsLLM.schemas.append(json_schema)
        return await super().structured_json(role, messages, json_schema, **kw)


def _bounds(schema: Any, key: str) -> list[int]:
    if isinstance(schema, dict):
        own = [schema[key]] if isinstance(schema.get(key), int) else []
        return own + [b for v in schema.values() for b in _bounds(v, key)]
    if isinstance(schema, list):
        return [b for v in schema for b in _bounds(v, key)]
    return []


def _synth(monkeypatch, llm_cls, *args: str):
    monkeypatch.setattr(api_llm, "LLM_FACTORY", lambda options: llm_cls(fixture_tools()))
    return CliRunner().invoke(main, ["synth", "--tools", TOOLS, "--samples", SAMPLES, "--no-progress", *args])


def test_result_caps_on_the_command_line_reach_the_tool_agent(tmp_path, monkeypatch) -> None:
    CapsLLM.schemas = []
    res = _synth(monkeypatch, CapsLLM, "-n", "3", "--out", str(tmp_path / "d.jsonl"), "--result-items", "4",
                 "--result-chars", "33")
    assert res.exit_code == 0, res.output
    assert CapsLLM.schemas, "the tool agent was never asked"
    items = [b for s in CapsLLM.schemas for b in _bounds(s, "maxItems")]
    chars = [b for s in CapsLLM.schemas for b in _bounds(s, "maxLength")]
    assert max(items) == 4 and max(chars) == 33  # the command line's caps, not the backend's 2 / 80


def test_backend_caps_apply_when_the_command_line_sets_none(tmp_path, monkeypatch) -> None:
    CapsLLM.schemas = []
    res = _synth(monkeypatch, CapsLLM, "-n", "2", "--out", str(tmp_path / "d.jsonl"))
    assert res.exit_code == 0, res.output
    assert max(b for s in CapsLLM.schemas for b in _bounds(s, "maxItems")) == 2
    assert max(b for s in CapsLLM.schemas for b in _bounds(s, "maxLength")) == 80


def _spent(out) -> tuple[int, int]:
    """(tokens, dialogues) recorded in the kept and rejected outputs."""
    records = read_records(out) + read_records(out.with_name(f"{out.stem}.rejects.jsonl"))
    tokens = sum(u["prompt_tokens"] + u["completion_tokens"] for r in records for u in r["meta"]["tokens"].values())
    return tokens, len(records)


def test_two_workers_share_the_token_budget(tmp_path, monkeypatch) -> None:
    budget = 8000
    out = tmp_path / "d.jsonl"
    res = _synth(monkeypatch, AutoLLM, "-n", "60", "--out", str(out), "--concurrency", "1", "--workers", "2",
                 "--budget-tokens", str(budget))
    assert res.exit_code == 0, res.output
    spent, dialogues = _spent(out)
    one = spent / dialogues
    assert dialogues < 60  # the budget stopped the job
    # each worker may cross its half by the dialogue in flight; without the split each spends the whole budget
    assert budget - 2 * one <= spent <= budget + 2 * one < 1.5 * budget


def test_the_configuration_reference_lists_every_config_field() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    models = {opt.config_model for _, opt in _options() if isinstance(opt, ConfigOption)}
    assert len(models) >= 10
    for model in models:
        section = doc.split(f"### `{model.__name__}`", 1)
        assert len(section) == 2, f"docs/api.md has no section for {model.__name__}"
        body = section[1].split("\n### ", 1)[0]
        missing = [f for f in model.model_fields if f"| `{f}` |" not in body]
        assert not missing, f"docs/api.md {model.__name__} lacks {missing}"
