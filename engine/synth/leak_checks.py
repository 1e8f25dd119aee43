"""Checks for leaked scaffolding and echoes: text that belongs to the machinery, not to the conversation.

- ``scaffolding_in_user``: a user turn quotes our own instructions: a prompt or a repair note fed back
  to an agent. The fragments are derived from those texts (prompt files, the agents' feedback, the LLM
  layer's re-ask notes), so a new prompt is covered without a list to keep in step.
- ``tool_description_in_user``: a user turn pastes a tool description word for word.
- ``user_echoes_assistant``: a user turn repeats the assistant's previous message.
- ``result_chatter``: a string value of a tool result carries the model's talk (code fences, schema
  keywords, "the result is …") instead of a value.
- ``result_bad_format``: a string value of a tool result fails the ``format`` its return schema declares
  (date-time, date, email, uri, …), validated with jsonschema's FormatChecker.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError

from toolflow.engine.synth.check_base import Check, CheckInput
from toolflow.engine.synth.reasons import Reason, Verdict

#: A copied instruction is recognised by a run of this many consecutive words of it; shorter pieces of
#: at least MIN_PIECE words count whole ("write it in plain words").
WINDOW = 6
MIN_PIECE = 5
#: A tool description pasted: a run of this many of its words, or all of it when it has MIN_PIECE+ words.
DESCRIPTION_WINDOW = 10
#: Echo: the assistant's message (this many words or more) inside the user's, or the user's long message
#: (ECHO_USER_WORDS+) inside the assistant's.
ECHO_MIN_WORDS = 4
ECHO_USER_WORDS = 12
#: A whole sentence of the assistant's message of this many words, repeated in the user's turn, is an echo.
ECHO_SENTENCE_WORDS = 6
#: A schema description of this many words found inside a result value: the description, not a value.
DESCRIPTION_VALUE_WORDS = 4
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")

_WORD = re.compile(r"[a-z0-9']+")
_QUOTED = re.compile(r'"[^"\n]*"|`[^`\n]*`|\{[^{}\n]*\}')  # examples, code names and placeholders
_PLACEHOLDER = re.compile(r"\$\{?\w+\}?")
_PIECE_SPLIT = re.compile(r"[.:;!?\n()\[\]|<>#*-]+")
_CHATTER = (
    re.compile(r"```"),
    re.compile(r"""\btype\s*['"]?\s*:\s*['"]?(string|number|integer|boolean|object|array)\b""", re.I),
    re.compile(r"\b(the|this) (result|response|output) is (a|an|the)\b", re.I),
    re.compile(r"\b(as an ai|here is the (json|result))\b", re.I),
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _grams(ws: list[str], n: int) -> Iterator[tuple[str, ...]]:
    return (tuple(ws[i:i + n]) for i in range(len(ws) - n + 1))


def fragments(texts: Iterable[str]) -> frozenset[tuple[str, ...]]:
    """Word runs that mark an instruction: every WINDOW-word run of each sentence piece (and pieces of
    MIN_PIECE..WINDOW-1 words whole). Quoted examples and placeholders are cut out: they are the user's
    words or the filled-in values, not ours."""
    out: set[tuple[str, ...]] = set()
    for text in texts:
        text = _PLACEHOLDER.sub("\n", _QUOTED.sub("\n", text))
        for piece in _PIECE_SPLIT.split(text):
            ws = words(piece)
            if len(ws) >= WINDOW:
                out.update(_grams(ws, WINDOW))
            elif len(ws) >= MIN_PIECE:
                out.add(tuple(ws))
    return frozenset(out)


def _prompt_texts() -> list[str]:
    """Every prompt as the agents get it (an override folder's file in place of the packaged one)."""
    from toolflow.engine.synth.agents.prompting import load_prompt

    folder = resources.files("toolflow.engine.synth.agents") / "prompts"
    return [load_prompt(f.name[:-3]) for f in folder.iterdir() if f.name.endswith(".md")]


def scaffolding_fragments() -> frozenset[tuple[str, ...]]:
    """The fragments of every text ToolFlow itself writes to its agents."""
    return _scaffolding_fragments(os.environ.get("TOOLFLOW_PROMPTS_DIR"))


@lru_cache(maxsize=4)
def _scaffolding_fragments(_override_dir: str | None) -> frozenset[tuple[str, ...]]:
    from toolflow.engine.llm.repair import FEEDBACK_TEXTS
    from toolflow.engine.synth.agents.user import FEEDBACK
    from toolflow.engine.synth.text import PROSE_REASONS

    return fragments([*_prompt_texts(), *FEEDBACK, *PROSE_REASONS, *FEEDBACK_TEXTS])


def quoted_fragment(text: str, frags: frozenset[tuple[str, ...]]) -> str | None:
    """The first instruction fragment `text` contains, as words, or None."""
    ws = words(text)
    for n in (WINDOW, MIN_PIECE):
        for g in _grams(ws, n):
            if g in frags:
                return " ".join(g)
    return None


