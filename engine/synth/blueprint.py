"""Call blueprints: every call of a plan and where each of its argument values comes from.

An intent-only plan leaves the assistant to guess arguments, and few of its values then come from the
conversation (measured in docs/synthesis.md). A blueprint fixes them in advance: per turn the calls it needs
and per argument its source (:class:`~toolflow.engine.models.ArgSource`): a concrete value the user will state
(``user``), one the user withholds until asked (``clarify``), an enum member or schema default (``default``),
or a field of an earlier call's result (``result``, found through the sample's FEEDS evidence, else a return
field of the same name and a compatible type). The agents then play it (:mod:`.loop`) and the checks verify
it.

Everything here is a pure, seeded function of (plan, sample, tools), so the blueprint of a dialogue is the
same on every rerun; with the 135M local model the planner almost always falls back to the skeleton,
whose turns get their blueprint from this same code.
"""

from __future__ import annotations

import random
import re
from typing import Any

from toolflow.engine.models import ArgSource, Plan, PlannedCall, PlanTurn, Sample, Tool
from toolflow.engine.schema_norm import convert_value, is_subtype, types_compatible, value_fits
from toolflow.engine.seeds import rng_for
from toolflow.engine.synth.user_values import SCALARS, coerce, param_type, user_value

#: A value a later call takes from a result is at least this long: "" or "a" is no usable id.
USABLE_CHARS = 3
#: ... and looks like a value (an id, a name, a code), not like leaked markup: measured on the 135M model, a
#: referenced `restaurant_id` came back as ``");\n  ...}];\n```...`` and was passed on. Anchored, so
#: llama.cpp's schema-to-grammar converter enforces it (unanchored patterns make it give up).
USABLE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._,&/:#+-]{2,60}$"


def return_paths(schema: Any, *, limit: int = 60) -> list[tuple[str, dict[str, Any]]]:
    """Every scalar leaf of a return schema as (dotted path, leaf schema), shallow first; arrays are
    entered at index 0 (``hotels.0.hotel_id``), the element a follow-up most naturally refers to."""
    out: list[tuple[str, dict[str, Any]]] = []
    queue: list[tuple[tuple[str, ...], Any]] = [((), schema)]
    while queue and len(out) < limit:
        path, node = queue.pop(0)
        if not isinstance(node, dict):
            continue
        kind = param_type(node)
        if kind == "array" or (kind is None and isinstance(node.get("items"), dict)):
            queue.append(((*path, "0"), node.get("items") or {}))
        elif isinstance(node.get("properties"), dict):
            queue.extend(((*path, str(k)), v) for k, v in node["properties"].items())
        elif path and (kind in SCALARS or kind is None):
            out.append((".".join(path), node))
    return out


