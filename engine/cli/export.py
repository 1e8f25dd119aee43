"""`toolflow export`: kept dialogues → training formats."""

from __future__ import annotations

import json
import os
from pathlib import Path

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


@click.command("export")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["openai", "sharegpt", "hf", "retrieval"]), default="openai",
              show_default=True, help="Target format.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Output JSONL file (openai, sharegpt, retrieval) or folder (hf).")
@click.option("--store", "store_spec", default=None,
              help="retrieval only: the graph the dialogues were sampled from (Bolt URI or directory).")
def export_cmd(src: Path, fmt: str, out: Path, store_spec: str | None) -> None:
    """Convert kept dialogues (the JSONL `synth` writes) to a training format.

    \b
    Formats:
      openai    one {"messages": [...], "tools": [...]} per line (OpenAI fine-tuning, TRL, axolotl)
      sharegpt  LLaMA-Factory sharegpt: conversations with human/gpt/function_call/observation,
                "system", and "tools" as a JSON string. dataset_info.json entry:
                {"file_name": "d.sharegpt.jsonl", "formatting": "sharegpt",
                 "columns": {"messages": "conversations", "system": "system", "tools": "tools"}}
      hf        a Hugging Face `datasets` folder (save_to_disk); load with datasets.load_from_disk.
                Columns: id, messages, tools (JSON string), sample_id, meta (JSON string).
      retrieval retriever training pairs (needs --store): anchor (user request), positive (a tool called
                for it), negative (a SIMILAR tool not called), plus ids; see engine/synth/training_pairs.py.

    \b
    Examples:
      toolflow export data/dialogues.jsonl --format openai --out train.jsonl
      toolflow export data/dialogues.jsonl --format sharegpt --out llamafactory/data/toolflow.jsonl
      toolflow export data/dialogues.jsonl --format hf --out data/toolflow_hf
    """
    from toolflow.engine.synth.export import export

    _refuse_overwriting_input(src, out, fmt)
    try:
        if fmt == "retrieval":
            from toolflow.engine.synth.training_pairs import export_from_file

            report = export_from_file(src, store_spec, out)
            click.echo(json.dumps({**report, "format": fmt, "out": str(out)}))
            return
        result = export(src, fmt, out)
    except ValueError as exc:  # ExportError, and a --store that cannot be opened
        raise Fail(str(exc)) from exc
    except OSError as exc:  # a read-only folder, a parent that is a file, a full disk
        raise Fail(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from exc
    if result.skipped:
        shown = "; ".join(result.skipped[:5]) + (f"; … {len(result.skipped) - 5} more" if len(result.skipped) > 5 else "")
        click.echo(f"skipped {len(result.skipped)} record(s): {shown}", err=True)
    click.echo(json.dumps({"written": result.written, "skipped": len(result.skipped), "format": fmt,
                           "out": str(out)}))
