"""The dataset card (``README.md``, Hugging Face dataset-card convention) written with every export.

A card is YAML front matter the Hub reads (``configs``, ``tags``, ``task_categories``, ``size_categories``)
and prose a person reads: counts, the scenario mix, where the tools came from, how the data was made
(models per role, seeds, sampling), quality metrics, and known limits. Everything in it is computed from
the exported records, so the card never claims what the file does not hold.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The line after the front matter of every card we write (the Hub wants the YAML first): an existing
#: README.md without it is a user's file, left alone.
CARD_MARK = "<!-- toolflow dataset card -->"

LIMITS = (
    "Dialogues are synthetic: user turns, assistant turns and (unless real execution was used) tool results "
    "come from language models, checked by rules, not by people.",
    "Tool results are simulated to fit the declared return schema; they are plausible, not true.",
    "Checks reject structural faults (invalid calls, unsourced arguments, leaked scaffolding, echoes, "
    "malformed result values); they cannot prove that an answer is helpful or correct.",
    "The scenario mix is planned; the kept shares can differ when one scenario is rejected more often.",
)

USAGE = {
    "trl": "```python\nfrom datasets import load_dataset\nfrom trl import SFTConfig, SFTTrainer\n\n"
           "ds = load_dataset(\"json\", data_files=\"{file}\", split=\"train\")\n"
           "trainer = SFTTrainer(model=..., train_dataset=ds,\n"
           "                     args=SFTConfig(assistant_only_loss={assistant_only}))\n```",
    "openai": "Upload `{file}` as an OpenAI fine-tuning file; assistant messages carry `weight`.",
    "sharegpt": "Copy `{file}` and `dataset_info.json` into LLaMA-Factory's `data/` folder and set "
                "`dataset: {stem}`.",
    "hf": "```python\nfrom datasets import load_from_disk\n\nds = load_from_disk(\"{file}\")  "
          "# DatasetDict: train, validation\n```",
}


@dataclass
class CardStats:
    """What the card says about the records, gathered while they are exported."""

    dialogues: int = 0
    scenarios: Counter[str] = field(default_factory=Counter)
    tool_sources: Counter[str] = field(default_factory=Counter)
    models: dict[str, set[str]] = field(default_factory=dict)
    seeds: set[int] = field(default_factory=set)
    strategies: Counter[str] = field(default_factory=Counter)
    versions: set[str] = field(default_factory=set)
    calls: int = 0
    messages: int = 0

    def add(self, d: dict[str, Any]) -> None:
        meta = d.get("meta") or {}
        self.dialogues += 1
        self.scenarios[meta.get("scenario") or "standard"] += 1
        for tool_id in (d.get("sample") or {}).get("tool_ids") or []:
            self.tool_sources[str(tool_id).split(":", 1)[0]] += 1
        for role, model in (meta.get("models") or {}).items():
            self.models.setdefault(role, set()).add(str(model))
        if isinstance(meta.get("seed"), int):
            self.seeds.add(meta["seed"])
        self.strategies[str(meta.get("strategy") or (d.get("sample") or {}).get("strategy") or "?")] += 1
        if meta.get("toolflow_version"):
            self.versions.add(str(meta["toolflow_version"]))
        self.messages += len(d.get("messages") or [])
        self.calls += sum(len(m.get("tool_calls") or []) for m in d.get("messages") or [])


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return name
    return "100K<n<1M"


def card_path(out: Path, fmt: str) -> Path:
    """``README.md`` inside an hf folder or beside a JSONL file; a user's own README.md there is kept and
    the card goes to ``<name>.README.md`` instead."""
    if fmt == "hf":
        return out / "README.md"
    readme = out.parent / "README.md"
    if readme.exists() and CARD_MARK not in readme.read_text(encoding="utf-8", errors="replace"):
        return out.with_name(f"{out.stem}.README.md")
    return readme


def _table(rows: dict[str, Any], head: tuple[str, ...]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += [f"| {k} | {v} |" for k, v in rows.items()]
    return lines


def _front_matter(out: Path, fmt: str, n: int) -> list[str]:
    files = {"hf": None}.get(fmt, out.name)
    lines = ["---", "license: other", "task_categories:", "- text-generation", "language:", "- en",
             "tags:", "- tool-calling", "- function-calling", "- synthetic", "- toolflow",
             "size_categories:", f"- {_size_category(n)}"]
    if files:
        lines += ["configs:", "- config_name: default", "  data_files:", "  - split: train", f"    path: {files}"]
    return lines + ["---"]


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else json.dumps(v) if isinstance(v, dict | list) else str(v)


def render_card(out: Path, *, fmt: str, stats: CardStats, written: int, skipped: int, splits: dict[str, int],
                train_on: str, seed: int, metrics: dict[str, Any]) -> str:
    """The card's text (see the module docstring for what goes in it)."""
    lines = [*_front_matter(out, fmt, written), CARD_MARK, "", f"# {out.stem}: synthetic tool-calling dialogues",
             "", "Multi-turn dialogues with tool calls and tool results, made by ToolFlow from sampled tool "
             "combinations (plan → user / assistant / tool agents → checks).", "", "## Counts", ""]
    counts = {"dialogues written": written, "records skipped by the export": skipped, "messages": stats.messages,
              "tool calls": stats.calls, **{f"split {k}": v for k, v in splits.items()}}
    lines += _table(counts, ("what", "count"))
    metrics = dict(metrics)
    run = metrics.pop("scenarios", None) or {}
    lines += ["", "## Scenario mix", ""]
    mix = {k: f"{v} ({v / max(1, stats.dialogues):.0%})" + (
        f" | {run[k]['kept']} / {run[k]['rejected']}" if k in run else " | ?") for k, v in sorted(stats.scenarios.items())}
    lines += _table(mix, ("scenario", "dialogues exported", "run: kept / rejected"))
    lines += ["", "## Tool sources", ""]
    lines += _table(dict(stats.tool_sources.most_common()), ("source", "tools offered (with repeats)"))
    settings = {**{f"model: {r}": ", ".join(sorted(m)) for r, m in sorted(stats.models.items())},
                "synthesis seeds": ", ".join(str(s) for s in sorted(stats.seeds)) or "?",
                "sampling strategy": ", ".join(f"{k} ({v})" for k, v in stats.strategies.most_common()),
                "toolflow version": ", ".join(sorted(stats.versions)) or "?",
                "export format": fmt, "loss on": train_on, "split seed": seed}
    lines += ["", "## Generation settings", ""] + _table(settings, ("setting", "value"))
    if metrics:
        lines += ["", "## Quality metrics (`toolflow eval`, no judge)", ""]
        lines += _table({k: _fmt(v) for k, v in metrics.items()}, ("metric", "value"))
    usage = USAGE[fmt].format(file=out.name, stem=out.stem, assistant_only=str(train_on == "assistant"))
    lines += ["", "## Use", "", usage, "", "## Known limits", ""] + [f"- {x}" for x in LIMITS]
    return "\n".join(lines) + "\n"


def write_card(out: Path, *, fmt: str, result_stats: CardStats, written: int, skipped: int,
               splits: dict[str, int], train_on: str, seed: int, metrics: dict[str, Any]) -> Path:
    """Write the card (whole or not at all) and return its path."""
    path = card_path(out, fmt)
    text = render_card(out, fmt=fmt, stats=result_stats, written=written, skipped=skipped, splits=splits,
                       train_on=train_on, seed=seed, metrics=metrics)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
