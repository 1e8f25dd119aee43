"""Observed return schemas: call read-only tools that declare none, and generalize what they return.

Most MCP servers declare no `outputSchema`, so their tools are dead ends in the graph (no return field can
feed anything). `toolflow graph observe` runs a few safe calls per such tool, with argument values from the
schema itself (default, enum, examples) and from the results of tools observed before it (by parameter name,
and along the graph's FEEDS edges: the source field's values fill the target parameter), and turns the
JSON results into a schema with genson, marked `returns_observed`. Tools without required parameters go
first, so their results can supply the others. Plain-text results say nothing about fields and are not
generalized. Only what the executor's policy allows runs (read-only tools unless allowed).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

from genson import SchemaBuilder
from pydantic import BaseModel

from toolflow.engine.models import Tool
from toolflow.engine.synth.execute import NOT_SERVED, LiveTools, Outcome

NO_CALLS = "no calls asked (--calls 0)"
#: Values kept per field name in the pool (enough variety for a few calls, bounded memory).
POOL_VALUES = 5


class Observation(BaseModel):
    """What observing one tool gave."""

    tool: str
    calls: int = 0
    errors: int = 0
    from_runs: int = 0
    observed: bool = False
    skipped: str | None = None


def _leaf(path: str) -> str:
    return path.replace("[]", "").split(".")[-1]


def harvest(value: Any, pool: dict[str, list[Any]], key: str | None = None) -> None:
    """Scalar values of a result, by the name of the field holding them."""
    if isinstance(value, dict):
        for k, v in value.items():
            harvest(v, pool, k)
    elif isinstance(value, list):
        for v in value[:POOL_VALUES]:
            harvest(v, pool, key)
    elif (key is not None and isinstance(value, str | int | float) and not isinstance(value, bool)
          and value not in pool[key] and len(pool[key]) < POOL_VALUES):
        pool[key].append(value)


def candidates(name: str, schema: dict[str, Any], pool: dict[str, list[Any]], feeds: dict[str, list[str]]) -> list[Any]:
    """Values for one parameter: the schema's own (default, enum, examples), then earlier results'."""
    out: list[Any] = []
    if "default" in schema and schema["default"] is not None:
        out.append(schema["default"])
    out += list(schema.get("enum") or []) + list(schema.get("examples") or [])
    if "example" in schema:
        out.append(schema["example"])
    for source in [name, *feeds.get(name, [])]:
        out += pool.get(source, [])
    return list(dict.fromkeys(v for v in out if isinstance(v, str | int | float | bool)))


def argument_sets(tool: Tool, pool: dict[str, list[Any]], feeds: dict[str, list[str]], n: int) -> list[dict[str, Any]]:
    """Up to `n` argument sets that fill every required parameter ([] when one has no value at all)."""
    props = tool.parameters.get("properties") or {}
    required = [p for p in tool.required if p in props]
    options = [candidates(p, props[p], pool, feeds) for p in required]
    if any(not o for o in options):
        return []
    sets = [dict(zip(required, combo, strict=True)) for combo in itertools.islice(itertools.product(*options), n)]
    return sets or [{}]


def generalize(values: list[Any]) -> dict[str, Any] | None:
    """One JSON Schema for the JSON results seen (None when none is a non-empty object or list)."""
    shaped = [v for v in values if isinstance(v, dict | list) and v]
    if not shaped:
        return None
    builder = SchemaBuilder(schema_uri=None)
    for v in shaped:
        builder.add_object(v)
    schema = builder.to_schema()
    schema.pop("$schema", None)
    return schema


async def observe(live: LiveTools, tools: list[Tool], feeds_rows: list[dict[str, Any]], calls: int,
                  prior: dict[str, list[Any]] | None = None) -> tuple[list[Tool], list[Observation]]:
    """`tools` with observed return schemas where results gave some, and a report per tool tried.

    `prior` holds results already seen per tool name (the call cache of `synth --execute` runs): they are
    generalized together with the new calls' results (a tool with prior results needs no new call).
    """
    by_id = {t.id: t for t in tools}
    feeds: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in feeds_rows:
        if row.get("dst") in by_id and row.get("to_param") and row.get("from_field"):
            feeds[row["dst"]][_leaf(row["to_param"])].append(_leaf(row["from_field"]))
    pool: dict[str, list[Any]] = defaultdict(list)
    for values in (prior or {}).values():
        for v in values:
            harvest(v, pool)
    report: list[Observation] = []
    out = dict(by_id)
    for tool in sorted(tools, key=lambda t: (len(t.required), t.id)):
        if tool.returns is not None:
            continue
        seen = list((prior or {}).get(tool.original_name or tool.name, []))
        obs = Observation(tool=tool.name, from_runs=len(seen))
        await _call(live, tool, pool, feeds[tool.id], calls, seen, obs)
        if obs.skipped and not seen:
            if obs.skipped not in (NOT_SERVED, NO_CALLS):
                report.append(obs)
            continue
        schema = generalize(seen)
        if schema is not None:
            out[tool.id] = Tool.model_validate({**tool.model_dump(), "returns": schema, "returns_observed": True})
            obs.observed, obs.skipped = True, None
        else:
            obs.skipped = "results are plain text or empty" if seen else "every call failed"
        report.append(obs)
    return [out[t.id] for t in tools], report


async def _call(live: LiveTools, tool: Tool, pool: dict[str, list[Any]], feeds: dict[str, list[str]], calls: int,
                seen: list[Any], obs: Observation) -> None:
    """Up to `calls` calls of `tool`; results into `seen` (and the pool), or why none ran into `obs`."""
    if calls < 1:
        obs.skipped = NO_CALLS
        return
    decision = live.decide(tool)
    if isinstance(decision, str):
        obs.skipped = decision
        return
    sets = argument_sets(tool, pool, feeds, calls)
    if not sets:
        obs.skipped = "no value for a required parameter"
        return
    for args in sets:
        outcome = await live.call(tool, args)
        obs.calls += 1
        if isinstance(outcome, Outcome) and not outcome.is_error:
            seen.append(outcome.value)
            harvest(outcome.value, pool)
        else:
            obs.errors += 1


def prior_results(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Successful results per tool name from call-cache rows (`<out>.calls.jsonl` of `synth --execute`)."""
    out: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        outcome = row.get("outcome") or {}
        if row.get("tool") and not outcome.get("is_error"):
            out[row["tool"]].append(outcome.get("value"))
    return dict(out)
