"""Bad input and outputs (issue 20): one line naming file, line and field; nothing overwritten or lost.

- `toolflow eval` on malformed records (`tools` null or a string, a null message, `tool_calls` as a string)
  ended in a traceback: now one line per bad record, and the rest are scored;
- `export --format retrieval` into a folder that cannot be written: a traceback, now one line;
- `export dlg.jsonl --out dlg.jsonl` replaced its own source: refused, symlinks too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from eval_dialogues import d1, d2, toy_embed, write_jsonl
from fake_llm import ScriptedLLM
from graph_helpers import example_tools, hashing_graph

from toolflow.engine.api import evaluate as api_eval
from toolflow.engine.api import llm as api_llm
from toolflow.engine.cli import main
from toolflow.engine.stores import open_store


def _judge(messages, schema):  # noqa: ANN001, ANN201
    if "label" in schema["properties"]:
        return {"label": "neutral"}
    return {"naturalness": 4, "coherence": 3, "helpfulness": 5, "accuracy": 2}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_llm, "LLM_FACTORY",
                        lambda options: ScriptedLLM({"judge": [_judge] * 40}, models={"judge": "fake-judge"}))
    monkeypatch.setattr(api_eval, "EMBED_FACTORY", lambda: toy_embed)


def _with(record: dict, **changes: object) -> dict:
    return {**record, **changes}


def _calls_as_string(record: dict) -> dict:
    messages = [dict(m) for m in record["messages"]]
    i = next(i for i, m in enumerate(messages) if m.get("tool_calls"))
    messages[i]["tool_calls"] = "get_weather(city='Rome')"
    return _with(record, messages=messages), i


def test_eval_reports_each_malformed_record_and_scores_the_rest(tmp_path, fakes):
    path = tmp_path / "d.jsonl"
    calls_string, i = _calls_as_string(d1())
    bad = [_with(d2(), tools=None), _with(d2(), tools="[]"), _with(d2(), messages=[None, *d2()["messages"]]),
           calls_string]
    write_jsonl(path, [d1(), *bad, d2()])
    res = CliRunner().invoke(main, ["eval", str(path), "--json", "--no-progress"])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    out = json.loads(res.stdout)
    assert out["dialogues"] == 2  # d1 and d2 scored
    assert out["skipped"] == [
        f"{path}:2: field 'tools': input should be a valid list (got null)",
        f"{path}:3: field 'tools': input should be a valid list (got \"[]\")",
        f"{path}:4: field 'messages[0]': input should be a valid dictionary or instance of message (got null)",
        f"{path}:5: field 'messages[{i}].tool_calls': input should be a valid list "
        "(got \"get_weather(city='Rome')\")",
    ]
    shown = [line for line in res.stderr.splitlines() if line.startswith("skipped ")]
    assert shown == [f"skipped {s}" for s in out["skipped"]]


def test_eval_of_a_file_without_one_dialogue_is_a_one_line_error(tmp_path, fakes):
    path = tmp_path / "tools.jsonl"
    path.write_text('{"name": "get_weather"}\n')
    res = CliRunner().invoke(main, ["eval", str(path), "--no-progress"])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert f"{path}:1: field 'messages': field required" in res.output


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    spec = str(tmp_path_factory.mktemp("g") / "graph")
    with open_store(spec) as s:
        s.write_graph(hashing_graph(example_tools()))
    return spec


def test_retrieval_export_into_an_unwritable_folder_is_one_line(tmp_path, store):
    src = tmp_path / "d.jsonl"
    write_jsonl(src, [d1()])
    blocker = tmp_path / "file"
    blocker.write_text("a regular file where a folder is expected (root ignores chmod)\n")
    for out in (blocker / "pairs.jsonl", blocker / "sub" / "pairs.jsonl"):
        res = CliRunner().invoke(main, ["export", str(src), "--format", "retrieval", "--store", store,
                                        "--out", str(out)])
        assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.exception
        assert "Error: cannot write" in res.output and str(blocker) in res.output, res.output
        assert len(res.output.strip().splitlines()) == 1, res.output
    assert blocker.read_text().startswith("a regular file")


@pytest.mark.parametrize("fmt", ["openai", "sharegpt", "hf", "retrieval"])
@pytest.mark.parametrize("how", ["same", "symlink", "relative"])
def test_export_refuses_to_overwrite_its_input(tmp_path, store, monkeypatch, fmt, how):
    src = tmp_path / "dlg.jsonl"
    write_jsonl(src, [d1(), d2()])
    before = src.read_bytes()
    out = {"same": src, "symlink": tmp_path / "link.jsonl", "relative": Path("sub/../dlg.jsonl")}[how]
    if how == "symlink":
        out.symlink_to(src)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    args = ["export", str(src), "--format", fmt, "--out", str(out)] + (["--store", store] if fmt == "retrieval" else [])
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    assert "is the input file" in res.output and "choose another output file" in res.output, res.output
    assert src.read_bytes() == before


def test_hf_export_refuses_a_folder_holding_its_input(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    src = folder / "dlg.jsonl"
    write_jsonl(src, [d1()])
    res = CliRunner().invoke(main, ["export", str(src), "--format", "hf", "--out", str(folder)])
    assert res.exit_code == 1 and "holds the input file" in res.output, res.output
    assert src.exists()
