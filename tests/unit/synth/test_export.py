"""Export round trips: openai JSONL, LLaMA-Factory sharegpt, and a HF dataset loaded back from disk."""

import asyncio
import json

import pytest
from click.testing import CliRunner
from fake_llm import AutoLLM, fixture_tools

from toolflow.engine.cli.export import export_cmd
from toolflow.engine.models import Dialogue, Sample
from toolflow.engine.sampling.sources import FileSampleSource
from toolflow.engine.synth.export import ExportError, export
from toolflow.engine.synth.export_rows import to_sharegpt
from toolflow.engine.synth.job import RunConfig, run_synthesis

ALL = {t.name: t for t in fixture_tools()}


def parallel_dialogue() -> dict:
    calls = [{"id": "a1", "type": "function", "function": {"name": "get_forecast", "arguments": '{"city": "Rome"}'}},
             {"id": "a2", "type": "function", "function": {"name": "find_restaurants", "arguments": '{"near": "Trevi"}'}}]
    return Dialogue(
        id="dlg-parallel", tools=[ALL["get_forecast"].openai_tool(), ALL["find_restaurants"].openai_tool()],
        messages=[
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "Weather in Rome and food near Trevi?"},
            {"role": "assistant", "content": None, "tool_calls": calls},
            {"role": "tool", "tool_call_id": "a1", "name": "get_forecast", "content": '{"forecast": ["sun"]}'},
            {"role": "tool", "tool_call_id": "a2", "name": "find_restaurants", "content": '{"results": ["Zia"]}'},
            {"role": "assistant", "content": "Sunny, and try Zia."},
            {"role": "user", "content": "Thanks!"},
            {"role": "assistant", "content": "You're welcome."},
        ],
        sample=Sample(id="s", tool_ids=[], strategy="t"), meta={"index": 0, "seed": 0, "strategy": "t", "plan": False},
    ).model_dump()


@pytest.fixture
def dialogues(tmp_path):
    out = tmp_path / "d.jsonl"
    tools = fixture_tools()
    src = FileSampleSource(tools)
    summary = asyncio.run(run_synthesis(AutoLLM(tools), src, RunConfig(n=3, out=out), show_progress=False))
    assert summary.kept == 3
    with open(out, "a") as f:
        f.write(json.dumps(parallel_dialogue()) + "\n")
    return out


def test_openai_lines_are_messages_and_tools(dialogues, tmp_path):
    target = tmp_path / "train.jsonl"
    assert export(dialogues, "openai", target).written == 4
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    src = [json.loads(line) for line in dialogues.read_text().splitlines()]
    assert [set(r) for r in rows] == [{"messages", "tools", "provenance"}] * 3 + [{"messages", "tools"}]
    assert [r["provenance"] for r in rows[:3]] == [d["meta"]["provenance"] for d in src[:3]]
    weighted = [[{k: v for k, v in m.items() if k != "weight"} for m in r["messages"]] for r in rows]
    assert weighted == [d["messages"] for d in src]
    assert all(m["weight"] == 1 for r in rows for m in r["messages"] if m["role"] == "assistant")
    assert not any("weight" in m for r in rows for m in r["messages"] if m["role"] != "assistant")
    assert rows[3]["tools"][0]["function"]["name"] == "get_forecast"


def test_sharegpt_alternates_and_merges_parallel_calls(dialogues, tmp_path):
    target = tmp_path / "sg.jsonl"
    export(dialogues, "sharegpt", target)
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    for row in rows:
        roles = [t["from"] for t in row["conversations"]]
        assert all(r in ("human", "observation") for r in roles[0::2])
        assert all(r in ("gpt", "function_call") for r in roles[1::2])
        assert row["system"] and isinstance(json.loads(row["tools"]), list)
    par = rows[3]
    assert [t["from"] for t in par["conversations"]] == ["human", "function_call", "observation", "gpt", "human", "gpt"]
    assert json.loads(par["conversations"][1]["value"]) == [
        {"name": "get_forecast", "arguments": {"city": "Rome"}},
        {"name": "find_restaurants", "arguments": {"near": "Trevi"}}]
    assert json.loads(par["conversations"][2]["value"]) == [{"forecast": ["sun"]}, {"results": ["Zia"]}]
    assert json.loads(par["tools"])[1] == ALL["find_restaurants"].openai_tool()["function"]
    single = rows[0]["conversations"]
    assert json.loads(single[1]["value"])["name"] in ALL  # one call: an object, not a list


