"""`toolflow ablate`: the paper's Table 2 on your own tools and LLM.

Four settings with the same seeds, LLM settings and tool graph, each synthesized with the existing
:func:`toolflow.engine.synth.job.run_synthesis` (so each is resumable exactly like `synth`: rerun the same
command and finished dialogues are skipped) and then evaluated:

=============  ==========================  ====================
setting        tool combinations           dialogue
=============  ==========================  ====================
Graph+Plan     graph random walk (walk)    planner, then play
−Plan          graph random walk (walk)    user improvises
−Graph         uniform random (random)     planner, then play
−Both          uniform random (random)     user improvises
=============  ==========================  ====================

Outputs in ``--out DIR``: ``<setting>/dialogues.jsonl`` (+ rejects), ``<setting>/eval.json``, ``table.md``,
``table.json`` and ``plot.png``. In the table and plot SS and EnR are on the paper's x100 scale.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from rich.console import Console

from toolflow.engine.eval.evaluate import Embed, EvalOptions, EvalReport, evaluate_file
from toolflow.engine.eval.plot import plot_ablation
from toolflow.engine.llm.base import LLM
from toolflow.engine.sampling.sources import SampleSource
from toolflow.engine.synth.job import RunConfig, RunSummary, run_synthesis


class Setting(BaseModel):
    key: str
    label: str
    strategy: str
    plan: bool


SETTINGS: tuple[Setting, ...] = (
    Setting(key="graph_plan", label="Graph+Plan", strategy="walk", plan=True),
    Setting(key="no_plan", label="−Plan", strategy="walk", plan=False),
    Setting(key="no_graph", label="−Graph", strategy="random", plan=True),
    Setting(key="no_both", label="−Both", strategy="random", plan=False),
)

#: The paper's Table 2 as we read it (SS and EnR x100). Only these two rows are quoted.
PAPER_TABLE2: dict[str, dict[str, float]] = {
    "graph_plan": {"ss": 63.36, "enr": 47.3, "entropy": 10.36, "distinct3": 0.4865, "naturalness": 3.72,
                   "coherence": 3.91},
    "no_both": {"ss": 58.65, "enr": 35.4, "entropy": 9.75, "distinct3": 0.3078, "naturalness": 2.93,
                "coherence": 3.66},
}

#: (key, column label) of the comparison, in the paper's order, then the judge's other two and ours.
PAPER_METRICS: tuple[tuple[str, str], ...] = (
    ("ss", "SS"), ("enr", "EnR"), ("entropy", "H"), ("distinct3", "Distinct-3"), ("naturalness", "NAT"),
    ("coherence", "COH"),
)
EXTRA_METRICS: tuple[tuple[str, str], ...] = (
    ("helpfulness", "HELP"), ("accuracy", "ACC"), ("arg_sourced", "args sourced"),
    ("followup_grounded", "grounded follow-ups"), ("feeds_set_share", "FEEDS sets"),
)


class AblationRow(BaseModel):
    setting: Setting
    kept: int = 0
    rejected: int = 0
    errored: int = 0
    elapsed_s: float = 0.0
    report: EvalReport | None = None
    metrics: dict[str, float | None] = Field(default_factory=dict, description="SS/EnR x100, as the paper.")


def row_metrics(report: EvalReport) -> dict[str, float | None]:
    """The comparison values of one setting, SS and EnR on the paper's x100 scale.

    A setting without kept dialogues has no values (None), not H = 0: a crashed or fully rejected setting
    must not count as a direction that reproduces.
    """
    judge = report.judge or {}
    if report.dialogues == 0:
        return dict.fromkeys(k for k, _ in (*PAPER_METRICS, *EXTRA_METRICS))
    return {
        "ss": None if report.ss is None else report.ss * 100,
        "enr": None if report.enr is None else report.enr * 100,
        "entropy": report.entropy,
        "distinct3": report.distinct3,
        "naturalness": judge.get("naturalness"),
        "coherence": judge.get("coherence"),
        "helpfulness": judge.get("helpfulness"),
        "accuracy": judge.get("accuracy"),
        "arg_sourced": report.ours.arg_sourced,
        "followup_grounded": report.ours.followup_grounded,
        "feeds_set_share": report.ours.feeds_set_share,
    }


def directions(rows: Sequence[AblationRow]) -> list[dict[str, Any]]:
    """Per paper metric: does Graph+Plan beat −Both here as in the paper?"""
    by_key = {r.setting.key: r.metrics for r in rows}
    full, base = by_key.get("graph_plan"), by_key.get("no_both")
    out = []
    for key, label in PAPER_METRICS:
        paper_delta = PAPER_TABLE2["graph_plan"][key] - PAPER_TABLE2["no_both"][key]
        ours = None
        if full and base and full.get(key) is not None and base.get(key) is not None:
            ours = float(full[key]) - float(base[key])  # type: ignore[arg-type]
        if ours is None:
            verdict = "n/a"
        elif ours == 0:
            verdict = "tie: no difference here"
        else:
            verdict = "reproduces" if ours * paper_delta > 0 else "does not reproduce"
        out.append({"metric": label, "paper_delta": round(paper_delta, 4),
                    "ours_delta": None if ours is None else round(ours, 4), "verdict": verdict})
    return out


def _fmt(v: float | None, key: str) -> str:
    if v is None:
        return "—"
    return f"{v:.4f}" if key == "distinct3" else f"{v:.2f}"


def markdown_table(rows: Sequence[AblationRow]) -> str:
    """Table 2 style: one line per setting (ours), the paper's line under the settings it reports."""
    cols = [*PAPER_METRICS, *EXTRA_METRICS]
    head = "| setting | source | kept | rejected | " + " | ".join(c for _, c in cols) + " |"
    lines = [head, "|" + "---|" * (4 + len(cols))]
    for r in rows:
        vals = " | ".join(_fmt(r.metrics.get(k), k) for k, _ in cols)
        kept = f"{r.kept} (+{r.errored} errored)" if r.errored else str(r.kept)
        lines.append(f"| {r.setting.label} | ours | {kept} | {r.rejected} | {vals} |")
        paper = PAPER_TABLE2.get(r.setting.key)
        if paper:
            pvals = " | ".join(_fmt(paper.get(k), k) for k, _ in cols)
            lines.append(f"| {r.setting.label} | paper | | | {pvals} |")
    lines.append("")
    lines.append("| metric | paper Graph+Plan − −Both | ours Graph+Plan − −Both | direction |")
    lines.append("|---|---|---|---|")
    for d in directions(rows):
        ours = "—" if d["ours_delta"] is None else f"{d['ours_delta']:+.4f}"
        lines.append(f"| {d['metric']} | {d['paper_delta']:+.4f} | {ours} | {d['verdict']} |")
    return "\n".join(lines) + "\n"


