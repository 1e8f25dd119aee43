"""Export kept dialogues to the formats trainers load as they are (rows: :mod:`export_rows`).

- ``trl``: ``{"messages", "tools"}`` per line with arguments as objects: TRL's SFTTrainer, and any
  Hugging Face chat template through ``apply_chat_template(messages, tools=tools)``.
- ``openai``: ``{"messages", "tools"}`` per line in the OpenAI wire form (arguments as JSON strings),
  assistant messages weighted (OpenAI fine-tuning).
- ``sharegpt``: LLaMA-Factory's sharegpt shape, plus its ``dataset_info.json`` entry beside the file.
- ``hf``: a ``datasets.DatasetDict`` (train/validation, split by a seed) saved with ``save_to_disk``;
  ``tools`` stays a JSON string because tool schemas differ per row and Arrow needs one type per column.

Every export writes a dataset card (``README.md``, :mod:`card`) beside its output.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolflow.engine.jsonl import ReadReport, iter_records, write_jsonl
from toolflow.engine.synth.card import CardStats, write_card
from toolflow.engine.synth.export_rows import (
    TRAIN_ON,
    ExportError,
    hf_features,
    hf_row,
    sharegpt_dataset_info,
    to_openai,
    to_sharegpt,
    to_trl,
)

FORMATS: tuple[str, ...] = ("trl", "openai", "sharegpt", "hf")
CONVERT: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "trl": to_trl, "openai": to_openai, "sharegpt": to_sharegpt, "hf": hf_row}

__all__ = ["FORMATS", "ExportError", "ExportResult", "export", "iter_dialogues"]


def iter_dialogues(path: Path, report: ReadReport | None = None) -> Iterator[dict[str, Any]]:
    """Records of a dialogues JSONL, streamed (a truncated last line is skipped, the file is not modified;
    unreadable lines are listed in `report`)."""
    yield from iter_records(path, repair=False, report=report)


@dataclass
class ExportResult:
    written: int = 0
    skipped: list[str] = field(default_factory=list)  # "<id or line>: why", one per record left out
    splits: dict[str, int] = field(default_factory=dict)  # hf: rows per split
    card: Path | None = None
    stats: CardStats = field(default_factory=CardStats)


def _save_hf(rows: list[dict[str, Any]], out: Path, val_fraction: float, seed: int) -> dict[str, int]:
    """`rows` saved to the folder `out` whole or not at all (a temporary folder renamed over it)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        splits = _write_hf(rows, tmp, val_fraction, seed)
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        tmp.replace(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
    return splits


def _write_hf(rows: list[dict[str, Any]], tmp: Path, val_fraction: float, seed: int) -> dict[str, int]:
    """A DatasetDict with a seeded train/validation split (validation empty when too few rows)."""
    from datasets import Dataset, DatasetDict

    ds = Dataset.from_list(rows, features=hf_features())
    n_val = int(round(len(ds) * val_fraction))
    if 0 < n_val < len(ds):
        split = ds.train_test_split(test_size=n_val, seed=seed, shuffle=True)
        dd = DatasetDict({"train": split["train"], "validation": split["test"]})
    else:
        dd = DatasetDict({"train": ds, "validation": ds.select([])})
    dd.save_to_disk(str(tmp))
    return {k: len(v) for k, v in dd.items()}


#: The card's metrics: given, or computed from the records export read (a record with a message list each).
Metrics = dict[str, Any] | Callable[[list[dict[str, Any]]], dict[str, Any]]


def export(src: Path, fmt: str, out: Path, *, train_on: str = "assistant", val_fraction: float = 0.1,
           seed: int = 0, metrics: Metrics | None = None, card: bool = True) -> ExportResult:
    """Write `src`'s dialogues to `out` in `fmt`, and a dataset card beside it. Records that cannot be
    converted (no messages, broken alternation for sharegpt) and unreadable lines are skipped and listed,
    never silently. The output appears whole or not at all (written to a temporary path, then renamed).
    `src` is read once: a `metrics` function gets the records read."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of {FORMATS}")
    if train_on not in TRAIN_ON:
        raise ExportError(f"unknown --train-on {train_on!r}; use one of {TRAIN_ON}")
    if fmt != "hf" and out.is_dir():
        raise ExportError(f"--out {out} is a directory; the {fmt} format writes one JSONL file")
    read = ReadReport()
    result = ExportResult()
    convert = CONVERT[fmt]
    seen: list[dict[str, Any]] = []

    def rows() -> Iterator[dict[str, Any]]:
        for d in iter_dialogues(src, read):
            if callable(metrics) and isinstance(d.get("messages"), list):
                seen.append(d)
            missing = [k for k in ("id", "messages", "tools") if not isinstance(d.get(k), str | list)]
            if missing:
                result.skipped.append(f"{d.get('id', '?')}: no {', '.join(missing)}")
                continue
            try:
                row = convert(d, train_on)
            except (ExportError, KeyError, TypeError) as exc:
                result.skipped.append(f"{d.get('id', '?')}: {exc}")
                continue
            result.stats.add(d)
            yield row

    if fmt == "hf":
        result.splits = _save_hf(list(rows()), out, val_fraction, seed)
        result.written = sum(result.splits.values())
    else:
        result.written = write_jsonl(out, rows())
    result.skipped += [f"line {n}: {why}" for n, why in read.bad]
    if fmt == "sharegpt":
        info = out.parent / "dataset_info.json"
        try:
            entries = json.loads(info.read_text(encoding="utf-8")) if info.is_file() else {}
        except ValueError as exc:
            raise ExportError(f"{info}: not JSON ({exc}); the export itself was written to {out}") from exc
        entries[out.stem] = sharegpt_dataset_info(out.name, train_on)
        info.write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")
    if card:
        result.card = write_card(out, fmt=fmt, result_stats=result.stats, written=result.written,
                                 skipped=len(result.skipped), splits=result.splits, train_on=train_on,
                                 seed=seed, metrics=(metrics(seen) if callable(metrics) else metrics) or {})
    return result
