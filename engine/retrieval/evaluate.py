"""`retrieve-eval`: Recall@k, NDCG@k and complete@k of the four rankings on a file of labelled queries.

Input: JSONL, one ``{"query": str, "relevant_tools": [names or ids]}`` per line (other keys are kept as
metadata and ignored). A relevant tool matches a graph tool by id, by function name, by original name, or
by source id (the part of the id after ``<source>:``). Names that match nothing are counted and listed in the
report; a query with no matched relevant tool is left out of the averages and counted as skipped.

Metrics per query, averaged over queries (binary relevance, one unit per distinct relevant tool):
- recall@k: the share of relevant tools in the top k;
- ndcg@k: DCG with gain 1/log2(rank + 1) over the ideal DCG for min(#relevant, k) hits;
- complete@k: 1 when every relevant tool is in the top k (a multi-step request needs all of them).

What the graph expansion did (``expansion`` in the report, at the largest k): the tools it brought into the
top k that hybrid alone did not have there, the first-stage hits it pushed out, and how many of each were
relevant. On a tool set whose requests combine unrelated tools the entered ones are rarely relevant and the
expansion costs complete@k; this says so on the user's own data instead of leaving it to guesswork.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from toolflow.engine.errors import InputError
from toolflow.engine.jsonl import json_lines
from toolflow.engine.retrieval.models import METHODS


class EvalFileError(ValueError, InputError):
    """A bad line in an eval file; the message names the file, the line and the field."""


class EvalQuery(BaseModel):
    model_config = ConfigDict(extra="allow")

    query: str = Field(min_length=1)
    relevant_tools: list[str] = Field(min_length=1)


def read_eval_file(path: Path) -> list[EvalQuery]:
    out: list[EvalQuery] = []
    with open(path, encoding="utf-8") as f:
        for lineno, raw, error, _ in json_lines(f):
            if error is not None:
                raise EvalFileError(f"{path}:{lineno}: not JSON ({error})")
            try:
                out.append(EvalQuery.model_validate(raw))
            except ValidationError as exc:
                err = exc.errors()[0]
                loc = ".".join(str(x) for x in err["loc"]) or "(line)"
                raise EvalFileError(f"{path}:{lineno}: field {loc}: {err['msg']}") from exc
    if not out:
        raise EvalFileError(f"{path}: no queries")
    return out


class ToolMatcher:
    """Resolves a label (id, name, original name or source id) to the graph's tool ids."""

    def __init__(self, catalog: Iterable[dict[str, Any]]) -> None:
        self._by: list[dict[str, set[str]]] = [{}, {}, {}, {}]
        for row in catalog:
            tid = row["id"]
            keys = (tid, row.get("name"), row.get("original_name"), tid.split(":", 1)[1] if ":" in tid else None)
            for table, key in zip(self._by, keys, strict=True):
                if key:
                    table.setdefault(key, set()).add(tid)

    def resolve(self, label: str) -> frozenset[str]:
        """Ids for `label`, trying id, name, original name, source id in that order; empty when unknown."""
        for table in self._by:
            if label in table:
                return frozenset(table[label])
        return frozenset()


def query_metrics(ranked: Sequence[str], relevant: Sequence[frozenset[str]], ks: Sequence[int]) -> dict[str, float]:
    """recall@k, ndcg@k, complete@k for one query; `relevant` holds one id set per relevant tool."""
    first_rank: list[int | None] = []
    pos = {tid: r for r, tid in reversed(list(enumerate(ranked, start=1)))}
    for ids in relevant:
        ranks = [pos[i] for i in ids if i in pos]
        first_rank.append(min(ranks) if ranks else None)
    out: dict[str, float] = {}
    n_rel = len(relevant)
    for k in ks:
        found = [r for r in first_rank if r is not None and r <= k]
        dcg = sum(1.0 / math.log2(r + 1) for r in found)
        idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_rel, k) + 1))
        out[f"recall@{k}"] = len(found) / n_rel
        out[f"ndcg@{k}"] = dcg / idcg if idcg else 0.0
        out[f"complete@{k}"] = 1.0 if len(found) == n_rel else 0.0
    return out


def mean_metrics(rows: Sequence[dict[str, float]], ks: Sequence[int]) -> dict[str, float]:
    keys = [f"{m}@{k}" for k in ks for m in ("recall", "ndcg", "complete")]
    if not rows:
        return {key: 0.0 for key in keys}
    return {key: round(sum(r[key] for r in rows) / len(rows), 4) for key in keys}


def expansion_effect(hybrid: Sequence[str], graph: Sequence[str], relevant: Sequence[frozenset[str]],
                     k: int) -> dict[str, int]:
    """Tools the expansion brought into the top k / pushed out of it, and how many of each are relevant."""
    rel = set().union(*relevant) if relevant else set()
    h, g = set(hybrid[:k]), set(graph[:k])
    entered, displaced = g - h, h - g
    return {"entered": len(entered), "entered_relevant": len(entered & rel),
            "displaced": len(displaced), "displaced_relevant": len(displaced & rel)}


def summarize(per_query: Sequence[dict[str, Any]], ks: Sequence[int]) -> dict[str, Any]:
    """The --json report: counts and mean metrics per method; also the multi-tool subset and what the
    expansion changed in the top max(ks) (summed over queries)."""
    report: dict[str, Any] = {"queries": len(per_query)}
    for m in METHODS:
        report[m] = mean_metrics([q["metrics"][m] for q in per_query], ks)
    multi = [q for q in per_query if q["relevant"] > 1]
    report["multi_tool"] = {"queries": len(multi), **{m: mean_metrics([q["metrics"][m] for q in multi], ks)
                                                      for m in METHODS}}
    keys = ("entered", "entered_relevant", "displaced", "displaced_relevant")
    report["expansion"] = {"k": max(ks), **{key: sum(q.get("expansion", {}).get(key, 0) for q in per_query)
                                            for key in keys}}
    return report


def run_eval(retriever: Any, queries: Sequence[EvalQuery], ks: Sequence[int],
             progress: Any = None) -> dict[str, Any]:
    """Score all four rankings of every query; returns the report (see `summarize`) plus unmatched labels."""
    matcher = ToolMatcher(retriever.store.tool_catalog())
    unmatched: dict[str, int] = {}
    usable: list[tuple[EvalQuery, list[frozenset[str]]]] = []
    skipped = 0
    for q in queries:
        rel: list[frozenset[str]] = []
        for label in dict.fromkeys(q.relevant_tools):
            ids = matcher.resolve(label)
            if ids:
                if ids not in rel:
                    rel.append(ids)
            else:
                unmatched[label] = unmatched.get(label, 0) + 1
        if rel:
            usable.append((q, rel))
        else:
            skipped += 1
    depth = max(ks)
    vectors = retriever.embed([q.query for q, _ in usable]) if usable else []
    per_query = []
    for (q, rel), vec in zip(usable, vectors, strict=True):
        stages = retriever.stages(q.query, vec, expand=True)
        ranked = {m: [i for i, _ in stages.ranking(m)[:depth]] for m in METHODS}
        metrics = {m: query_metrics(ranked[m], rel, ks) for m in METHODS}
        per_query.append({"query": q.query, "relevant": len(rel), "metrics": metrics,
                          "expansion": expansion_effect(ranked["hybrid"], ranked["graph"], rel, depth)})
        if progress:
            progress(1)
    report = summarize(per_query, ks)
    report["unmatched"] = {
        "labels": sum(unmatched.values()),
        "distinct": len(unmatched),
        "queries_skipped": skipped,
        "examples": sorted(unmatched)[:20],
    }
    return report
