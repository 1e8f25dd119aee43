"""Quality checks over a synthesized Dialogue: small `Check` objects (:mod:`check_base`), no LLM.

A rejecting verdict drops the dialogue (it goes to the rejects file with its reasons); a flag keeps it but
marks something worth a look. `DIALOGUE_CHECKS` lists every check in order and `check_dialogue` runs them;
the record keeps each verdict as ``"code: detail"`` so a run can count them by code. The near-duplicate
index is the one stateful piece: it spans a whole run.
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
from toolflow.engine.synth.check_base import Check, CheckInput, run_checks
from toolflow.engine.synth.leak_checks import ResultValues, UserTurnLeaks
from toolflow.engine.synth.reasons import Reason, Verdict, reason_code
from toolflow.engine.synth.scenario_checks import ScenarioShown
from toolflow.engine.synth.text import is_identifier_like, mentions_name


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


def call_problems(call: dict[str, Any], params_by_name: dict[str, dict[str, Any]]) -> list[Verdict]:
    """Why one OpenAI tool call is unusable: unknown tool, arguments not a JSON object, schema errors."""
    fn = call.get("function") or {}
    name = fn.get("name")
    if name not in params_by_name:
        return [Verdict.reject(Reason.UNKNOWN_TOOL, repr(name))]
    raw = fn.get("arguments")
    try:
        args = json.loads(raw) if isinstance(raw, str) else raw
    except (TypeError, ValueError):
        return [Verdict.reject(Reason.BAD_ARGUMENTS_JSON, f"{name}: {str(raw)[:80]!r}")]
    if not isinstance(args, dict):
        return [Verdict.reject(Reason.BAD_ARGUMENTS_JSON, f"{name}: arguments must be a JSON object")]
    missing, errors, _ = validate_against(params_by_name[name], args)
    out = [Verdict.reject(Reason.MISSING_REQUIRED, f"{name}.{m}") for m in missing]
    return out + [Verdict.reject(Reason.BAD_ARGUMENTS, f"{name}: {e}") for e in errors[:3]]


class HasMessages(Check):
    name = "has_messages"
    reasons = (Reason.EMPTY_DIALOGUE,)
    fatal = True

    def __call__(self, subject: CheckInput) -> list[Verdict]:
        return [] if subject.dialogue.messages else [Verdict.reject(Reason.EMPTY_DIALOGUE, "no messages")]


class CallsAndResults(Check):
    """Per-call validity and the pairing of calls with tool messages."""

    name = "calls_and_results"
    reasons = (Reason.UNANSWERED_CALL, Reason.BAD_CALL_ID, Reason.DUPLICATE_TOOL_MESSAGE, Reason.ORPHAN_TOOL_MESSAGE,
               Reason.TOOL_NAME_MISMATCH, Reason.UNKNOWN_TOOL, Reason.BAD_ARGUMENTS_JSON, Reason.MISSING_REQUIRED,
               Reason.BAD_ARGUMENTS)

    def __call__(self, subject: CheckInput) -> list[Verdict]:
        out: list[Verdict] = []
        seen_ids: set[str] = set()
        pending: dict[str, str] = {}
        answered: set[str] = set()
        for i, m in enumerate(subject.dialogue.messages):
            role = m.get("role")
            if role in ("assistant", "user", "system") and pending:
                out.append(Verdict.reject(Reason.UNANSWERED_CALL, str(sorted(pending))))
                pending = {}
            if role == "assistant":
                for call in m.get("tool_calls") or []:
                    cid = call.get("id")
                    if not cid or cid in seen_ids:
                        out.append(Verdict.reject(Reason.BAD_CALL_ID, f"{cid!r} at message {i}"))
                    else:
                        seen_ids.add(cid)
                        pending[cid] = (call.get("function") or {}).get("name")
                    out += call_problems(call, subject.params)
            elif role == "tool":
                out += self._answer(m, i, pending, answered)
        if pending:
            out.append(Verdict.reject(Reason.UNANSWERED_CALL, str(sorted(pending))))
        return out

    @staticmethod
    def _answer(m: dict[str, Any], i: int, pending: dict[str, str], answered: set[str]) -> list[Verdict]:
        cid = m.get("tool_call_id")
        if cid in answered:
            return [Verdict.reject(Reason.DUPLICATE_TOOL_MESSAGE, repr(cid))]
        if cid not in pending:
            return [Verdict.reject(Reason.ORPHAN_TOOL_MESSAGE, f"{cid!r} at message {i}")]
        name = pending.pop(cid)
        answered.add(cid)
        return [Verdict.flag(Reason.TOOL_NAME_MISMATCH, str(cid))] if m.get("name") and m["name"] != name else []


class TurnContent(Check):
    """Empty turns, identifiers in the user's words, messages cut at the length limit."""

    name = "turn_content"
    reasons = (Reason.EMPTY_TURN, Reason.TOOL_NAME_IN_USER, Reason.PARAM_NAME_IN_USER, Reason.TRUNCATED)

    def __call__(self, subject: CheckInput) -> list[Verdict]:
        names = list(subject.params)
        params = {p for schema in subject.params.values() for p in (schema.get("properties") or {})}
        out: list[Verdict] = []
        for i, m in enumerate(subject.dialogue.messages):
            role, content = m.get("role"), m.get("content")
            text = content if isinstance(content, str) else ""
            if role == "user":
                if not text.strip():
                    out.append(Verdict.reject(Reason.EMPTY_TURN, f"user message {i}"))
                if leaked := [n for n in names if is_identifier_like(n) and mentions_name(text, n)]:
                    out.append(Verdict.reject(Reason.TOOL_NAME_IN_USER, f"{leaked} in message {i}"))
                if leaked_params := [p for p in params if is_identifier_like(p) and mentions_name(text, p)]:
                    out.append(Verdict.flag(Reason.PARAM_NAME_IN_USER, f"{sorted(leaked_params)} in message {i}"))
            elif role == "assistant" and not text.strip() and not m.get("tool_calls"):
                out.append(Verdict.reject(Reason.EMPTY_TURN, f"assistant message {i}"))
            elif role == "tool" and not text.strip():
                out.append(Verdict.reject(Reason.EMPTY_TURN, f"tool message {i}"))
        truncated = [i for i, r in enumerate(subject.dialogue.meta.finish_reasons) if r == "length"]
        if truncated:
            out.append(Verdict.reject(Reason.TRUNCATED, f"messages {truncated} hit the length limit"))
        return out


