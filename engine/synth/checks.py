"""Quality checks over a synthesized Dialogue: pure functions, no LLM.

A failed check drops the dialogue (it goes to the rejects file with its reasons); a flag keeps it but
marks something worth a look. Reasons are ``"code: detail"`` so a run can count them by code.
The near-duplicate index is the one stateful piece: it spans a whole run.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError

from toolflow.engine.jsontext import leaves
from toolflow.engine.models import Checks, Dialogue
from toolflow.engine.schema_norm import normalize_schema
from toolflow.engine.synth.leak_checks import result_problems, user_turn_problems
from toolflow.engine.synth.reasons import Reason
from toolflow.engine.synth.scenario_checks import scenario_problems
from toolflow.engine.synth.text import is_identifier_like, mentions_name


def reason_code(reason: str) -> str:
    """The grouping key of a reason: the part before the first colon."""
    return reason.split(":", 1)[0].strip()


def validate_against(schema: dict[str, Any], value: Any) -> tuple[list[str], list[str], bool]:
    """(missing required top-level keys, other schema errors, schema_ok) for `value` under `schema`.

    A broken schema (SchemaError) is not the dialogue's fault: only `required` is checked then.
    """
    schema = normalize_schema(schema)
    required = [r for r in schema.get("required", []) if isinstance(r, str)] if isinstance(schema, dict) else []
    missing = [r for r in required if not isinstance(value, dict) or r not in value]
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError:
        return missing, [], False
    errors = []
    for err in cls(schema).iter_errors(value):
        if err.validator == "required" and not err.absolute_path:
            continue  # reported as `missing`
        path = "/".join(str(p) for p in err.absolute_path) or "(root)"
        errors.append(f"{path}: {err.message}")
    return missing, errors, True


def call_problems(call: dict[str, Any], params_by_name: dict[str, dict[str, Any]]) -> list[str]:
    """Reasons one OpenAI tool call is unusable: unknown tool, arguments not a JSON object, schema errors."""
    fn = call.get("function") or {}
    name = fn.get("name")
    if name not in params_by_name:
        return [f"{Reason.UNKNOWN_TOOL}: {name!r}"]
    raw = fn.get("arguments")
    try:
        args = json.loads(raw) if isinstance(raw, str) else raw
    except (TypeError, ValueError):
        return [f"{Reason.BAD_ARGUMENTS_JSON}: {name}: {str(raw)[:80]!r}"]
    if not isinstance(args, dict):
        return [f"{Reason.BAD_ARGUMENTS_JSON}: {name}: arguments must be a JSON object"]
    missing, errors, _ = validate_against(params_by_name[name], args)
    out = [f"{Reason.MISSING_REQUIRED}: {name}.{m}" for m in missing]
    out += [f"{Reason.BAD_ARGUMENTS}: {name}: {e}" for e in errors[:3]]
    return out


def _tool_params(dialogue: Dialogue) -> dict[str, dict[str, Any]]:
    out = {}
    for t in dialogue.tools:
        fn = t.get("function", t)
        out[fn["name"]] = fn.get("parameters") or {"type": "object", "properties": {}}
    return out


def _check_calls_and_results(dialogue: Dialogue, failed: list[str], flags: list[str]) -> list[tuple[int, dict]]:
    """Per-call validity and the tool-message pairing; returns (message index, call) for every call."""
    params = _tool_params(dialogue)
    calls: list[tuple[int, dict]] = []
    seen_ids: set[str] = set()
    pending: dict[str, str] = {}
    answered: set[str] = set()
    for i, m in enumerate(dialogue.messages):
        role = m.get("role")
        if role == "assistant":
            if pending:
                failed.append(f"{Reason.UNANSWERED_CALL}: {sorted(pending)}")
                pending = {}
            for call in m.get("tool_calls") or []:
                cid = call.get("id")
                name = (call.get("function") or {}).get("name")
                if not cid or cid in seen_ids:
                    failed.append(f"{Reason.BAD_CALL_ID}: {cid!r} at message {i}")
                else:
                    seen_ids.add(cid)
                    pending[cid] = name
                failed.extend(call_problems(call, params))
                calls.append((i, call))
        elif role == "tool":
            cid = m.get("tool_call_id")
            if cid in answered:
                failed.append(f"{Reason.DUPLICATE_TOOL_MESSAGE}: {cid!r}")
            elif cid not in pending:
                failed.append(f"{Reason.ORPHAN_TOOL_MESSAGE}: {cid!r} at message {i}")
            else:
                if m.get("name") and m["name"] != pending[cid]:
                    flags.append(f"{Reason.TOOL_NAME_MISMATCH}: {cid}")
                answered.add(cid)
                del pending[cid]
        elif role in ("user", "system") and pending:
            failed.append(f"{Reason.UNANSWERED_CALL}: {sorted(pending)}")
            pending = {}
    if pending:
        failed.append(f"{Reason.UNANSWERED_CALL}: {sorted(pending)}")
    return calls


def _check_turn_content(dialogue: Dialogue, failed: list[str], flags: list[str]) -> None:
    names = list(_tool_params(dialogue))
    params = {p for schema in _tool_params(dialogue).values() for p in (schema.get("properties") or {})}
    for i, m in enumerate(dialogue.messages):
        role, content = m.get("role"), m.get("content")
        text = content if isinstance(content, str) else ""
        if role == "user":
            if not text.strip():
                failed.append(f"{Reason.EMPTY_TURN}: user message {i}")
            leaked = [n for n in names if is_identifier_like(n) and mentions_name(text, n)]
            if leaked:
                failed.append(f"{Reason.TOOL_NAME_IN_USER}: {leaked} in message {i}")
            leaked_params = [p for p in params if is_identifier_like(p) and mentions_name(text, p)]
            if leaked_params:
                flags.append(f"{Reason.PARAM_NAME_IN_USER}: {sorted(leaked_params)} in message {i}")
        elif role == "assistant" and not text.strip() and not m.get("tool_calls"):
            failed.append(f"{Reason.EMPTY_TURN}: assistant message {i}")
        elif role == "tool" and not text.strip():
            failed.append(f"{Reason.EMPTY_TURN}: tool message {i}")
    reasons = dialogue.meta.finish_reasons
    truncated = [i for i, r in enumerate(reasons) if r == "length"]
    if truncated:
        failed.append(f"{Reason.TRUNCATED}: messages {truncated} hit the length limit")


def _check_plan(dialogue: Dialogue, calls: list[tuple[int, dict]], failed: list[str], flags: list[str]) -> None:
    plan = dialogue.plan
    if plan is None:
        return
    used = {(c.get("function") or {}).get("name") for _, c in calls}
    planned = sorted({n for t in plan.turns for n in t.tools})
    not_used = [n for n in planned if n not in used]
    if not_used:
        failed.append(f"{Reason.PLAN_NOT_COVERED}: tools never called {not_used}")
    log = dialogue.meta.turns
    if log is None:
        played = sum(1 for m in dialogue.messages if m.get("role") == "user")
        log = [{"plan_turn": i} for i in range(min(played, len(plan.turns)))]
    played_turns = {e.get("plan_turn") for e in log}
    missing_turns = [i for i in range(len(plan.turns)) if i not in played_turns]
    if missing_turns:
        failed.append(f"{Reason.PLAN_TURNS_MISSING}: {missing_turns}")
    msgs = dialogue.messages
    for entry in log:
        i, start, end = entry.get("plan_turn"), entry.get("start"), entry.get("end")
        if i is None or start is None or end is None or i >= len(plan.turns):
            continue
        turn = plan.turns[i]
        window = msgs[start:end]
        first_assistant = next((m for m in window if m.get("role") == "assistant"), None)
        if turn.kind == "clarify" and first_assistant is not None and first_assistant.get("tool_calls"):
            flags.append(f"{Reason.CLARIFY_NOT_ASKED}: turn {i}")
        if turn.kind == "follow_up":
            earlier = " ".join(str(m.get("content") or "") for m in msgs[:start] if m.get("role") == "tool")
            values = [str(v) for m in window for c in m.get("tool_calls") or []
                      for v in _arg_values(c)]
            if values and not any(v in earlier for v in values if len(v) >= 2):
                failed.append(f"{Reason.FOLLOW_UP_NOT_GROUNDED}: turn {i} passes no value of an earlier tool result")


def _arg_values(call: dict[str, Any]) -> Iterable[Any]:
    try:
        args = json.loads((call.get("function") or {}).get("arguments") or "{}")
    except ValueError:
        return []
    return leaves(args)


#: A value shorter than this is not looked for (a "2" is in every text); the independent definition of
#: "sourced" that the issue's figures use counts strings of 3+ characters.
SOURCED_CHARS = 3


def _number_text(v: int | float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _found(value: Any, text: str) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() in text.casefold()
    shown = re.escape(_number_text(value))
    return re.search(rf"(?<![\d.]){shown}(?![\d])", text) is not None


def _value_evidence(value: Any, schema: dict[str, Any], users: list[tuple[int, str]],
                    results: list[tuple[int, str, str]]) -> dict[str, Any]:
    """Where one scalar argument value is found before its call: ``user`` (`found_in`: the message index),
    ``result`` (`found_in`: the tool message, `result_of`: its call id), ``default`` (the schema default or an enum member),
    ``unsourced``, or ``unchecked`` (booleans, nulls, values too short to look for)."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return {"evidence": "unchecked"}
    text = value if isinstance(value, str) else _number_text(value)
    if len(text.strip()) < SOURCED_CHARS:
        return {"evidence": "unchecked"}
    for i, content in reversed(users):
        if _found(value, content):
            return {"evidence": "user", "found_in": i}
    for i, cid, content in reversed(results):
        if _found(value, content):
            return {"evidence": "result", "found_in": i, "result_of": cid}
    if value == schema.get("default") or value in (schema.get("enum") or []):
        return {"evidence": "default"}
    return {"evidence": "unsourced"}


