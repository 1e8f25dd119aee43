"""`toolflow export`: kept dialogues → training formats, a dataset card, and an optional chat-template check.

Parsing and printing only: the export is `toolflow.engine.api.export` (`toolflow.export`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from toolflow.engine.api.config import ExportConfig
from toolflow.engine.cli.options import Fail, config_option, store_option


def _template_check(src: Path, source: Path, max_length: int | None, fail_on_loss: bool) -> None:
    from toolflow.engine.api.export import check_template
    from toolflow.engine.synth.template_check import TemplateError

    try:
        report = check_template(src, source, max_length)
    except TemplateError as exc:
        raise Fail(f"--check-template: {exc}") from exc
    for p in report.problems:
        what = "; ".join(filter(None, [f"lost {', '.join(p.lost)}" if p.lost else "",
                                       f"refused ({p.refused})" if p.refused else "",
                                       f"{p.length} {p.length_unit} > {max_length}" if p.over_length else ""]))
        click.echo(f"template: {p.id}: {what}", err=True)
    click.echo(json.dumps({"template": report.model_dump(exclude={"problems"})}))
    if fail_on_loss and report.failing:
        raise Fail(f"--fail-on-loss: {report.with_loss} dialogue(s) lose content, {report.refused} refused, "
                   f"{report.over_length} over length under {source}")


def _run_export(src: Path, out: Path, config: ExportConfig, store_spec: str | None) -> Any:
    from toolflow.engine.api.export import export

    try:
        return export(src, out, config, store=store_spec)
    except ValueError as exc:  # ExportError, an output that is the input, a --store that cannot be opened
        raise Fail(str(exc)) from exc
    except OSError as exc:  # a read-only folder, a parent that is a file, a full disk
        raise Fail(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from exc


@click.command("export")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option(ExportConfig, "format", "--format", "fmt")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Output JSONL file (trl, openai, sharegpt, retrieval) or folder (hf).")
@config_option(ExportConfig, "train_on", "--train-on")
@config_option(ExportConfig, "val_fraction", "--val-fraction")
@config_option(ExportConfig, "seed", "--seed", type=int)
@config_option(ExportConfig, "card", "--no-card", invert=True, help="Do not write the dataset card (README.md).")
@config_option(ExportConfig, "check_template", "--check-template", "template_src",
               type=click.Path(exists=True, path_type=Path))
@config_option(ExportConfig, "max_length", "--max-length")
@config_option(ExportConfig, "fail_on_loss", "--fail-on-loss")
@store_option(purpose="retrieval only: the graph the dialogues were sampled from. ")
def export_cmd(src: Path, fmt: str, out: Path, store_spec: str | None, **opts: Any) -> None:
    """Convert kept dialogues (the JSONL `synth` writes) to a training format, with a dataset card.

    \b
    Formats:
      trl       one {"messages", "tools"} per line, arguments as objects, tool messages with
                tool_call_id and name: TRL's SFTTrainer (assistant_only_loss=True) and any HF chat template.
                With --train-on last: TRL's prompt-completion rows.
      openai    one {"messages", "tools"} per line, OpenAI wire form; assistant messages carry "weight".
      sharegpt  LLaMA-Factory sharegpt (human/gpt/function_call/observation, "system", "tools" as a JSON
                string); its dataset_info.json entry is written beside the file:
                {"file_name": "d.sharegpt.jsonl", "formatting": "sharegpt",
                 "columns": {"messages": "conversations", "system": "system", "tools": "tools"}}
      hf        a Hugging Face DatasetDict (train/validation) folder; load with datasets.load_from_disk.
                Columns: id, messages, tools (JSON string), train_mask, scenario, sample_id, meta, plan.
      retrieval retriever training pairs (needs --store): anchor (user request), positive (a tool called
                for it), negative (a SIMILAR tool not called), plus ids; see engine/synth/training_pairs.py.

    \b
    Examples:
      toolflow export data/dialogues.jsonl --format trl --out train/trl.jsonl
      toolflow export data/dialogues.jsonl --format trl --out t.jsonl --check-template ./Qwen2.5-tokenizer
      toolflow export data/dialogues.jsonl --format sharegpt --out llamafactory/data/toolflow.jsonl
      toolflow export data/dialogues.jsonl --format hf --out data/toolflow_hf
    """
    config = ExportConfig(format=fmt, train_on=opts["train_on"], val_fraction=opts["val_fraction"], seed=opts["seed"],
                          card=not opts["no_card"], check_template=opts["template_src"],
                          max_length=opts["max_length"], fail_on_loss=opts["fail_on_loss"])
    result = _run_export(src, out, config, store_spec)
    if isinstance(result, dict):  # retrieval pairs: their own report
        click.echo(json.dumps(result))
        return
    if result.skipped:
        shown = "; ".join(result.skipped[:5]) + (f"; … {len(result.skipped) - 5} more" if len(result.skipped) > 5 else "")
        click.echo(f"skipped {len(result.skipped)} record(s): {shown}", err=True)
    click.echo(json.dumps(result.line()))
    if config.check_template is not None:
        _template_check(src, config.check_template, config.max_length, config.fail_on_loss)
