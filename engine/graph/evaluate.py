"""Score FEEDS edges against hand-labelled data flows (`toolflow graph eval`).

The label file (format: ``../shared/data/flows_dev.json``, whose ``description`` key defines it) holds sets of
tools, each labelled on its own: ``flows`` (routes {from, to, from_field, to_param, kind}), ``hard_negatives``
(pairs with no flow that look linked) and ``ambiguous`` (pairs left unlabelled on purpose). Scoring is at the
pair level, as the file asks: routes are deduplicated on (from, to).

Within a set every flow was labelled, so every FEEDS edge between two of its tools that is not a flow pair is a
false edge — except pairs listed as ``ambiguous`` (neither flow nor negative), which count neither way.
``hard_negatives`` are a subset of the false edges that the report lists by name, since they are the ones a
rule is most tempted by.

Tools are resolved by the loader's name, or by id where the set carries ``tool_ids`` (API-Bank repeats some
names). A set is scored only when all of its tools are in the store; a name that resolves to several tools
(two sets with shared names in one store) is reported, since it merges the sets' edges: build one graph per
set. Pure: the store is read by the caller.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from toolflow.engine.errors import InputError


class LabelError(ValueError, InputError):
    """A label file that cannot be read; the message names the file and the field."""


class FlowRow(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    from_field: str | None = None
    to_param: str | None = None
    kind: str | None = None
    from_id: str | None = None
    to_id: str | None = None
    why: str | None = None


class LabelSet(BaseModel):
    model_config = ConfigDict(extra="allow")

    tools: list[str]
    tool_ids: list[str] | None = None
    flows: list[FlowRow] = Field(default_factory=list)
    hard_negatives: list[FlowRow] = Field(default_factory=list)
    ambiguous: list[FlowRow] = Field(default_factory=list)


class LabelFile(BaseModel):
    model_config = ConfigDict(extra="allow")

    description: str = ""
    sets: dict[str, LabelSet]


def load_labels(path: Path) -> LabelFile:
    """Read and validate a label file; a problem is one line naming the file and the field."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise LabelError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise LabelError(f"{path}: line {exc.lineno}: not JSON: {exc.msg}") from exc
    try:
        labels = LabelFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise LabelError(f"{path}: field {where!r}: {err['msg']}") from exc
    for name, s in labels.sets.items():
        if s.tool_ids is not None and len(s.tool_ids) != len(s.tools):
            raise LabelError(f"{path}: field 'sets.{name}.tool_ids': {len(s.tool_ids)} ids for {len(s.tools)} tools")
    return labels


@dataclass(frozen=True)
class EdgeRow:
    """One FEEDS edge as read from a store."""

    src: str
    dst: str
    from_field: str | None = None
    to_param: str | None = None
    evidence: str | None = None
    score: float | None = None


@dataclass
class SetScore:
    name: str
    scored: bool
    reason: str = ""
    flows: int = 0
    edges: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    ignored_ambiguous: int = 0
    missed: list[dict[str, Any]] = field(default_factory=list)
    false_edges: list[dict[str, Any]] = field(default_factory=list)
    hard_negative_hits: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self, details: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "set": self.name,
            "scored": self.scored,
            "flows": self.flows,
            "edges": self.edges,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "ignored_ambiguous": self.ignored_ambiguous,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }
        if self.reason:
            out["reason"] = self.reason
        if self.warnings:
            out["warnings"] = self.warnings
        if details:
            out["missed"] = self.missed
            out["false_edges"] = self.false_edges
            out["hard_negative_hits"] = self.hard_negative_hits
        return out


def total(name: str, scores: Iterable[SetScore]) -> SetScore:
    """Micro total of the scored sets: every labelled pair together (counts summed, unscored sets left out)."""
    scores = list(scores)
    tot = SetScore(name=name, scored=any(s.scored for s in scores))
    for s in scores:
        if s.scored:
            tot.flows += s.flows
            tot.edges += s.edges
            tot.tp += s.tp
            tot.fp += s.fp
            tot.fn += s.fn
            tot.ignored_ambiguous += s.ignored_ambiguous
    return tot


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


@dataclass
class EvalReport:
    sets: list[SetScore]

    @property
    def overall(self) -> SetScore:
        """Micro average over the scored sets: all labelled pairs together."""
        return total("overall", self.sets)

    def as_dict(self, details: bool = True) -> dict[str, Any]:
        return {
            "sets": [s.as_dict(details) for s in self.sets],
            "overall": self.overall.as_dict(details=False),
        }


