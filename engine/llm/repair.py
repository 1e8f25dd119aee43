"""The one repair policy: ask, check, and on a problem re-ask with the problem fed back, within a budget.

Every agent goes through it (the client's structured outputs, and the assistant's tool calls), so a
simulated tool result costs at most ``budget + 1`` requests instead of nested budgets multiplying (what they
cost before: docs/llm.md). Checks speak to the loop through exceptions:

- any ``ValueError``: the output is unusable; it is fed back with a generic note and re-asked;
- :class:`RepairFeedback`: the same, with the exact re-ask text (an agent's own repair prompt);
- :class:`Unrepairable`: stop now, another re-ask is not expected to help (the caller may fall back).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from toolflow.engine.errors import BudgetError
from toolflow.engine.llm.errors import StructuredOutputError
from toolflow.engine.llm.messages import parse_json_text, truncated_json_values
from toolflow.engine.secrets import redact_logger

log = redact_logger("toolflow.llm")  # LLM error text may echo an API key

R = TypeVar("R")  # raw output of one request
V = TypeVar("V")  # checked value

#: Re-asks after the first request, unless a caller or the settings say otherwise.
DEFAULT_REPAIRS = 2
#: How much of a rejected output and of the error goes back into the prompt (prompt tokens cost time).
MAX_FEEDBACK_CHARS = 2000
#: The re-ask texts of structured outputs (also read by synth's leak check: a dialogue must not quote them).
TRUNCATED_FEEDBACK = "Your reply was cut off because it was too long. Reply again with a shorter, complete JSON object."
INVALID_FEEDBACK = "Your reply was invalid: {error}\nReply again with only the corrected JSON object."
FEEDBACK_TEXTS = (TRUNCATED_FEEDBACK, INVALID_FEEDBACK)


class RepairFeedback(ValueError):
    """A check's verdict (``str(exc)``, for logs and errors) with the exact text to send back (`feedback`)."""

    def __init__(self, error: str, feedback: str) -> None:
        super().__init__(error)
        self.feedback = feedback


class Unrepairable(ValueError):
    """A check's verdict that re-asking will not help."""


class RepairsExhausted(BudgetError, Generic[R]):
    """Every attempt was rejected; `errors` has one entry per attempt, `last` the last raw output."""

    def __init__(self, errors: list[str], last: R | None) -> None:
        super().__init__(errors[-1] if errors else "no attempt made")
        self.errors = errors
        self.last = last


async def repair_loop(
    ask: Callable[[int], Awaitable[R]],
    check: Callable[[R], V],
    reject: Callable[[R, ValueError], None],
    budget: int,
) -> V:
    """``check(await ask(attempt))`` for attempt 0..budget; after each rejected attempt ``reject(raw, error)``
    updates the conversation for the next ask. Raises RepairsExhausted when no attempt passes."""
    errors: list[str] = []
    raw: R | None = None
    for attempt in range(max(0, budget) + 1):
        raw = await ask(attempt)
        try:
            return check(raw)
        except Unrepairable as exc:
            errors.append(str(exc))
            break
        except ValueError as exc:  # pydantic.ValidationError and json errors are ValueErrors
            errors.append(str(exc))
            if attempt < budget:
                reject(raw, exc)
    raise RepairsExhausted(errors, raw)


async def structured_with_repairs(
    request: Callable[[int, list[dict[str, Any]]], Awaitable[tuple[str, str | None]]],
    messages: list[dict[str, Any]],
    validate: Callable[[Any], V],
    *,
    budget: int,
    role: str,
    name: str,
    max_tokens: int | None = None,
    complete_truncated: bool = False,
) -> V:
    """A validated JSON value from ``request(attempt, messages) -> (text, finish_reason)``: parsed with
    `parse_json_text`, checked by `validate`; a cut-off, unparsable or rejected output is shown back with
    the problem and asked again, `budget` times at most. Raises StructuredOutputError at the end.

    `complete_truncated`: an output cut at the token limit is first completed by rule (the cut item
    dropped, the JSON closed: `truncated_json_values`, longest first) and the first completion `validate`
    takes is accepted. For values where fewer items are still a whole answer (a tool result's list), not
    for plans.

    The real client and the test fakes both answer structured requests through this function, so whole-run
    tests take the production path.
    """
    convo = list(messages)

    async def ask(attempt: int) -> tuple[str, str | None]:
        return await request(attempt, convo)

    def check(reply: tuple[str, str | None]) -> V:
        text, finish_reason = reply
        if finish_reason == "length":
            for trimmed in truncated_json_values(text) if complete_truncated else ():
                try:
                    value = validate(trimmed)
                except ValueError:  # this completion lost something required: try the next shorter one
                    continue
                log.info("%s: %s cut at max_tokens=%s, completed by rule", role, name, max_tokens)
                return value
            raise RepairFeedback(
                f"output truncated at max_tokens={max_tokens} (finish_reason=length)",
                TRUNCATED_FEEDBACK)
        try:
            value = parse_json_text(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc}") from exc
        try:
            return validate(value)
        except (RepairFeedback, Unrepairable):
            raise
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            raise ValueError(f"does not match the schema: {exc}") from exc

    def reject(reply: tuple[str, str | None], exc: ValueError) -> None:
        error = str(exc)
        log.info("%s: %s output rejected: %s", role, name, error[:200])
        feedback = exc.feedback if isinstance(exc, RepairFeedback) else (
            INVALID_FEEDBACK.format(error=error[:MAX_FEEDBACK_CHARS]))
        convo.extend([{"role": "assistant", "content": reply[0][:MAX_FEEDBACK_CHARS]},
                      {"role": "user", "content": feedback}])

    try:
        return await repair_loop(ask, check, reject, budget)
    except RepairsExhausted as exc:
        raise StructuredOutputError(
            f"{role}: no valid {name} after {len(exc.errors)} attempt(s); last error: {exc.errors[-1][:500]}",
            last_output=exc.last[0] if exc.last is not None else "",
            errors=exc.errors,
        ) from None