def write_outputs(rows: Sequence[AblationRow], out_dir: Path, meta: dict[str, Any]) -> dict[str, Path]:
    """table.md, table.json and plot.png in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "table.md"
    md.write_text(markdown_table(rows), encoding="utf-8")
    table = {
        "units": {"ss": "mean cosine x100 (paper scale)", "enr": "percent of round pairs entailed"},
        "meta": meta,
        "rows": [{"setting": r.setting.key, "label": r.setting.label, "strategy": r.setting.strategy,
                  "plan": r.setting.plan, "kept": r.kept, "rejected": r.rejected, "errored": r.errored,
                  "metrics": r.metrics, "paper": PAPER_TABLE2.get(r.setting.key),
                  "enr_method": r.report.enr_method if r.report else None,
                  "ours": r.report.ours.model_dump() if r.report else None} for r in rows],
        "directions": directions(rows),
    }
    js = out_dir / "table.json"
    js.write_text(json.dumps(table, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plot_rows = [{"key": r.setting.key, "label": r.setting.label, **r.metrics} for r in rows]
    png = plot_ablation(plot_rows, [*PAPER_METRICS, *EXTRA_METRICS], out_dir / "plot.png", PAPER_TABLE2)
    return {"md": md, "json": js, "png": png}


async def run_ablation(
    llm: LLM,
    source: SampleSource,
    *,
    n: int,
    seed: int,
    out_dir: Path,
    run_options: dict[str, Any],
    eval_options: EvalOptions,
    embed: Embed,
    console: Console | None = None,
    show_progress: bool = True,
    judge_model: str | None = None,
    settings: Sequence[Setting] = SETTINGS,
) -> list[AblationRow]:
    """Synthesize (or resume) and evaluate every setting; returns one row per setting."""
    console = console or Console(stderr=True)
    rows = []
    for s in settings:
        folder = out_dir / s.key
        config = RunConfig(n=n, out=folder / "dialogues.jsonl", seed=seed, strategy=s.strategy, plan=s.plan,
                           **run_options)
        console.print(f"[bold]{s.label}[/]: strategy {s.strategy}, plan {'on' if s.plan else 'off'} → {config.out}")
        summary: RunSummary = await run_synthesis(llm, source, config, console=console, show_progress=show_progress)
        row = AblationRow(setting=s, errored=sum(summary.errors.values()), elapsed_s=summary.elapsed_s)
        report = await evaluate_file(config.out, llm=llm, options=eval_options, embed=embed, console=console,
                                     show_progress=show_progress, judge_model=judge_model)
        (folder / "eval.json").write_text(json.dumps(report.summary(), indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
        row.report = report
        row.kept, row.rejected = report.ours.kept, report.ours.rejected
        row.metrics = row_metrics(report)
        rows.append(row)
    return rows
