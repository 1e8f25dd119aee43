"""The knobs a synthesis run and each of its dialogues share, declared once.

`RunConfig` (engine/synth/job.py, a whole job) and `SynthConfig` (engine/synth/loop.py, one dialogue) both
derive from `DialogueKnobs`: each shared knob has its default, bounds and help text here, and the run hands
its values to every dialogue (`job.dialogue_config`). The result caps are optional here because a run leaves
them to the tool role's backend (`LLM.result_limits`) unless they are set; a dialogue resolves an unset cap to
the tool simulator's own default.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from toolflow.engine.synth.reasons import ReasonCodes


class DialogueKnobs(BaseModel):
    """What shapes every dialogue of a run (the run's fields pass through to each dialogue unchanged)."""

    plan: bool = Field(default=True, description="False = the paper's −Plan ablation: the user improvises.")
    max_turns: int = Field(default=8, ge=1, description="Hard cap on user turns.")
    max_steps: int = Field(default=6, ge=1, description="Assistant messages per user turn before the dialogue is "
                                                        "cut (and rejected).")
    seed: int = Field(default=0, ge=0, description="Job seed: samples, dialogue ids and every seeded choice.")
    blueprint: bool = Field(default=True, description="Plans fix every call and argument source (False: the "
                                                      "paper's intent-only plan, for the ablation).")
    flag_only: ReasonCodes = Field(default_factory=list, description="Check codes reported as flags instead of "
                                   "rejecting (e.g. argument_not_sourced, follow_up_not_grounded).")
    result_items: int | None = Field(default=None, ge=1, description="List items per simulated tool result "
                                     "(unset: the tool backend's setting).")
    result_chars: int | None = Field(default=None, ge=8, description="Characters per string of a simulated "
                                     "tool result (unset: the tool backend's setting).")
    result_tokens: int | None = Field(default=None, ge=1, description="The tool role's output token limit: "
                                      "results are bounded to fit it.")
