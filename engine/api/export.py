"""Export as a use case: kept dialogues → a training format with a dataset card, and the chat-template check."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from toolflow.engine.api.config import ExportConfig
from toolflow.engine.errors import ConfigError


class OutputError(ValueError, ConfigError):
    """The output would replace the input being read."""


class ExportSummary(BaseModel):
    """What an export wrote (the JSON line `toolflow export` prints)."""

    written: int
    skipped: list[str] = []
    format: str
    out: str
    splits: dict[str, int] | None = None
    card: str | None = None

    def line(self) -> dict[str, Any]:
        data: dict[str, Any] = {"written": self.written, "skipped": len(self.skipped), "format": self.format,
                                "out": self.out}
        if self.splits:
            data["splits"] = self.splits
        if self.card is not None:
            data["card"] = self.card
        return data


def refuse_overwriting_input(src: Path, out: Path, fmt: str) -> None:
    """The output replaces whatever is at `out` (a folder, for hf): never the dialogues being read."""
    source, target = src.resolve(), out.resolve()
    if target == source or (out.exists() and os.path.samefile(out, src)):
        raise OutputError(f"--out {out} is the input file {src}: exporting would replace the dialogues; choose "
                          "another output file")
    if fmt == "hf" and target in source.parents:
        raise OutputError(f"--out {out} holds the input file {src}: the hf export replaces that folder; choose "
                          "another output folder")


def export(src: str | Path, out: str | Path, config: ExportConfig | None = None, *,
           store: str | None = None) -> ExportSummary | dict[str, Any]:
    """Convert the kept dialogues in `src` (the JSONL `synthesize` writes) to `config.format` at `out`.

    The retrieval format (retriever training pairs) needs the graph the dialogues came from (`store`) and
    returns its own report (a dict); the others return an `ExportSummary`."""
    from toolflow.engine.eval.card_metrics import card_metrics
    from toolflow.engine.synth.export import export as write_export

    config = config or ExportConfig()
    src, out = Path(src), Path(out)
    refuse_overwriting_input(src, out, config.format)
    if config.format == "retrieval":
        from toolflow.engine.synth.training_pairs import export_from_file

        return {**export_from_file(src, store, out), "format": config.format, "out": str(out)}
    result = write_export(src, config.format, out, train_on=config.train_on, val_fraction=config.val_fraction,
                          seed=config.seed, metrics=partial(card_metrics, src=src) if config.card else None, card=config.card)
    return ExportSummary(written=result.written, skipped=list(result.skipped), format=config.format, out=str(out),
                         splits=result.splits or None, card=None if result.card is None else str(result.card))


def check_template(src: str | Path, template: str | Path, max_length: int | None = None) -> Any:
    """Render every dialogue in `src` through a chat template; the report lists lost calls/results, refusals
    and dialogues over `max_length` tokens."""
    from toolflow.engine.synth.export import iter_dialogues
    from toolflow.engine.synth.template_check import check_records, load_template

    loaded = load_template(Path(template))
    return check_records(loaded, list(iter_dialogues(Path(src))), max_length)

