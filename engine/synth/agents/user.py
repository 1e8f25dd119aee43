"""User agent: plays the person. Plan turn + what they have seen so far → their next message.

The user never sees tool calls or results, only the assistant's words, and never names tools or
parameters. For a clarify turn it first leaves the planned values out, then supplies them when asked.
Without a plan (the paper's "−Plan" ablation) it improvises turn by turn.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from toolflow.engine.jsontext import leaves
from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.models import PlanTurn, Tool
from toolflow.engine.synth.agents.prompting import ask_json, render, transcript
from toolflow.engine.synth.leak_checks import echoes, quoted_fragment, scaffolding_fragments
from toolflow.engine.synth.text import is_identifier_like, mentions_name, prose_problem

#: The latest user and assistant messages the user agent reads: the exchange it answers and the one before
#: (what "that hotel" refers to); the whole transcript grew every user prompt with the dialogue's length.
TRANSCRIPT_LINES = 4


class UserTurn(BaseModel):
    """What the user agent answers with."""

    message: str = Field(default="", description="What the user says next.")
    done: bool = Field(default=False, description="True when the user has nothing more to ask.")


def _param_notes(turn: PlanTurn, tools: list[Tool]) -> list[str]:
    """'<description>' for each left-out value, so the user knows what it is without its field name."""
    by_name = {t.name: t for t in tools}
    notes = []
    for missing in turn.missing:
        desc = ""
        for name in turn.tools:
            prop = by_name[name].parameters.get("properties", {}).get(missing) if name in by_name else None
            if prop:
                desc = prop.get("description") or ""
                break
        notes.append(f"{missing.replace('_', ' ')}" + (f" ({desc})" if desc else ""))
    return notes


#: One value the user is to state: (what it is in plain words, the value).
Stated = tuple[str, Any]


def value_words(param: str) -> str:
    """A parameter name as a person says it: ``check_in`` → ``check in``, ``hotelId`` → ``hotel id``."""
    return " ".join(re.sub(r"([a-z])([A-Z])", r"\1 \2", param).replace("_", " ").replace("-", " ").split()).lower()


def mentions_value(text: str, value: Any) -> bool:
    """Does `text` state `value`? Strings case-insensitively, numbers as a whole number (not "12" in
    "2012"), every part of a list or object; booleans need no words (a yes/no is read from the intent)."""
    low = text.casefold()
    for leaf in leaves(value):  # booleans need no words, nulls none
        if isinstance(leaf, int | float):
            shown = str(int(leaf)) if float(leaf).is_integer() else str(leaf)
            if not re.search(rf"(?<![\d.]){re.escape(shown)}(?![\d])", text):
                return False
        elif str(leaf).strip().casefold() not in low:
            return False
    return True


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return ", ".join(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in leaves(value))


def insert_values(message: str, values: list[Stated]) -> tuple[str, int]:
    """`message` with every value it leaves out appended in a plain sentence (the fallback when the user
    agent drops a planned value: the value must be in the user's words before the assistant uses it)."""
    added = 0
    text = message.strip()
    for words, value in values:
        if isinstance(value, bool) or mentions_value(text, value):
            continue
        sep = "" if not text or text.endswith((".", "!", "?")) else "."
        text = f"{text}{sep} {words[:1].upper() + words[1:]}: {_shown(value)}.".strip()
        added += 1
    return text, added


def turn_instructions(turn: PlanTurn, tools: list[Tool], *, answering: bool,
                      values: list[Stated] | None = None) -> str:
    """The extra lines of the user prompt that make a turn of this kind happen; `values` are the planned
    details the user states in this message (exactly as written)."""
    lines: list[str] = []
    if values:
        lines.append("Include these exact details in your message, written exactly as here: "
                     + "; ".join(f"{w}: {_shown(v)}" for w, v in values) + ".")
    if turn.depends_on:
        lines.append("This builds on what the assistant told you earlier: refer to it naturally "
                     "(e.g. 'the second one', 'that hotel') instead of repeating everything.")
    if turn.kind == "multi_tool":
        lines.append("Ask for all parts of this goal in the same message.")
    if turn.kind == "chitchat":
        lines.append("This is small talk or thanks; do not ask for anything new that needs looking up.")
    if turn.kind == "clarify":
        notes = "; ".join(_param_notes(turn, tools))
        if answering:
            lines.append(f"You had left out: {notes}. Give it now, with a concrete realistic value, "
                         "in your own words.")
        else:
            lines.append(f"IMPORTANT: leave out this information on purpose, do not hint at it: {notes}. "
                         "Mention everything else naturally.")
    return "\n".join(lines)


async def next_user_message(
    llm: LLM,
    history: list[dict[str, Any]],
    *,
    turn: PlanTurn | None,
    tools: list[Tool],
    scenario: str = "",
    answering: bool = False,
    turn_number: int = 0,
    max_turns: int = 1,
    tracker: UsageTracker | None = None,
    max_repairs: int | None = None,
    values: list[Stated] | None = None,
) -> UserTurn:
    """The user's next message; `turn=None` means no plan (improvise); `answering` = reply within a turn.

    An empty message (unless an improvising user is done), markup or a tool name is fed back for a
    re-ask (`max_repairs`, default the LLM's budget).
    """
    seen = transcript(history, last=TRANSCRIPT_LINES)
    if turn is None:
        capabilities = "\n".join(f"- {t.description or t.name.replace('_', ' ')}" for t in tools)
        prompt = render("user_noplan", transcript=seen, capabilities=capabilities, turn=turn_number + 1,
                        max_turns=max_turns)
    else:
        extra = turn_instructions(turn, tools, answering=answering, values=values)
        prompt = render("user_answer" if answering else "user_turn", transcript=seen, intent=turn.intent,
                        extra=extra)
    messages = [
        {"role": "system", "content": render("user", scenario=scenario or "an ordinary person who needs help.")},
        {"role": "user", "content": prompt},
    ]
    reply = await ask_json(llm, "user", messages, UserTurn, user_turn_schema(),
                           check=_checker(tools, may_finish=turn is None and not answering,
                                          last_assistant=_last_assistant_text(history)), tracker=tracker,
                           describe=False, max_repairs=max_repairs)
    return UserTurn(message=reply.message.strip(), done=reply.done)


def _last_assistant_text(history: list[dict[str, Any]]) -> str:
    return next((m.get("content") or "" for m in reversed(history)
                 if m.get("role") == "assistant" and (m.get("content") or "").strip()), "")


#: A chat message, not an essay: also keeps a small model from rambling until the token limit.
MESSAGE_CHARS = 400


def user_turn_schema() -> dict[str, Any]:
    """`UserTurn` with both fields required (a grammar would otherwise allow ``{}``, an empty turn)."""
    return {
        "type": "object",
        "properties": {"message": {"type": "string", "maxLength": MESSAGE_CHARS}, "done": {"type": "boolean"}},
        "required": ["message", "done"],
    }


#: What the checker feeds back for a re-ask; the leak check (`leak_checks`) reads these too, so a user turn
#: that copies our own repair instruction is rejected.
EMPTY_FEEDBACK = '"message" is empty: write what you say to the assistant'
NOT_TYPED_FEEDBACK = '"message" is not something a person types: {why}'
NAMED_FEEDBACK = "you wrote {leaked}: people do not know function names; say what you want in plain words"
COPIED_FEEDBACK = 'you copied an instruction ("{frag}"): write only what you yourself say to the assistant'
ECHO_FEEDBACK = "you repeated the assistant's message: answer it in your own words"
FEEDBACK = (EMPTY_FEEDBACK, NOT_TYPED_FEEDBACK, NAMED_FEEDBACK, COPIED_FEEDBACK, ECHO_FEEDBACK)


def _checker(tools: list[Tool], *, may_finish: bool, last_assistant: str = "") -> Any:
    """What makes a user message unusable, fed back for a re-ask: empty (unless an improvising user
    finishes with ``done``), no words or markup, tool names, our own instructions copied, the assistant's
    last message repeated (the leak checks would reject the dialogue for the last two)."""
    named = [t.name for t in tools if is_identifier_like(t.name)]

    def check(turn: UserTurn) -> UserTurn:
        if not turn.message.strip() and not (may_finish and turn.done):
            raise ValueError(EMPTY_FEEDBACK)
        if turn.message.strip() and (why := prose_problem(turn.message, identifiers=False)) is not None:
            raise ValueError(NOT_TYPED_FEEDBACK.format(why=why))
        leaked = [n for n in named if mentions_name(turn.message, n)]
        if leaked:
            raise ValueError(NAMED_FEEDBACK.format(leaked=leaked))
        if (frag := quoted_fragment(turn.message, scaffolding_fragments())) is not None:
            raise ValueError(COPIED_FEEDBACK.format(frag=frag))
        if last_assistant and echoes(turn.message, last_assistant):
            raise ValueError(ECHO_FEEDBACK)
        return turn

    return check
