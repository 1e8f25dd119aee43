"""The shape every dialogue check has: a small object with a name and the reason codes it may emit, called
on a `CheckInput` and returning typed `Verdict` objects; `run_checks` runs a list of them in order.

A check that finds nothing returns an empty list; each finding is one verdict (``ok=False`` rejects,
``ok=True`` flags). What several checks need (the tool parameter schemas, every call, the argument
evidence) is computed once per dialogue on the `CheckInput`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from toolflow.engine.models import Dialogue
from toolflow.engine.synth.evidence import argument_evidence, tool_params
from toolflow.engine.synth.reasons import Reason, Verdict


@dataclass
class CheckInput:
    """One dialogue under check, with what the checks share; `returns`: tool name → return schema."""

    dialogue: Dialogue
    returns: dict[str, dict[str, Any]] | None = None

    @cached_property
    def params(self) -> dict[str, dict[str, Any]]:
        return tool_params(self.dialogue.tools)

    @cached_property
    def calls(self) -> list[tuple[int, dict[str, Any]]]:
        """(message index, call) of every tool call, in order."""
        return [(i, c) for i, m in enumerate(self.dialogue.messages)
                if m.get("role") == "assistant" for c in m.get("tool_calls") or []]

    @cached_property
    def evidence(self) -> list[dict[str, Any]]:
        return argument_evidence(self.dialogue)


class Check(ABC):
    """A named check; `reasons` lists every code it may emit (a test holds it to that).

    `fatal`: a rejection stops the checks after it (nothing else is worth saying about the dialogue).
    `last_resort`: runs only when nothing has been rejected before it (it names a cause no other check
    explains).
    """

    name: ClassVar[str]
    reasons: ClassVar[tuple[Reason, ...]]
    fatal: ClassVar[bool] = False
    last_resort: ClassVar[bool] = False

    @abstractmethod
    def __call__(self, subject: CheckInput) -> list[Verdict]:
        """The findings on `subject` (empty when it passes)."""


def run_checks(subject: CheckInput, checks: Sequence[Check], *, rejected_before: bool = False) -> list[Verdict]:
    """Every check's verdicts, in check order (`rejected_before`: the dialogue already failed elsewhere)."""
    found: list[Verdict] = []
    rejected = rejected_before
    for check in checks:
        if check.last_resort and rejected:
            continue
        verdicts = check(subject)
        found += verdicts
        if any(not v.ok for v in verdicts):
            rejected = True
            if check.fatal:
                break
    return found
