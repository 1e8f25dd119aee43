"""`toolflow export`: kept dialogues → training formats, a dataset card, and an optional chat-template check."""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path
from typing import Any

import click

from toolflow.engine.cli.options import Fail


def _refuse_overwriting_input(src: Path, out: Path, fmt: str) -> None:
    """The output replaces whatever is at `out` (a folder, for hf): never the dialogues being read."""
    source, target = src.resolve(), out.resolve()
    if target == source or (out.exists() and os.path.samefile(out, src)):
        raise Fail(f"--out {out} is the input file {src}: exporting would replace the dialogues; choose "
                   "another output file")
    if fmt == "hf" and target in source.parents:
        raise Fail(f"--out {out} holds the input file {src}: the hf export replaces that folder; choose "
                   "another output folder")


def _template_check(src: Path, source: Path, max_length: int | None, fail_on_loss: bool) -> None:
    from toolflow.engine.synth.export import iter_dialogues
    from toolflow.engine.synth.template_check import TemplateError, check_records, load_template

    try:
        template = load_template(source)
    except TemplateError as exc:
        raise Fail(f"--check-template: {exc}") from exc
    report = check_records(template, list(iter_dialogues(src)), max_length)
    for p in report.problems:
        what = "; ".join(filter(None, [f"lost {', '.join(p.lost)}" if p.lost else "",
                                       f"refused ({p.refused})" if p.refused else "",
                                       f"{p.length} {p.length_unit} > {max_length}" if p.over_length else ""]))
        click.echo(f"template: {p.id}: {what}", err=True)
    click.echo(json.dumps({"template": report.model_dump(exclude={"problems"})}))
    if fail_on_loss and report.failing:
        raise Fail(f"--fail-on-loss: {report.with_loss} dialogue(s) lose content, {report.refused} refused, "
                   f"{report.over_length} over length under {source}")


@click.command("export")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["trl", "openai", "sharegpt", "hf", "retrieval"]),
              default="openai", show_default=True, help="Target format.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Output JSONL file (trl, openai, sharegpt, retrieval) or folder (hf).")
@click.option("--train-on", type=click.Choice(["assistant", "last"]), default="assistant", show_default=True,
              help="Loss mask: every assistant message, or only the last one (in each format's convention).")
@click.option("--val-fraction", type=click.FloatRange(0, 0.9), default=0.1, show_default=True,
              help="hf only: share of dialogues in the validation split.")
@click.option("--seed", type=int, default=0, show_default=True, help="hf only: seed of the train/validation split.")
@click.option("--no-card", is_flag=True, help="Do not write the dataset card (README.md).")
@click.option("--check-template", "template_src", type=click.Path(exists=True, path_type=Path), default=None,
              help="Render every dialogue through this chat template (tokenizer folder, tokenizer_config.json, "
                   ".gguf or .jinja) and report lost calls/results, refusals and over-length dialogues.")
@click.option("--max-length", type=click.IntRange(1), default=None,
              help="With --check-template: report dialogues longer than this many tokens.")
@click.option("--fail-on-loss", is_flag=True, help="With --check-template: exit non-zero on any problem.")
@click.option("--store", "store_spec", default=None,
              help="retrieval only: the graph the dialogues were sampled from (Bolt URI or directory).")
def export_cmd(src: Path, fmt: str, out: Path, train_on: str, val_fraction: float, seed: int, no_card: bool,
               template_src: Path | None, max_length: int | None, fail_on_loss: bool, store_spec: str | None) -> None:
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
    from toolflow.engine.eval.card_metrics import card_metrics
    from toolflow.engine.synth.export import export

    _refuse_overwriting_input(src, out, fmt)
    try:
        if fmt == "retrieval":
            from toolflow.engine.synth.training_pairs import export_from_file

            report = export_from_file(src, store_spec, out)
            click.echo(json.dumps({**report, "format": fmt, "out": str(out)}))
            return
        result = export(src, fmt, out, train_on=train_on, val_fraction=val_fraction, seed=seed,
                        metrics=None if no_card else partial(card_metrics, src=src), card=not no_card)
    except ValueError as exc:  # ExportError, and a --store that cannot be opened
        raise Fail(str(exc)) from exc
    except OSError as exc:  # a read-only folder, a parent that is a file, a full disk
        raise Fail(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from exc
    if result.skipped:
        shown = "; ".join(result.skipped[:5]) + (f"; … {len(result.skipped) - 5} more" if len(result.skipped) > 5 else "")
        click.echo(f"skipped {len(result.skipped)} record(s): {shown}", err=True)
    summary: dict[str, Any] = {"written": result.written, "skipped": len(result.skipped), "format": fmt,
                               "out": str(out)}
    if result.splits:
        summary["splits"] = result.splits
    if result.card is not None:
        summary["card"] = str(result.card)
    click.echo(json.dumps(summary))
    if template_src is not None:
        _template_check(src, template_src, max_length, fail_on_loss)