class PlanFollowed(Check):
    """Every planned tool called, every planned turn played, clarify turns ask, follow-ups use a result."""

    name = "plan_followed"
    reasons = (Reason.PLAN_NOT_COVERED, Reason.PLAN_TURNS_MISSING, Reason.CLARIFY_NOT_ASKED,
               Reason.FOLLOW_UP_NOT_GROUNDED)

    def __call__(self, subject: CheckInput) -> list[Verdict]:
        d, plan = subject.dialogue, subject.dialogue.plan
        if plan is None:
            return []
        out: list[Verdict] = []
        used = {(c.get("function") or {}).get("name") for _, c in subject.calls}
        if not_used := [n for n in sorted({n for t in plan.turns for n in t.tools}) if n not in used]:
            out.append(Verdict.reject(Reason.PLAN_NOT_COVERED, f"tools never called {not_used}"))
        log = d.meta.turns
        if log is None:
            played = sum(1 for m in d.messages if m.get("role") == "user")
            log = [{"plan_turn": i} for i in range(min(played, len(plan.turns)))]
        played_turns = {e.get("plan_turn") for e in log}
        if missing_turns := [i for i in range(len(plan.turns)) if i not in played_turns]:
            out.append(Verdict.reject(Reason.PLAN_TURNS_MISSING, str(missing_turns)))
        for entry in log:
            i, start, end = entry.get("plan_turn"), entry.get("start"), entry.get("end")
            if i is not None and start is not None and end is not None and i < len(plan.turns):
                out += self._turn(d, i, start, end)
        return out

    @staticmethod
    def _turn(d: Dialogue, i: int, start: int, end: int) -> list[Verdict]:
        turn, msgs = d.plan.turns[i], d.messages
        window = msgs[start:end]
        first_assistant = next((m for m in window if m.get("role") == "assistant"), None)
        out: list[Verdict] = []
        if turn.kind == "clarify" and first_assistant is not None and first_assistant.get("tool_calls"):
            out.append(Verdict.flag(Reason.CLARIFY_NOT_ASKED, f"turn {i}"))
        if turn.kind == "follow_up":
            earlier = " ".join(str(m.get("content") or "") for m in msgs[:start] if m.get("role") == "tool")
            values = [str(v) for m in window for c in m.get("tool_calls") or [] for v in _arg_values(c)]
            if values and not any(v in earlier for v in values if len(v) >= 2):
                out.append(Verdict.reject(Reason.FOLLOW_UP_NOT_GROUNDED,
                                          f"turn {i} passes no value of an earlier tool result"))
        return out


