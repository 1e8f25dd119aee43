"""Our own structural metrics: what the paper's text metrics cannot see (data flow, tool use, the graph).

Every number is a pure function of the dialogue records (and the rejects file beside them), so it can be
recomputed from the JSONL alone. Shares are 0–1; None where the denominator is empty (e.g. no tool calls).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from toolflow.engine.eval.metrics import tokens
from toolflow.engine.jsontext import leaves
from toolflow.engine.synth.checks import call_problems
from toolflow.engine.synth.evidence import tool_params
from toolflow.engine.synth.reasons import reason_code

#: A string argument shorter than this is not checked for grounding: "US", "en" or "1" appear anywhere.
MIN_VALUE_CHARS = 3
FEEDS = "FEEDS"


class OursMetrics(BaseModel):
    arg_sourced: float | None = Field(
        None, description="String argument values (3+ chars) found, case-insensitively, in an earlier user "
                          "message or tool result / all such values.")
    arg_values: int = 0
    followup_grounded: float | None = Field(
        None, description="Rounds after the first whose calls use a value from an earlier round's tool result / "
                          "rounds after the first with calls.")
    followup_rounds: int = 0
    feeds_edge_share: float | None = Field(None, description="FEEDS edges / all edges of the sampled tool sets.")
    feeds_set_share: float | None = Field(None, description="Tool sets with at least one FEEDS edge.")
    feeds_chain_share: float | None = Field(None, description="Tool sets with a FEEDS chain of 2+ edges (A→B→C).")
    distinct_combinations: int = 0
    distinct_combination_share: float | None = None
    tools_offered: int = 0
    tools_covered: int = Field(0, description="Distinct tools called at least once.")
    calls: int = 0
    call_validity: float | None = Field(None, description="Calls that name a dialogue tool with schema-valid args.")
    clarification_rate: float | None = Field(
        None, description="Rounds whose first assistant message is a question in words (contains '?') and is "
                          "answered by the user.")
    parallel_call_rate: float | None = Field(None, description="Assistant call messages with 2+ calls.")
    turns_per_dialogue: float | None = Field(None, description="User messages per dialogue.")
    tokens_per_dialogue: float | None = Field(None, description=r"\w+ tokens of all message texts per dialogue.")
    llm_tokens_per_dialogue: float | None = Field(None, description="Prompt+completion tokens from meta.tokens.")
    kept: int = 0
    rejected: int = 0
    reject_rate: float | None = None
    rejects_by_reason: dict[str, int] = Field(default_factory=dict)
    scenarios: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Per planned scenario (meta.scenario, else standard): kept, rejected.")


def _share(num: int, den: int) -> float | None:
    return num / den if den else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _text(m: dict[str, Any]) -> str:
    c = m.get("content")
    return c if isinstance(c, str) else ""


def call_args(call: dict[str, Any]) -> Any:
    raw = (call.get("function") or {}).get("arguments")
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return raw


def string_values(value: Any) -> list[str]:
    """Every string leaf of a JSON value (dict values and list items, recursively), in document order."""
    return [v for v in leaves(value) if isinstance(v, str)]


def checked_values(call: dict[str, Any]) -> list[str]:
    return [v for v in string_values(call_args(call)) if len(v) >= MIN_VALUE_CHARS]


def arg_sourcing(dialogue: dict[str, Any]) -> tuple[int, int]:
    """(values found in an earlier user message or tool result, values checked) for one dialogue."""
    seen: list[str] = []
    found = total = 0
    for m in dialogue.get("messages", []):
        role = m.get("role")
        if role == "assistant":
            for call in m.get("tool_calls") or []:
                for v in checked_values(call):
                    total += 1
                    found += any(v.lower() in s for s in seen)
        if role in ("user", "tool"):
            seen.append(_text(m).lower())
    return found, total


def _rounds_with_messages(dialogue: dict[str, Any]) -> list[list[dict[str, Any]]]:
    out: list[list[dict[str, Any]]] = []
    for m in dialogue.get("messages", []):
        if m.get("role") == "user":
            out.append([m])
        elif out:
            out[-1].append(m)
    return out


def followup_grounding(dialogue: dict[str, Any]) -> tuple[int, int]:
    """(grounded, considered) rounds after the first: considered when the round makes a call, grounded when
    one of its string values (3+ chars) appears in a tool result of an earlier round."""
    grounded = considered = 0
    results: list[str] = []
    for i, msgs in enumerate(_rounds_with_messages(dialogue)):
        values = [v.lower() for m in msgs if m.get("role") == "assistant"
                  for c in m.get("tool_calls") or [] for v in checked_values(c)]
        has_call = any(m.get("tool_calls") for m in msgs if m.get("role") == "assistant")
        if i > 0 and has_call:
            considered += 1
            grounded += any(v in r for v in values for r in results)
        results.extend(_text(m).lower() for m in msgs if m.get("role") == "tool")
    return grounded, considered


def longest_feeds_chain(edges: Iterable[dict[str, Any]]) -> int:
    """Edges in the longest simple directed path made of FEEDS edges (0 when there are none)."""
    succ: dict[str, set[str]] = {}
    for e in edges:
        if e.get("type") == FEEDS and e.get("source") != e.get("target"):
            succ.setdefault(e["source"], set()).add(e["target"])

    def walk(node: str, on_path: frozenset[str]) -> int:
        return max((1 + walk(n, on_path | {n}) for n in succ.get(node, ()) if n not in on_path), default=0)

    return max((walk(s, frozenset({s})) for s in succ), default=0)


def clarification_rounds(dialogue: dict[str, Any]) -> tuple[int, int]:
    """(rounds that open with a question in words answered by the user, rounds)."""
    rs = _rounds_with_messages(dialogue)
    asked = 0
    for i, msgs in enumerate(rs):
        first = next((m for m in msgs if m.get("role") == "assistant"), None)
        if first is not None and not first.get("tool_calls") and "?" in _text(first) and i + 1 < len(rs):
            asked += 1
    return asked, len(rs)


def scenario_counts(dialogues: Sequence[dict[str, Any]], rejects: Sequence[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """The scenario mix of a file and its rejects: per scenario, kept and rejected dialogues."""
    out: dict[str, dict[str, int]] = {}
    for kind, records in (("kept", dialogues), ("rejected", rejects)):
        for r in records:
            name = (r.get("meta") or {}).get("scenario") or "standard"
            out.setdefault(name, {"kept": 0, "rejected": 0})[kind] += 1
    return dict(sorted(out.items()))


@dataclass
class _Totals:
    """Running sums over the kept dialogues of one file (what `ours_metrics` turns into shares): counts by
    name in `n`, plus the sets and per-dialogue sizes."""

    n: Counter[str] = field(default_factory=Counter)
    combos: set[tuple[str, ...]] = field(default_factory=set)
    offered: set[str] = field(default_factory=set)
    called: set[str] = field(default_factory=set)
    turns: list[float] = field(default_factory=list)
    toks: list[float] = field(default_factory=list)
    llm_toks: list[float] = field(default_factory=list)

    def add(self, d: dict[str, Any]) -> None:
        n = self.n
        (f, t), (g, c), (a, r) = arg_sourcing(d), followup_grounding(d), clarification_rounds(d)
        n.update(found=f, total=t, grounded=g, considered=c, asked=a, rounds=r)
        self._add_sample(d.get("sample") or {})
        self._add_calls(d)
        self.turns.append(sum(1 for msg in d.get("messages", []) if msg.get("role") == "user"))
        self.toks.append(sum(len(tokens(_text(msg))) for msg in d.get("messages", [])))
        usage = (d.get("meta") or {}).get("tokens") or {}
        if usage:
            self.llm_toks.append(sum(u.get("prompt_tokens", 0) + u.get("completion_tokens", 0) for u in usage.values()))

    def _add_sample(self, sample: dict[str, Any]) -> None:
        edges = sample.get("edges") or []
        chain = longest_feeds_chain(edges)
        self.n.update(edges=len(edges), feeds=sum(1 for e in edges if e.get("type") == FEEDS),
                      sets_with_feeds=chain >= 1, sets_with_chain=chain >= 2)
        ids = sample.get("tool_ids") or []
        self.combos.add(tuple(sorted(ids)))
        self.offered.update(ids)

    def _add_calls(self, d: dict[str, Any]) -> None:
        params = tool_params(d.get("tools", []))
        for msg in d.get("messages", []):
            if msg.get("role") != "assistant" or not msg.get("tool_calls"):
                continue
            self.n.update(call_msgs=1, parallel=len(msg["tool_calls"]) >= 2)
            for call in msg["tool_calls"]:
                self.n.update(calls=1, valid=not call_problems(call, params))
                self.called.add((call.get("function") or {}).get("name"))


def ours_metrics(dialogues: Sequence[dict[str, Any]], rejects: Sequence[dict[str, Any]] = ()) -> OursMetrics:
    """All of our metrics for one file of kept dialogues (and its rejects)."""
    m = OursMetrics(kept=len(dialogues), rejected=len(rejects))
    s = _Totals()
    for d in dialogues:
        s.add(d)
    n, c = len(dialogues), s.n
    m.arg_sourced, m.arg_values = _share(c["found"], c["total"]), c["total"]
    m.followup_grounded, m.followup_rounds = _share(c["grounded"], c["considered"]), c["considered"]
    m.feeds_edge_share = _share(c["feeds"], c["edges"])
    m.feeds_set_share = _share(c["sets_with_feeds"], n)
    m.feeds_chain_share = _share(c["sets_with_chain"], n)
    m.distinct_combinations, m.distinct_combination_share = len(s.combos), _share(len(s.combos), n)
    m.tools_offered, m.tools_covered = len(s.offered), len(s.called - {None})
    m.calls, m.call_validity = c["calls"], _share(c["valid"], c["calls"])
    m.clarification_rate = _share(c["asked"], c["rounds"])
    m.parallel_call_rate = _share(c["parallel"], c["call_msgs"])
    m.turns_per_dialogue, m.tokens_per_dialogue = _mean(s.turns), _mean(s.toks)
    m.llm_tokens_per_dialogue = _mean(s.llm_toks)
    m.reject_rate = _share(len(rejects), len(dialogues) + len(rejects))
    reasons: Counter[str] = Counter()
    for r in rejects:
        reasons.update({reason_code(x) for x in (r.get("checks") or {}).get("failed", [])} or {"unknown"})
    m.rejects_by_reason = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    m.scenarios = scenario_counts(dialogues, rejects)
    return m