def _resolve(label_set: LabelSet, tools: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
    """(store id -> label key, label name -> label keys, names not found).

    The label key is the tool id when the set lists ids, else the tool name.
    """
    by_name: dict[str, list[str]] = defaultdict(list)
    ids = set()
    for tid, name in tools:
        by_name[name].append(tid)
        ids.add(tid)
    id_to_key: dict[str, str] = {}
    name_keys: dict[str, list[str]] = defaultdict(list)
    missing: list[str] = []
    if label_set.tool_ids is not None:
        for name, tid in zip(label_set.tools, label_set.tool_ids, strict=True):
            if tid in ids:
                id_to_key[tid] = tid
                name_keys[name].append(tid)
            else:
                missing.append(f"{name} ({tid})")
        return id_to_key, name_keys, missing
    for name in dict.fromkeys(label_set.tools):
        found = by_name.get(name, [])
        if not found:
            missing.append(name)
        for tid in found:
            id_to_key[tid] = name
        name_keys[name] = [name]
    return id_to_key, name_keys, missing


def _pairs(rows: list[FlowRow], name_keys: dict[str, list[str]], use_ids: bool) -> dict[tuple[str, str], list[FlowRow]]:
    out: dict[tuple[str, str], list[FlowRow]] = defaultdict(list)
    for r in rows:
        if use_ids and r.from_id and r.to_id:
            srcs, dsts = [r.from_id], [r.to_id]
        else:
            srcs, dsts = name_keys.get(r.from_, [r.from_]), name_keys.get(r.to, [r.to])
        for a in srcs:
            for b in dsts:
                if a != b:
                    out[(a, b)].append(r)
    return out


def score_set(name: str, label_set: LabelSet, tools: Iterable[tuple[str, str]], edges: Iterable[EdgeRow]) -> SetScore:
    """Pair-level precision/recall of `edges` on one labelled set; `tools` are the store's (id, name) rows."""
    tools = list(tools)
    id_to_key, name_keys, missing = _resolve(label_set, tools)
    res = SetScore(name=name, scored=not missing)
    if missing:
        res.reason = f"{len(missing)} of {len(label_set.tools)} tools not in the store (e.g. {', '.join(missing[:3])})"
        return res
    use_ids = label_set.tool_ids is not None
    counts: dict[str, int] = defaultdict(int)
    for key in id_to_key.values():
        counts[key] += 1
    shared = sorted(k for k, n in counts.items() if n > 1)
    if shared and not use_ids:
        res.warnings.append(
            f"{len(shared)} tool name(s) match several tools in the store (e.g. {', '.join(shared[:3])}): "
            "edges of other sets are mixed in; build one graph per set"
        )
    flows = _pairs(label_set.flows, name_keys, use_ids)
    negatives = _pairs(label_set.hard_negatives, name_keys, use_ids)
    ambiguous = _pairs(label_set.ambiguous, name_keys, use_ids)
    predicted: dict[tuple[str, str], list[EdgeRow]] = defaultdict(list)
    for e in edges:
        a, b = id_to_key.get(e.src), id_to_key.get(e.dst)
        if a is None or b is None or a == b:
            continue
        predicted[(a, b)].append(e)
    res.flows = len(flows)
    res.edges = len(predicted)
    for pair, rows in sorted(predicted.items()):
        if pair in flows:
            res.tp += 1
            continue
        if pair in ambiguous:
            res.ignored_ambiguous += 1
            continue
        res.fp += 1
        item = {"from": pair[0], "to": pair[1], "edges": [_edge_dict(e) for e in rows]}
        res.false_edges.append(item)
        if pair in negatives:
            res.hard_negative_hits.append({**item, "why": negatives[pair][0].why})
    for pair, rows in sorted(flows.items()):
        if pair not in predicted:
            res.fn += 1
            res.missed.append(
                {"from": pair[0], "to": pair[1], "routes": [
                    {"from_field": r.from_field, "to_param": r.to_param, "kind": r.kind} for r in rows
                ]}
            )
    return res


def _edge_dict(e: EdgeRow) -> dict[str, Any]:
    return {"from_field": e.from_field, "to_param": e.to_param, "evidence": e.evidence, "score": e.score}


def evaluate(labels: LabelFile, tools: Iterable[tuple[str, str]], edges: Iterable[EdgeRow]) -> EvalReport:
    """Score every set of `labels` against one store's tools and FEEDS edges."""
    tools, edges = list(tools), list(edges)
    return EvalReport([score_set(name, s, tools, edges) for name, s in labels.sets.items()])


def edge_labels(label_set: LabelSet, tools: Iterable[tuple[str, str]], edges: Iterable[EdgeRow]) -> list[int | None]:
    """Per edge: 1 when its tool pair is a labelled flow, 0 when it is not, None when the pair is ambiguous
    or outside the set (the rows a calibrator may learn from)."""
    id_to_key, name_keys, _ = _resolve(label_set, tools)
    use_ids = label_set.tool_ids is not None
    flows = _pairs(label_set.flows, name_keys, use_ids)
    ambiguous = _pairs(label_set.ambiguous, name_keys, use_ids)
    out: list[int | None] = []
    for e in edges:
        pair = (id_to_key.get(e.src), id_to_key.get(e.dst))
        if None in pair or pair[0] == pair[1] or (pair in ambiguous and pair not in flows):
            out.append(None)
        else:
            out.append(int(pair in flows))
    return out
