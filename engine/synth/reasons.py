"""The registry of rejection and flag reasons, and the typed `Verdict` a check returns.

A check produces `Verdict` objects (a code of the registry plus a detail); the dialogue records keep them
as ``"code: detail"`` strings (``checks.failed`` / ``checks.flags``) so runs written before the registry
read the same; the code before the first colon is what run summaries count and what ``--flag-only`` names.
Producing a reason through `Reason` makes a typo an AttributeError instead of a new, silent code, and lets
the CLI refuse a ``--flag-only`` word that no check emits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator


class Reason(StrEnum):
    """A reason code; ``f"{Reason.X}: detail"`` formats as the code's text, so emitted strings are unchanged."""

    description: str

    def __new__(cls, code: str, description: str) -> Reason:
        member = str.__new__(cls, code)
        member._value_ = code
        member.description = description
        return member

    # Structure of calls and results (checks.py).
    UNKNOWN_TOOL = "unknown_tool", "A call names a tool the dialogue was not given."
    BAD_ARGUMENTS_JSON = "bad_arguments_json", "A call's arguments are not a JSON object."
    MISSING_REQUIRED = "missing_required", "A call leaves out a required parameter."
    BAD_ARGUMENTS = "bad_arguments", "A call's arguments do not validate against the tool's parameter schema."
    UNANSWERED_CALL = "unanswered_call", "A tool call gets no tool message before the dialogue moves on."
    BAD_CALL_ID = "bad_call_id", "A tool call has a missing or repeated id."
    DUPLICATE_TOOL_MESSAGE = "duplicate_tool_message", "Two tool messages answer the same call id."
    ORPHAN_TOOL_MESSAGE = "orphan_tool_message", "A tool message answers no pending call."
    TOOL_NAME_MISMATCH = "tool_name_mismatch", "A tool message's name differs from the call it answers."
    # Turn content (checks.py, leak_checks.py).
    EMPTY_TURN = "empty_turn", "A user, assistant or tool message is empty."
    EMPTY_DIALOGUE = "empty_dialogue", "The dialogue has no messages."
    TOOL_NAME_IN_USER = "tool_name_in_user", "A user message names a tool identifier."
    PARAM_NAME_IN_USER = "param_name_in_user", "A user message names a parameter identifier."
    TRUNCATED = "truncated", "A message hit the model's length limit."
    UNFINISHED = "unfinished", "The dialogue ends without a closing assistant answer."
    SCAFFOLDING_IN_USER = "scaffolding_in_user", "A user message quotes the simulator's own instructions."
    TOOL_DESCRIPTION_IN_USER = "tool_description_in_user", "A user message pastes a tool's description."
    USER_ECHOES_ASSISTANT = "user_echoes_assistant", "A user message repeats the assistant's previous message."
    RESULT_CHATTER = "result_chatter", "A tool result value carries model talk instead of data."
    RESULT_BAD_FORMAT = "result_bad_format", "A tool result value breaks its declared return format."
    # Plan and grounding (checks.py).
    PLAN_NOT_COVERED = "plan_not_covered", "A tool of the plan is never called."
    PLAN_TURNS_MISSING = "plan_turns_missing", "A turn of the plan was never played."
    CLARIFY_NOT_ASKED = "clarify_not_asked", "A turn planned to ask for a missing value does not ask."
    FOLLOW_UP_NOT_GROUNDED = "follow_up_not_grounded", "A follow-up turn passes no value of an earlier tool result."
    ARGUMENT_NOT_SOURCED = "argument_not_sourced", "An argument value comes from neither the user nor an earlier result."
    # Generation (loop.py, job.py, ray_run.py).
    DUPLICATE_TOOL_NAMES = "duplicate_tool_names", "The sample holds two tools with the same name."
    PLANNER_SKIPPED = "planner_skipped", "The planner kept failing earlier in the run, so it was not asked."
    PLAN_INVALID = "plan_invalid", "The planner gave no valid plan within its repair budget."
    LLM_OUTPUT_INVALID = "llm_output_invalid", "A model gave no valid structured output within its repair budget."
    BLUEPRINT_INVALID = "blueprint_invalid", "The call blueprint for the plan could not be built."
    CALL_MISMATCH = "call_mismatch", "The assistant's calls differ from the blueprint's calls for the turn."
    TOOL_UNAVAILABLE = "tool_unavailable", "A live tool's server died and could not be restarted."
    TOOL_SIM_FAILED = "tool_sim_failed", "The tool simulator gave no acceptable result within its repair budget."
    NEAR_DUPLICATE = "near_duplicate", "The dialogue is a near duplicate of one already kept."
    SAMPLE_TOOLS_MISSING = "sample_tools_missing", "A tool of the sample is no longer in the graph."
    # Scenarios (scenarios.py, scenario_checks.py).
    SCENARIO_UNPLAYABLE = "scenario_unplayable", "The sample's plan cannot hold the scenario's turn."
    SCENARIO_WITHHELD_OFFERED = "scenario_withheld_offered", "A tool meant to be missing is among the dialogue's tools."
    SCENARIO_UNSERVED_CALLED = "scenario_unserved_called", "A request no shown tool serves gets a tool call."
    SCENARIO_UNSERVED_NOT_DECLINED = (
        "scenario_unserved_not_declined",
        "The assistant does not say it cannot serve a request no tool serves.",
    )
    SCENARIO_ERROR_MISSING = "scenario_error_missing", "The planned tool error never happened."
    SCENARIO_ERROR_SAME_RETRY = "scenario_error_same_retry", "A failed call is retried with the same arguments."
    SCENARIO_ERROR_IGNORED = "scenario_error_ignored", "A tool error gets no retry and no mention in the answer."
    SCENARIO_LONG_RESULT_MISSING = "scenario_long_result_missing", "No tool result is long enough for the scenario."
    SCENARIO_LONG_RESULT_NOT_SUMMARIZED = (
        "scenario_long_result_not_summarized",
        "The answer after a long result is not a summary of it.",
    )
    SCENARIO_IRRELEVANCE_CALLED = "scenario_irrelevance_called", "An irrelevance dialogue has a tool call."
    SCENARIO_CLARIFY_NOT_ASKED = "scenario_clarify_not_asked", "A call is made before asking for the missing value."
    SCENARIO_PARALLEL_MISSING = "scenario_parallel_missing", "No assistant message makes two or more calls."
    SCENARIO_MULTI_STEP_UNCHAINED = "scenario_multi_step_unchained", "No call uses a value from an earlier result."