def value_at(value: Any, path: str) -> Any:
    """The value at dotted `path` (list indexes as numbers) of `value`; KeyError when it is not there."""
    for part in path.split(".") if path else []:
        if isinstance(value, list):
            idx = int(part) if part.isdigit() else -1
            if not 0 <= idx < len(value):
                raise KeyError(path)
            value = value[idx]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(path)
    return value


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _feeds_evidence(sample: Sample, tools: list[Tool]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(source tool name, target tool name) → [(return field, parameter)] from the sample's FEEDS edges."""
    name_of = {t.id: t.name for t in tools} | {t.name: t.name for t in tools}
    name_of |= {k: t.name for k, t in zip(sample.tool_ids, tools, strict=False)}
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for e in sample.edges:
        if e.type != "FEEDS" or len(e.fields) < 2:
            continue
        a, b = name_of.get(e.source), name_of.get(e.target)
        if a and b and a != b:
            out.setdefault((a, b), []).append((e.fields[0], e.fields[-1]))
    return out


def _result_source(param: str, schema: dict[str, Any], target: str, earlier: list[tuple[int, Tool]],
                   evidence: dict[tuple[str, str], list[tuple[str, str]]]) -> ArgSource | None:
    """The latest earlier call whose result can fill `param`: FEEDS evidence first, then a return field of
    the same (normalized) name; scalar fields of a compatible type only."""
    want = param_type(schema)
    for by_evidence in (True, False):
        for k, tool in reversed(earlier):
            paths = return_paths(tool.returns) if tool.returns else []
            if by_evidence:
                fields = {f for f, p in evidence.get((tool.name, target), []) if p == param}
                matches = [(p, s) for p, s in paths if p.split(".")[-1] in fields]
            else:
                matches = [(p, s) for p, s in paths if _norm(p.split(".")[-1]) == _norm(param)]
            for path, leaf in matches:
                if want in (None, "string", "integer", "number") and _fits(param_type(leaf), want) \
                        and _can_be_usable(leaf):
                    return ArgSource(source="result", call=k, path=path, converted=_conversion(leaf, want))
    return None


def _can_be_usable(leaf: dict[str, Any]) -> bool:
    """Can the tool agent fill this return field with a value a later call can use? Not an enum or const
    of one-letter codes (fairslator's `number`: "s" / "p"): the result could never pass, and the dialogue
    was rejected (`tool_sim_failed`)."""
    fixed = leaf.get("enum") if isinstance(leaf.get("enum"), list) else [leaf["const"]] if "const" in leaf else None
    if fixed is None:
        return True
    return any(v is not None and not isinstance(v, dict | list) and
               (not isinstance(v, str) or re.match(USABLE_PATTERN, v) is not None) for v in fixed)


def _fits(field: str | None, param: str | None) -> bool:
    """A return field of type `field` may fill a parameter of type `param` (an untyped field only an
    untyped parameter: nothing says what it holds)."""
    return (field is not None or param is None) and types_compatible(field, param)


def _conversion(leaf: dict[str, Any], want: str | None) -> str | None:
    """The conversion a result value of `leaf`'s type goes through to fit `want` (None when none)."""
    have = param_type(leaf)
    if have is None or is_subtype(have, want):
        return None
    return f"{have}->{want}"


def _turn_calls(turn: PlanTurn, by_name: dict[str, Tool], earlier: list[tuple[int, Tool]],
                evidence: dict[tuple[str, str], list[tuple[str, str]]], stated: dict[str, Any],
                rng: random.Random) -> list[PlannedCall]:
    calls = []
    for name in turn.tools:
        tool = by_name[name]
        props = tool.parameters.get("properties") or {}
        args: dict[str, ArgSource] = {}
        for param in [p for p in tool.required if p in props] + [p for p in props if p not in tool.required]:
            schema = props[param]
            required = param in tool.required
            src = _result_source(param, schema, name, earlier, evidence) if param not in turn.missing else None
            if src is None and not required:
                continue  # optional values are passed only when an earlier result provides them
            if src is None and param in turn.missing:
                src = ArgSource(source="clarify", value=user_value(param, schema, rng))
            if src is None:  # strings are stated by the user even when the schema has a default: the
                # value then appears in the conversation, as a real user's would
                src = _default_source(schema, rng) or _stated_source(param, schema, stated, rng)
            args[param] = src
        _order_dates(args)
        calls.append(PlannedCall(tool=name, arguments=args))
    return calls


def _default_source(schema: dict[str, Any], rng: random.Random) -> ArgSource | None:
    """The schema's default or an enum member for a non-string parameter, converted when the schema
    writes it loosely (RapidAPI gives a NUMBER default as "-78.638"); None when there is none that fits."""
    kind = param_type(schema)
    if kind in ("string", None) or not ("default" in schema or schema.get("enum")):
        return None
    value, how = convert_value(schema["default"] if "default" in schema else rng.choice(schema["enum"]), kind)
    return ArgSource(source="default", value=value, converted=how) if value_fits(value, kind) else None


def _stated_source(param: str, schema: dict[str, Any], stated: dict[str, Any], rng: random.Random) -> ArgSource:
    """The value the user states for `param`: the one already stated for a parameter of the same name
    (one user, one longitude), converted when the two schemas type it differently and the conversion
    loses nothing (recorded in `converted`); else, and when it cannot fit, a fresh value."""
    key = _norm(param)
    kind = param_type(schema)
    if key in stated:
        value, how = convert_value(stated[key], kind)
        if value_fits(value, kind) and (not schema.get("enum") or value in schema["enum"]):
            return ArgSource(source="user", value=value, converted=how)
    value = user_value(param, schema, rng)
    stated.setdefault(key, value)
    return ArgSource(source="user", value=value)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _order_dates(args: dict[str, ArgSource]) -> None:
    """Dates the plan made up for one call ascend in parameter order (check-in before check-out, start
    before end): drawn independently they would contradict each other half the time."""
    dated = [a for a in args.values() if a.source in ("user", "clarify") and isinstance(a.value, str)
             and _ISO_DATE.match(a.value)]
    for src, value in zip(dated, sorted(a.value for a in dated), strict=True):
        src.value = value


def build_blueprint(plan: Plan, sample: Sample, tools: list[Tool], *, seed: int | str = 0) -> Plan:
    """`plan` with a call blueprint on every turn. A follow-up turn none of whose values an earlier result
    can give becomes a tool_call turn (it would not use an earlier result however it is played)."""
    rng = rng_for(seed, sample.id, "blueprint")
    by_name = {t.name: t for t in tools}
    evidence = _feeds_evidence(sample, tools)
    earlier: list[tuple[int, Tool]] = []
    stated: dict[str, Any] = {}
    turns = []
    for turn in plan.turns:
        before = list(earlier)
        if turn.depends_on:  # the turns it depends on first: their results are the ones it means
            dep_calls = {k for k, _ in before if _turn_of_call(turns, k) in turn.depends_on}
            before = [x for x in before if x[0] not in dep_calls] + [x for x in before if x[0] in dep_calls]
        calls = _turn_calls(turn, by_name, before, evidence, stated, rng)
        update: dict[str, Any] = {"calls": calls}
        uses = sorted({_turn_of_call(turns, a.call) for c in calls for a in c.arguments.values()
                       if a.source == "result" and a.call is not None})
        if turn.kind == "follow_up" and not uses:
            update.update(kind="tool_call", depends_on=[])
        elif uses:
            update["depends_on"] = sorted(set(turn.depends_on) | set(uses))
            if turn.kind == "tool_call":
                update["kind"] = "follow_up"
        new = turn.model_copy(update=update)
        turns.append(new)
        first = len(earlier)
        earlier.extend([(first + j, by_name[c.tool]) for j, c in enumerate(calls)])
    return plan.model_copy(update={"turns": turns})


def _turn_of_call(turns: list[PlanTurn], k: int) -> int:
    n = 0
    for i, t in enumerate(turns):
        n += len(t.calls)
        if k < n:
            return i
    return len(turns)


def planned_calls(plan: Plan) -> list[tuple[int, PlannedCall]]:
    """Every planned call with its plan turn, in call-index order."""
    return [(i, c) for i, t in enumerate(plan.turns) for c in t.calls]


def referenced_paths(plan: Plan) -> dict[int, set[str]]:
    """Planned call index → the result paths later calls take values from (the tool agent must fill them)."""
    out: dict[int, set[str]] = {}
    for _, call in planned_calls(plan):
        for a in call.arguments.values():
            if a.source == "result" and a.call is not None and a.path:
                out.setdefault(a.call, set()).add(a.path)
    return out


def validate_blueprint(plan: Plan, tools: list[Tool]) -> list[str]:
    """Problems of the blueprint: sources that do not exist or do not fit the parameter's type, result
    sources that do not point to a call of an earlier turn, required arguments without a source."""
    by_name = {t.name: t for t in tools}
    problems: list[str] = []
    calls = planned_calls(plan)
    for k, (i, call) in enumerate(calls):
        where = f"turn {i} call {k} ({call.tool})"
        tool = by_name.get(call.tool)
        if tool is None:
            problems.append(f"{where}: unknown tool")
            continue
        if call.tool not in plan.turns[i].tools:
            problems.append(f"{where}: the turn does not list this tool")
        props = tool.parameters.get("properties") or {}
        for req in tool.required:
            if req not in call.arguments:
                problems.append(f"{where}: required argument {req!r} has no source")
        for arg, src in call.arguments.items():
            schema = props.get(arg)
            if schema is None:
                problems.append(f"{where}: {arg!r} is not a parameter")
                continue
            if src.source == "result":
                if src.call is None or not 0 <= src.call < len(calls) or calls[src.call][0] >= i:
                    problems.append(f"{where}: {arg!r} takes a result of call {src.call}, not of an earlier turn")
                    continue
                source_tool = by_name.get(calls[src.call][1].tool)
                leaves = dict(return_paths(source_tool.returns)) if source_tool and source_tool.returns else {}
                if src.path not in leaves:
                    problems.append(f"{where}: {arg!r}: call {src.call} returns no field {src.path!r}")
                elif not _fits(param_type(leaves[src.path]), param_type(schema)):
                    problems.append(f"{where}: {arg!r}: field {src.path!r} does not fit type {param_type(schema)}")
            else:
                if src.value is None:
                    problems.append(f"{where}: {arg!r} ({src.source}) has no value")
                    continue
                kind = param_type(schema)
                if not value_fits(src.value, kind):
                    problems.append(f"{where}: {arg!r} value {src.value!r} is not a {kind}")
                if schema.get("enum") and src.value not in schema["enum"]:
                    problems.append(f"{where}: {arg!r} value {src.value!r} is not one of the enum")
                if src.source == "clarify" and arg not in plan.turns[i].missing:
                    problems.append(f"{where}: {arg!r} is a clarify source outside the turn's `missing`")
    return problems


def resolve_arguments(call: PlannedCall, results: dict[int, Any], tool: Tool) -> dict[str, Any]:
    """The concrete arguments of a planned call, given the results of the calls made so far (call index
    → result). A result source whose call or field is missing is left out (the checks then say why)."""
    props = tool.parameters.get("properties") or {}
    out: dict[str, Any] = {}
    for arg, src in call.arguments.items():
        if src.source == "result":
            try:
                out[arg] = coerce(value_at(results[src.call], src.path or ""), props.get(arg) or {})
            except (KeyError, TypeError):
                continue
        else:
            out[arg] = src.value
    return out


def same_value(a: Any, b: Any) -> bool:
    """Equal as the user would read them: case and surrounding spaces aside, 3 == 3.0 == "3"."""
    def norm(v: Any) -> Any:
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int | float):
            return str(int(v)) if float(v).is_integer() else str(v)
        if isinstance(v, str):
            return " ".join(v.split()).casefold()
        return v
    return norm(a) == norm(b)


def call_mismatch(call: PlannedCall, expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """How `actual` arguments differ from the blueprint: user, clarify and result values must be the
    planned ones (a default-sourced value may be any value the schema allows)."""
    problems = []
    for arg, src in call.arguments.items():
        if src.source == "default" or arg not in expected:
            continue
        if arg not in actual:
            problems.append(f"{call.tool}.{arg} missing (expected {expected[arg]!r})")
        elif not same_value(actual[arg], expected[arg]):
            what = f"the result of call {src.call} at {src.path}" if src.source == "result" else "what the user said"
            problems.append(f"{call.tool}.{arg} is {actual[arg]!r}, expected {expected[arg]!r} ({what})")
    return problems