def _leaf_items(value: Any, schema: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        return [x for k, v in value.items() for x in _leaf_items(v, props.get(k) or {})]
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [x for v in value for x in _leaf_items(v, items)]
    return [(value, schema)]


def argument_evidence(dialogue: Dialogue) -> list[dict[str, Any]]:
    """Per tool call, in order: its id, tool, message index and, per argument, where its value is found
    in the dialogue before the call (:func:`_value_evidence`; a list or object argument takes the worst
    evidence of its parts). Pure: the same function feeds ``meta.provenance`` and the sourcing check."""
    params = _tool_params(dialogue)
    users: list[tuple[int, str]] = []
    results: list[tuple[int, str, str]] = []
    out: list[dict[str, Any]] = []
    rank = {"unsourced": 0, "default": 1, "result": 2, "user": 3, "unchecked": 4}
    for i, m in enumerate(dialogue.messages):
        role, content = m.get("role"), m.get("content")
        text = content if isinstance(content, str) else ""
        if role == "user":
            users.append((i, text))
        elif role == "tool":
            results.append((i, str(m.get("tool_call_id") or ""), text))
        elif role == "assistant":
            for call in m.get("tool_calls") or []:
                fn = call.get("function") or {}
                try:
                    args = json.loads(fn.get("arguments") or "{}")
                except (TypeError, ValueError):
                    args = None
                props = (params.get(fn.get("name")) or {}).get("properties") or {}
                entry: dict[str, Any] = {"call_id": call.get("id"), "tool": fn.get("name"), "message": i,
                                         "arguments": {}}
                for arg, value in (args or {}).items() if isinstance(args, dict) else []:
                    found = [_value_evidence(v, sch, users, results) for v, sch in _leaf_items(value, props.get(arg) or {})]
                    worst = min(found, key=lambda e: rank[e["evidence"]], default={"evidence": "unchecked"})
                    entry["arguments"][arg] = {"value": value, **worst}
                out.append(entry)
    return out


def _check_sourcing(dialogue: Dialogue, failed: list[str]) -> None:
    for call in argument_evidence(dialogue):
        for arg, ev in call["arguments"].items():
            if ev["evidence"] == "unsourced":
                failed.append(f"{Reason.ARGUMENT_NOT_SOURCED}: {call['tool']}.{arg}={str(ev['value'])[:60]!r} at message "
                              f"{call['message']} is neither in the user's words, nor an earlier result, nor a default")


def check_dialogue(dialogue: Dialogue, *, as_flags: Iterable[str] = (),
                   returns: dict[str, dict[str, Any]] | None = None) -> Checks:
    """All per-dialogue checks (passed, failed reasons, flags); `returns` (tool name → return schema)
    lets tool result values be checked against their declared formats.

    Failures already present in ``dialogue.checks.failed`` (e.g. from the loop) are kept. Reasons whose
    code is in `as_flags` (e.g. ``argument_not_sourced`` for an intent-only ablation run) become flags.
    """
    failed: list[str] = list(dialogue.checks.failed)
    flags: list[str] = list(dialogue.checks.flags)
    if not dialogue.messages:
        failed.append(f"{Reason.EMPTY_DIALOGUE}: no messages")
    else:
        calls = _check_calls_and_results(dialogue, failed, flags)
        _check_turn_content(dialogue, failed, flags)
        _check_plan(dialogue, calls, failed, flags)
        _check_sourcing(dialogue, failed)
        failed += user_turn_problems(dialogue.messages, dialogue.tools)
        failed += result_problems(dialogue.messages, returns)
        failed += scenario_problems(dialogue, argument_evidence(dialogue))
        last = dialogue.messages[-1]
        ends_in_answer = (last.get("role") == "assistant" and not last.get("tool_calls")
                          and (last.get("content") or "").strip())
        if not ends_in_answer and not failed:  # only when nothing else explains it
            failed.append(f"{Reason.UNFINISHED}: no closing assistant answer (stopped: {dialogue.meta.stopped})")
    soft = set(as_flags)
    flags += [r for r in failed if reason_code(r) in soft]
    failed = list(dict.fromkeys(r for r in failed if reason_code(r) not in soft))
    flags = list(dict.fromkeys(flags))
    return Checks(passed=not failed, failed=failed, flags=flags)


# --- near-duplicates across a run -------------------------------------------------------------

_MERSENNE = (1 << 61) - 1


def dedup_text(dialogue: Dialogue | dict[str, Any]) -> str:
    """What two dialogues are compared on: the user side, which is what makes a dialogue distinct."""
    messages = dialogue.messages if isinstance(dialogue, Dialogue) else dialogue.get("messages", [])
    return "\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "user")


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def shingles(text: str, k: int = 3) -> set[int]:
    """Word k-gram shingles as stable 64-bit hashes (not Python's salted hash())."""
    toks = _tokens(text)
    grams = [" ".join(toks[i:i + k]) for i in range(max(1, len(toks) - k + 1))] if toks else []
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "big") for g in grams}