def _arg_values(call: dict[str, Any]) -> Iterable[Any]:
    try:
        args = json.loads((call.get("function") or {}).get("arguments") or "{}")
    except ValueError:
        return []
    return leaves(args)


class ArgumentsSourced(Check):
    """Every argument value is in the user's words, an earlier result, or the schema (:mod:`evidence`)."""

    name = "arguments_sourced"
    reasons = (Reason.ARGUMENT_NOT_SOURCED,)

    def __call__(self, subject: CheckInput) -> list[Verdict]:
        return [Verdict.reject(Reason.ARGUMENT_NOT_SOURCED,
                               f"{call['tool']}.{arg}={str(ev['value'])[:60]!r} at message {call['message']} is "
                               "neither in the user's words, nor an earlier result, nor a default")
                for call in subject.evidence for arg, ev in call["arguments"].items()
                if ev["evidence"] == "unsourced"]


class EndsInAnswer(Check):
    """The dialogue closes with an assistant answer; said only when nothing else explains the stop."""

    name = "ends_in_answer"
    reasons = (Reason.UNFINISHED,)
    last_resort = True

    def __call__(self, subject: CheckInput) -> list[Verdict]:
        last = subject.dialogue.messages[-1]
        if last.get("role") == "assistant" and not last.get("tool_calls") and (last.get("content") or "").strip():
            return []
        return [Verdict.reject(Reason.UNFINISHED,
                               f"no closing assistant answer (stopped: {subject.dialogue.meta.stopped})")]


#: Every per-dialogue check, in the order their reasons are recorded.
DIALOGUE_CHECKS: tuple[Check, ...] = (
    HasMessages(), CallsAndResults(), TurnContent(), PlanFollowed(), ArgumentsSourced(),
    UserTurnLeaks(), ResultValues(), ScenarioShown(), EndsInAnswer(),
)


def check_dialogue(dialogue: Dialogue, *, as_flags: Iterable[str] = (),
                   returns: dict[str, dict[str, Any]] | None = None) -> Checks:
    """All per-dialogue checks (passed, failed reasons, flags); `returns` (tool name → return schema)
    lets tool result values be checked against their declared formats.

    Failures already present in ``dialogue.checks.failed`` (e.g. from the loop) are kept. Reasons whose
    code is in `as_flags` (e.g. ``argument_not_sourced`` for an intent-only ablation run) become flags.
    """
    verdicts = run_checks(CheckInput(dialogue, returns), DIALOGUE_CHECKS, rejected_before=bool(dialogue.checks.failed))
    failed = [*dialogue.checks.failed, *(str(v) for v in verdicts if not v.ok)]
    flags = [*dialogue.checks.flags, *(str(v) for v in verdicts if v.ok)]
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
