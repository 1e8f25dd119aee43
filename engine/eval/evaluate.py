"""`toolflow eval` for one file: read the dialogues (and the rejects beside them), compute every metric.

I/O lives here; the metrics themselves are pure functions in :mod:`.metrics`, :mod:`.ours`,
:mod:`.entailment` and :mod:`.judge`. The LLM is needed only for the judge and for EnR without
``--nli-model``; the embedder only for SS (vectors come from the project's disk cache when warm).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from toolflow.engine.eval.entailment import EnRResult, cross_encoder_enr, llm_enr
from toolflow.engine.eval.judge import CRITERIA, JudgeResult, judge_dialogues, subsample
from toolflow.engine.eval.metrics import (
    consecutive_pairs,
    distinct_n,
    entropy,
    mean_pair_cosine,
    user_messages,
)
from toolflow.engine.eval.ours import OursMetrics, ours_metrics
from toolflow.engine.eval.records import EvalInputError, read_records
from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.paths import embedding_cache_path
from toolflow.engine.synth.job import rejects_path_for

Embed = Callable[[list[str]], np.ndarray]


class EvalOptions(BaseModel):
    judge: bool = True
    sample: int = Field(default=200, ge=1, description="Dialogues the judge scores (the paper: 200).")
    seed: int = 0
    nli_model: str | None = None
    rubric: Path | None = None
    concurrency: int = Field(default=4, ge=1)
    rejects: Path | None = None


class EvalReport(BaseModel):
    file: str
    dialogues: int
    ss: float | None = Field(description="Mean cosine of consecutive rounds (the paper prints it x100).")
    ss_pairs: int = 0
    enr: float | None = Field(description="Share of consecutive round pairs judged entailment (paper: x100).")
    enr_method: str = "none"
    enr_detail: EnRResult | None = None
    entropy: float
    distinct3: float
    user_messages: int = 0
    judge: dict[str, float | None] | None = None
    judge_detail: JudgeResult | None = None
    ours: OursMetrics
    skipped: list[str] = Field(default_factory=list, description="Records left out: file:line: field, why.")

    def summary(self) -> dict[str, Any]:
        """The `--json` shape: the issue's keys first, then the details."""
        out: dict[str, Any] = {"file": self.file, "dialogues": self.dialogues, "ss": self.ss, "enr": self.enr,
                               "entropy": self.entropy, "distinct3": self.distinct3}
        if self.judge is not None:
            out["judge"] = self.judge
            out["judge_judged"] = self.judge_detail.judged if self.judge_detail else 0
            out["judge_failed"] = self.judge_detail.failed if self.judge_detail else 0
        out["enr_method"] = self.enr_method
        if self.enr_detail is not None:
            out["enr_pairs"], out["enr_failed"] = self.enr_detail.pairs, self.enr_detail.failed
            out["enr_model"] = self.enr_detail.model
        out["ss_pairs"] = self.ss_pairs
        out["skipped"] = self.skipped
        out["ours"] = self.ours.model_dump()
        return out


def load_dialogues(path: Path, skipped: list[str] | None = None) -> list[dict[str, Any]]:
    """The usable dialogue records of a JSONL file. A bad record is left out and described in `skipped`
    (``file:line: field …``); a file without one usable record is an error naming its first bad line."""
    if not path.exists():
        raise EvalInputError(f"{path}: no such file")
    records, problems = read_records(path)
    if problems and not records:
        raise EvalInputError(f"{problems[0]} (expected dialogue records)")
    if skipped is not None:
        skipped.extend(problems)
    return records


def project_embedder() -> Embed:
    """The project's sentence-transformers model (all-MiniLM-L6-v2) through the shared disk cache."""
    from toolflow.engine.graph.embedding import (
        DEFAULT_MODEL,
        EmbeddingCache,
        SentenceTransformerEmbedder,
        embed_texts,
    )

    def embed(texts: list[str]) -> np.ndarray:
        cache = EmbeddingCache(embedding_cache_path())
        try:
            return embed_texts(texts, SentenceTransformerEmbedder, cache, DEFAULT_MODEL)[0]
        finally:
            cache.close()

    return embed


def semantic_similarity(pairs: Sequence[tuple[str, str, str]], embed: Embed) -> float | None:
    """SS: mean cosine of (previous round, current round) over all pairs; None without pairs."""
    if not pairs:
        return None
    texts = sorted({t for p in pairs for t in p[:2]})
    vecs = embed(texts)
    row = {t: i for i, t in enumerate(texts)}
    a = np.stack([vecs[row[p[0]]] for p in pairs])
    b = np.stack([vecs[row[p[1]]] for p in pairs])
    value = mean_pair_cosine(a, b)
    return None if math.isnan(value) else value


