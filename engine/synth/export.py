"""Export kept dialogues to training formats.

- ``openai``: one ``{"messages", "tools"}`` object per line (OpenAI fine-tuning / most trainers).
- ``sharegpt``: LLaMA-Factory's sharegpt shape: ``conversations`` with from human/gpt/function_call/
  observation, ``system`` and ``tools`` (a JSON string). Parallel calls become one function_call whose
  value is a JSON list, and their results one observation (a JSON list), to keep the strict
  human/observation ↔ gpt/function_call alternation LLaMA-Factory requires.
- ``hf``: a `datasets.Dataset` saved with ``save_to_disk``; ``tools`` stays a JSON string because
  tool schemas differ per row and Arrow needs one type per column.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolflow.engine.jsontext import loads_or_text
from toolflow.engine.synth.jsonl import ReadReport, iter_records

FORMATS: tuple[str, ...] = ("openai", "sharegpt", "hf")


class ExportError(ValueError):
    """A dialogue that cannot be expressed in the requested format."""


def iter_dialogues(path: Path, report: ReadReport | None = None) -> Iterator[dict[str, Any]]:
    """Records of a dialogues JSONL, streamed (a truncated last line is skipped, the file is not modified;
    unreadable lines are listed in `report`)."""
    yield from iter_records(path, repair=False, report=report)


def to_openai(d: dict[str, Any]) -> dict[str, Any]:
    """Messages and tools, plus where every argument value came from (``provenance``, when recorded):
    trainers read the first two; the third lets a user filter or audit calls without the full record."""
    out = {"messages": d["messages"], "tools": d["tools"]}
    provenance = (d.get("meta") or {}).get("provenance")
    if provenance is not None:
        out["provenance"] = provenance
    return out


def _function(tool: dict[str, Any]) -> dict[str, Any]:
    return tool.get("function", tool)


def _call_value(call: dict[str, Any]) -> dict[str, Any]:
    fn = call["function"]
    args = fn.get("arguments") or "{}"
    try:
        parsed = json.loads(args) if isinstance(args, str) else args
    except ValueError as exc:
        raise ExportError(f"arguments of {fn.get('name')} are not JSON") from exc
    return {"name": fn["name"], "arguments": parsed}


def to_sharegpt(d: dict[str, Any]) -> dict[str, Any]:
    """One dialogue in LLaMA-Factory's sharegpt shape (roles must alternate, checked here)."""
    system = ""
    conv: list[dict[str, str]] = []
    pending_results: list[str] = []

    def flush_results() -> None:
        if pending_results:
            value = pending_results[0] if len(pending_results) == 1 else json.dumps(
                [loads_or_text(r) for r in pending_results], ensure_ascii=False)
            conv.append({"from": "observation", "value": value})
            pending_results.clear()

    for m in d["messages"]:
        role = m.get("role")
        if role == "system":
            system = m.get("content") or ""
            continue
        if role == "tool":
            pending_results.append(m.get("content") or "")
            continue
        flush_results()
        if role == "user":
            conv.append({"from": "human", "value": m.get("content") or ""})
        elif role == "assistant" and m.get("tool_calls"):
            calls = [_call_value(c) for c in m["tool_calls"]]
            value = calls[0] if len(calls) == 1 else calls
            conv.append({"from": "function_call", "value": json.dumps(value, ensure_ascii=False)})
        elif role == "assistant":
            conv.append({"from": "gpt", "value": m.get("content") or ""})
    flush_results()
    for i, turn in enumerate(conv):
        expected = ("human", "observation") if i % 2 == 0 else ("gpt", "function_call")
        if turn["from"] not in expected:
            raise ExportError(f"{d.get('id')}: message {i} is {turn['from']!r}, sharegpt needs one of {expected}")
    return {"conversations": conv, "system": system,
            "tools": json.dumps([_function(t) for t in d["tools"]], ensure_ascii=False)}


def _hf_row(d: dict[str, Any]) -> dict[str, Any]:
    messages = []
    for m in d["messages"]:
        messages.append({
            "role": m.get("role"),
            "content": m.get("content"),
            "tool_calls": [{"id": c.get("id"), "type": "function",
                            "function": {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}}
                           for c in m.get("tool_calls") or []] or None,
            "tool_call_id": m.get("tool_call_id"),
            "name": m.get("name"),
        })
    return {"id": d["id"], "messages": messages, "tools": json.dumps(d["tools"], ensure_ascii=False),
            "sample_id": (d.get("sample") or {}).get("id"),
            "meta": json.dumps(d.get("meta") or {}, ensure_ascii=False),  # includes provenance
            "plan": json.dumps(d.get("plan"), ensure_ascii=False)}  # with the call blueprint


def hf_features() -> Any:
    """Explicit Arrow types, so rows with and without tool calls share one schema."""
    from datasets import Features, Value

    call = {"id": Value("string"), "type": Value("string"),
            "function": {"name": Value("string"), "arguments": Value("string")}}
    message = {"role": Value("string"), "content": Value("string"), "tool_calls": [call],
               "tool_call_id": Value("string"), "name": Value("string")}
    return Features({"id": Value("string"), "messages": [message], "tools": Value("string"),
                     "sample_id": Value("string"), "meta": Value("string"), "plan": Value("string")})


@dataclass
class ExportResult:
    written: int = 0
    skipped: list[str] = field(default_factory=list)  # "<id or line>: why", one per record left out


def export(src: Path, fmt: str, out: Path) -> ExportResult:
    """Write `src`'s dialogues to `out` in `fmt`. Records that cannot be converted (no messages, broken
    alternation for sharegpt) and unreadable lines are skipped and listed, never silently. The output
    appears whole or not at all (written to a temporary file, then renamed)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of {FORMATS}")
    if fmt != "hf" and out.is_dir():
        raise ExportError(f"--out {out} is a directory; the {fmt} format writes one JSONL file")
    read = ReadReport()
    result = ExportResult()
    convert = {"openai": to_openai, "sharegpt": to_sharegpt, "hf": _hf_row}[fmt]

    def rows() -> Iterator[dict[str, Any]]:
        for d in iter_dialogues(src, read):
            missing = [k for k in ("id", "messages", "tools") if not isinstance(d.get(k), str | list)]
            if missing:
                result.skipped.append(f"{d.get('id', '?')}: no {', '.join(missing)}")
                continue
            try:
                yield convert(d)
            except (ExportError, KeyError, TypeError) as exc:
                result.skipped.append(f"{d.get('id', '?')}: {exc}")

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        if fmt == "hf":
            from datasets import Dataset

            ds = Dataset.from_list(list(rows()), features=hf_features())
            ds.save_to_disk(str(tmp))
            result.written = len(ds)
            if out.exists():
                shutil.rmtree(out) if out.is_dir() else out.unlink()
        else:
            with open(tmp, "w", encoding="utf-8") as f:
                for row in rows():
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
                    result.written += 1
        tmp.replace(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
    result.skipped += [f"line {n}: {why}" for n, why in read.bad]
    return result