def test_sharegpt_refuses_broken_alternation():
    d = parallel_dialogue()
    d["messages"].insert(2, {"role": "user", "content": "and hurry"})
    with pytest.raises(ExportError, match="sharegpt needs"):
        to_sharegpt(d)


def test_hf_dataset_round_trip(dialogues, tmp_path):
    from datasets import DatasetDict, concatenate_datasets, load_from_disk

    target = tmp_path / "hf"
    result = export(dialogues, "hf", target, val_fraction=0.25, seed=3)
    assert result.written == 4 and result.splits == {"train": 3, "validation": 1}
    dd = load_from_disk(str(target))
    assert isinstance(dd, DatasetDict) and set(dd) == {"train", "validation"}
    assert set(dd["train"].column_names) == {"id", "messages", "tools", "train_mask", "scenario", "sample_id",
                                             "meta", "plan"}
    export(dialogues, "hf", tmp_path / "hf2", val_fraction=0.25, seed=3)
    again = load_from_disk(str(tmp_path / "hf2"))
    assert again["validation"]["id"] == dd["validation"]["id"]  # the split is reproducible per seed
    ds = concatenate_datasets([dd["train"], dd["validation"]])
    row = ds[ds["id"].index("dlg-parallel")]
    assert [m["role"] for m in row["messages"]][:3] == ["system", "user", "assistant"]
    assert [c["function"]["name"] for c in row["messages"][2]["tool_calls"]] == ["get_forecast", "find_restaurants"]
    assert row["messages"][3]["tool_call_id"] == "a1"
    assert row["train_mask"] == [m["role"] == "assistant" for m in row["messages"]]
    assert json.loads(row["tools"]) == parallel_dialogue()["tools"]
    first = json.loads(dialogues.read_text().splitlines()[0])
    kept = ds[ds["id"].index(first["id"])]
    assert json.loads(kept["meta"])["index"] == 0
    card = (target / "README.md").read_text()
    assert card.startswith("---\n") and "<!-- toolflow dataset card -->" in card


def test_hf_plan_column_is_the_dialogues_plan_with_its_blueprint(dialogues, tmp_path):
    from datasets import concatenate_datasets, load_from_disk

    records = [json.loads(line) for line in dialogues.read_text().splitlines()]
    assert export(dialogues, "hf", tmp_path / "hf", val_fraction=0.25, seed=3).written == len(records)
    dd = load_from_disk(str(tmp_path / "hf"))
    rows = {row["id"]: row for row in concatenate_datasets([dd["train"], dd["validation"]])}
    assert set(rows) == {r["id"] for r in records}
    planned = 0
    for record in records:
        plan = json.loads(rows[record["id"]]["plan"])
        assert plan == record["plan"]  # the whole plan, every turn and call source, not a summary of it
        if plan is not None:
            planned += 1
            calls = [c for t in plan["turns"] for c in t["calls"]]
            assert calls and all(set(a) >= {"source"} for c in calls for a in c["arguments"].values())
    assert planned == len(records) - 1  # the hand-made parallel dialogue has no plan: null, not dropped
    assert rows[records[-1]["id"]]["plan"] == "null"


def test_export_command(dialogues, tmp_path):
    target = tmp_path / "cli.jsonl"
    result = CliRunner().invoke(export_cmd, [str(dialogues), "--format", "sharegpt", "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"written": 4, "skipped": 0, "format": "sharegpt", "out": str(target),
                                         "card": str(tmp_path / "README.md")}
    assert len(target.read_text().splitlines()) == 4
    help_text = CliRunner().invoke(export_cmd, ["--help"]).output
    assert "dataset_info.json" in help_text and "load_from_disk" in help_text


def test_card_metrics_come_from_the_one_read_of_the_source(dialogues, tmp_path, monkeypatch):
    from functools import partial

    import toolflow.engine.synth.export as export_module
    from toolflow.engine.eval.card_metrics import card_metrics, dialogue_records

    expected = card_metrics(dialogue_records(dialogues), dialogues)
    reads = []
    real = export_module.iter_records
    monkeypatch.setattr(export_module, "iter_records", lambda path, **kw: reads.append(path) or real(path, **kw))
    got = {}
    export(dialogues, "openai", tmp_path / "o.jsonl", metrics=partial(lambda ds, src: got.update(
        card_metrics(ds, src)) or got, src=dialogues))
    assert reads == [dialogues] and got == expected and got["kept"] == 4