def needs_llm(options: EvalOptions) -> bool:
    return options.judge or not options.nli_model


async def evaluate_file(
    path: Path,
    *,
    llm: LLM | None,
    options: EvalOptions,
    embed: Embed,
    console: Console | None = None,
    show_progress: bool = True,
    judge_model: str | None = None,
) -> EvalReport:
    """Every metric for one file of kept dialogues (rejects read from ``<stem>.rejects.jsonl`` when present)."""
    console = console or Console(stderr=True)
    skipped: list[str] = []
    dialogues = load_dialogues(path, skipped)
    rejects_file = options.rejects or rejects_path_for(path)
    rejects = load_dialogues(rejects_file, skipped) if rejects_file.exists() else []
    for line in skipped:  # one line per record left out; the rest are scored
        console.print(f"skipped {line}", style="yellow", markup=False, highlight=False, soft_wrap=True)
    users = [u for d in dialogues for u in user_messages(d)]
    pairs = consecutive_pairs(dialogues)
    nli_pairs = [(prev, req) for prev, _, req in pairs]
    if needs_llm(options) and llm is None:
        raise ValueError("an LLM is needed for the judge / LLM entailment but none was given")
    tracker = UsageTracker()
    judged = subsample(dialogues, options.sample, options.seed) if options.judge else []

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, disable=not show_progress, transient=False)
    with progress:
        if options.nli_model:
            enr = cross_encoder_enr(nli_pairs, options.nli_model)
        else:
            task = progress.add_task(f"entailment {path.name}", total=len(nli_pairs))
            assert llm is not None
            enr = await llm_enr(llm, nli_pairs, concurrency=options.concurrency, tracker=tracker,
                                on_done=lambda: progress.advance(task), model=judge_model)
        judge: JudgeResult | None = None
        if options.judge:
            assert llm is not None
            task = progress.add_task(f"judge {path.name}", total=len(judged))
            judge = await judge_dialogues(llm, judged, rubric=options.rubric, concurrency=options.concurrency,
                                          tracker=tracker, on_done=lambda: progress.advance(task),
                                          model=judge_model)
    return EvalReport(
        file=str(path), dialogues=len(dialogues), ss=semantic_similarity(pairs, embed), ss_pairs=len(pairs),
        enr=enr.enr, enr_method=enr.method, enr_detail=enr, entropy=entropy(users), distinct3=distinct_n(users, 3),
        user_messages=len(users), judge=dict(judge.means) if judge else None, judge_detail=judge,
        ours=ours_metrics(dialogues, rejects), skipped=skipped)


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def report_table(report: EvalReport) -> Table:
    """The readable table of one file."""
    t = Table(title=f"eval {report.file}", show_header=True)
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_column("how")
    t.add_row("dialogues", str(report.dialogues), f"{report.user_messages} user messages")
    t.add_row("SS", _fmt(report.ss), f"mean cosine of {report.ss_pairs} consecutive round pairs (paper prints x100)")
    how = report.enr_method + (f" ({report.enr_detail.model})" if report.enr_detail and report.enr_detail.model else "")
    if report.enr_detail and report.enr_detail.failed:
        how += f", {report.enr_detail.failed} unusable answers left out"
    t.add_row("EnR", _fmt(report.enr), f"entailment share by {how}")
    t.add_row("H", _fmt(report.entropy), "bits, pooled user unigrams")
    t.add_row("Distinct-3", _fmt(report.distinct3), "distinct / total user trigrams")
    if report.judge is not None and report.judge_detail is not None:
        jd = report.judge_detail
        for c in CRITERIA:
            t.add_row(f"judge {c}", _fmt(report.judge.get(c), 2), f"1–5, {jd.judged} judged, {jd.failed} failed")
    for key, value in report.ours.model_dump().items():
        if key == "rejects_by_reason":
            for reason, count in value.items():
                t.add_row(f"  reject: {reason}", str(count), "")
            continue
        if key == "scenarios":
            total = sum(c["kept"] + c["rejected"] for c in value.values()) or 1
            for name, c in value.items():
                t.add_row(f"  scenario: {name}", f"{c['kept']} / {c['rejected']}",
                          f"kept / rejected; {(c['kept'] + c['rejected']) / total:.0%} of the mix")
            continue
        t.add_row(key, _fmt(value), OursMetrics.model_fields[key].description or "")
    return t