def _contains(hay: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(hay[i:i + n] == needle for i in range(len(hay) - n + 1))


def pasted_description(text: str, description: str) -> bool:
    """True if `text` pastes `description`: a DESCRIPTION_WINDOW-word run of it, all of it (MIN_PIECE+
    words), or its opening words after a ``description:`` label."""
    ws, desc = words(text), words(description)
    if not desc:
        return False
    if len(desc) >= MIN_PIECE and _contains(ws, desc):
        return True
    if len(desc) >= DESCRIPTION_WINDOW and any(_contains(ws, list(g)) for g in _grams(desc, DESCRIPTION_WINDOW)):
        return True
    labelled = re.search(r"description\s*:\s*(.*)", text, re.I | re.S)
    return labelled is not None and words(labelled.group(1))[:min(4, len(desc))] == desc[:4]


def echoes(user: str, assistant: str) -> bool:
    """True if the user's turn repeats the assistant's previous message verbatim: all of it, one of its
    sentences of ECHO_SENTENCE_WORDS+ words, or the user's long turn is a piece of it."""
    u, a = words(user), words(assistant)
    if (len(a) >= ECHO_MIN_WORDS and _contains(u, a)) or (len(u) >= ECHO_USER_WORDS and _contains(a, u)):
        return True
    sentences = (words(s) for s in _SENTENCE.split(assistant))
    return any(len(s) >= ECHO_SENTENCE_WORDS and _contains(u, s) for s in sentences)


def _descriptions(tools: list[dict[str, Any]]) -> dict[str, str]:
    return {(t.get("function", t)).get("name", "?"): (t.get("function", t)).get("description") or "" for t in tools}


class UserTurnLeaks(Check):
    """The user's turns hold no instruction of ours, no pasted tool description, no echo of the assistant."""

    name = "user_turn_leaks"
    reasons = (Reason.SCAFFOLDING_IN_USER, Reason.TOOL_DESCRIPTION_IN_USER, Reason.USER_ECHOES_ASSISTANT)

    def __call__(self, subject: CheckInput) -> list[Verdict]:
        frags = scaffolding_fragments()
        descriptions = _descriptions(subject.dialogue.tools)
        out: list[Verdict] = []
        last_assistant = ""
        for i, m in enumerate(subject.dialogue.messages):
            text = m.get("content") if isinstance(m.get("content"), str) else ""
            if m.get("role") == "assistant" and text.strip():
                last_assistant = text
            if m.get("role") != "user" or not text.strip():
                continue
            if (frag := quoted_fragment(text, frags)) is not None:
                out.append(Verdict.reject(Reason.SCAFFOLDING_IN_USER, f"message {i} quotes our instruction {frag!r}"))
            if pasted := [n for n, d in descriptions.items() if pasted_description(text, d)]:
                out.append(Verdict.reject(Reason.TOOL_DESCRIPTION_IN_USER,
                                          f"message {i} pastes the description of {pasted}"))
            if last_assistant and echoes(text, last_assistant):
                out.append(Verdict.reject(Reason.USER_ECHOES_ASSISTANT,
                                          f"message {i} repeats the assistant's previous message"))
        return out


def _format_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        validator = cls(schema, format_checker=jsonschema.FormatChecker())
        errors = list(validator.iter_errors(value))
    except (SchemaError, jsonschema.exceptions.UnknownType, jsonschema.exceptions.RefResolutionError):
        return []
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {str(e.instance)[:60]!r} is not a "
            f"{e.validator_value}" for e in errors if e.validator == "format"]


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}/{k}" if path else str(k))
    elif isinstance(value, list):
        for j, v in enumerate(value):
            yield from _strings(v, f"{path}/{j}" if path else str(j))
    elif isinstance(value, str):
        yield path or "(root)", value


def chatter_paths(value: Any) -> list[tuple[str, str]]:
    """(path, text) of every string value in `value` that carries model talk instead of a value."""
    return [(path, s) for path, s in _strings(value) if any(p.search(s) for p in _CHATTER)]


def _schema_descriptions(schema: Any) -> list[list[str]]:
    """The words of every description in a schema, at any depth, long enough to be told from a value."""
    out: list[list[str]] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("description"), str) and len(words(node["description"])) >= DESCRIPTION_VALUE_WORDS:
                out.append(words(node["description"]))
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(node)
    return out


def described_paths(value: Any, schema: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(path, text) of string values that hold a description from the return schema instead of a value."""
    descriptions = _schema_descriptions(schema) if isinstance(schema, dict) else []
    return [(path, s) for path, s in _strings(value) if any(_contains(words(s), d) for d in descriptions)]


def value_problems(value: Any, schema: dict[str, Any] | None) -> list[str]:
    """Why a tool result's values are not values (chatter, the schema's description, a failed declared
    format), for a re-ask."""
    out = [f"{path} holds commentary, not a value: {s[:60]!r}" for path, s in chatter_paths(value)[:3]]
    out += [f"{path} holds the schema's description, not a value: {s[:60]!r}"
            for path, s in described_paths(value, schema)[:3]]
    return out + (_format_errors(value, schema)[:3] if isinstance(schema, dict) else [])


class ResultValues(Check):
    """Tool result values are values: no model talk, and the formats their return schema declares."""

    name = "result_values"
    reasons = (Reason.RESULT_CHATTER, Reason.RESULT_BAD_FORMAT)

    def __call__(self, subject: CheckInput) -> list[Verdict]:
        out: list[Verdict] = []
        for i, m in enumerate(subject.dialogue.messages):
            if m.get("role") != "tool" or not isinstance(m.get("content"), str):
                continue
            try:
                value = json.loads(m["content"])
            except ValueError:
                continue  # plain-text results are a tool's own choice
            schema = (subject.returns or {}).get(str(m.get("name")))
            for path, s in (chatter_paths(value) + described_paths(value, schema))[:1]:
                out.append(Verdict.reject(Reason.RESULT_CHATTER,
                                          f"message {i} {m.get('name')}.{path} carries model talk: {s[:60]!r}"))
            if isinstance(schema, dict):
                out += [Verdict.reject(Reason.RESULT_BAD_FORMAT, f"message {i} {m.get('name')}.{e}")
                        for e in _format_errors(value, schema)[:3]]
        return out