@dataclass(frozen=True, slots=True)
class Verdict:
    """One finding of a check: ``ok=False`` rejects the dialogue, ``ok=True`` keeps it with a flag.

    ``str(verdict)`` is the record form ``"code: detail"``.
    """

    ok: bool
    reason: Reason
    detail: str

    @classmethod
    def reject(cls, reason: Reason, detail: str) -> Verdict:
        return cls(False, reason, detail)

    @classmethod
    def flag(cls, reason: Reason, detail: str) -> Verdict:
        return cls(True, reason, detail)

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


def reason_code(reason: str) -> str:
    """The grouping key of a recorded reason string: the part before the first colon."""
    return reason.split(":", 1)[0].strip()


def unknown_codes(codes: list[str] | tuple[str, ...]) -> list[str]:
    """The codes that no check emits (a ``--flag-only`` typo would otherwise flag nothing)."""
    known = {r.value for r in Reason}
    return [c for c in codes if c not in known]


def _registered(codes: list[str]) -> list[str]:
    if bad := unknown_codes(codes):
        raise ValueError(f"unknown reason code(s) {', '.join(bad)}; `toolflow reasons` lists them")
    return codes


#: A config's list of reason codes (``flag_only``): validated against the registry where the config is built.
ReasonCodes = Annotated[list[str], AfterValidator(_registered)]


def reasons_table() -> str:
    """One line per code with its description (``toolflow reasons`` and docs/errors.md)."""
    width = max(len(r.value) for r in Reason)
    return "\n".join(f"{r.value:<{width}}  {r.description}" for r in Reason)