class NearDuplicateIndex:
    """MinHash + LSH over user-message shingles; deterministic (fixed permutations, stable hashes).

    `check_and_add` says whether a text is a near-duplicate (estimated Jaccard ≥ threshold, or the
    same normalized text) of one already added, and adds it when it is not.
    """

    def __init__(self, threshold: float = 0.9, num_perm: int = 128, bands: int = 16):
        if num_perm % bands:
            raise ValueError("num_perm must be a multiple of bands")
        self.threshold = threshold
        self.bands, self.rows = bands, num_perm // bands
        rng = random.Random(0x70017F10)
        self._perms = [(rng.randrange(1, _MERSENNE), rng.randrange(0, _MERSENNE)) for _ in range(num_perm)]
        self._exact: dict[str, str] = {}
        self._buckets: dict[tuple[int, tuple[int, ...]], list[str]] = {}
        self._sigs: dict[str, tuple[int, ...]] = {}

    def __len__(self) -> int:
        return len(self._sigs)

    def signature(self, text: str) -> tuple[int, ...]:
        sh = shingles(text) or {0}
        return tuple(min((a * x + b) % _MERSENNE for x in sh) for a, b in self._perms)

    def similarity(self, s1: tuple[int, ...], s2: tuple[int, ...]) -> float:
        return sum(x == y for x, y in zip(s1, s2, strict=True)) / len(s1)

    def find(self, text: str) -> tuple[str | None, tuple[int, ...], str]:
        norm = " ".join(_tokens(text))
        exact_key = hashlib.sha1(norm.encode()).hexdigest()
        sig = self.signature(text)
        if exact_key in self._exact:
            return self._exact[exact_key], sig, exact_key
        for b in range(self.bands):
            band = sig[b * self.rows:(b + 1) * self.rows]
            for other in self._buckets.get((b, band), []):
                if self.similarity(sig, self._sigs[other]) >= self.threshold:
                    return other, sig, exact_key
        return None, sig, exact_key

    def add(self, key: str, text: str) -> None:
        _, sig, exact_key = self.find(text)
        self._insert(key, sig, exact_key)

    def _insert(self, key: str, sig: tuple[int, ...], exact_key: str) -> None:
        self._exact.setdefault(exact_key, key)
        self._sigs[key] = sig
        for b in range(self.bands):
            self._buckets.setdefault((b, sig[b * self.rows:(b + 1) * self.rows]), []).append(key)

    def check_and_add(self, key: str, text: str) -> str | None:
        """The key of the near-duplicate already indexed, or None (and `text` is indexed under `key`)."""
        match, sig, exact_key = self.find(text)
        if match is None:
            self._insert(key, sig, exact_key)
        return match
