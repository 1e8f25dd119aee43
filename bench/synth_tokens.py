"""Tokens per kept dialogue, per role, before/after the planner gate, on the example travel tools.

Two LLMs:
- ``fake`` (default, noise-free): the scripted AutoLLM of the tests, with token counts computed from the
  prompt and reply text (4 characters a token) and a planner whose plans never validate — what
  SmolLM2-135M did in every measured run (all plans came from the skeleton fallback, so every planner
  request was paid for and thrown away);
- ``local`` (``--local``): the embedded SmolLM2-135M server through the real client (slow: ~1–2 min a
  dialogue on one core).
Both settings run the same job (same seed, same samples, same checks) in the same process. "before" is the
behaviour before the token work: the planner is asked for every dialogue (``planner_gate=0``) and every
request lists every tool of the dialogue (the emulation prompt did, whatever the tool_choice); "after" uses
the default gate and the client's rule of showing only the tools a reply may call (``shown_tools``). With
``--local`` only the gate differs (the real client has one rule), so the local ratio understates the change.
Printed: tokens per kept dialogue per role, the total, and after/before.

    python bench/synth_tokens.py [--n 12] [--seed 0] [--local] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))
from fake_llm import AutoLLM  # noqa: E402

from toolflow.engine.llm.base import Usage  # noqa: E402
from toolflow.engine.llm.tool_calls import resolve_tool_choice, shown_tools  # noqa: E402
from toolflow.engine.sampling.sources import FileSampleSource  # noqa: E402
from toolflow.engine.synth.job import RunConfig, RunSummary, run_synthesis  # noqa: E402

TOOLS = ROOT / "examples" / "travel_tools.jsonl"


def _tokens(value: Any) -> int:
    return max(1, len(json.dumps(value, ensure_ascii=False)) // 4)


class CountingFake(AutoLLM):
    """AutoLLM with text-proportional token counts and a planner that never writes a valid plan.

    A chat request is counted as the client puts it on the wire: its messages and the tools it shows
    (``shown_tools``: the callable ones), or every tool in every request with ``narrow=False`` (the
    client before that rule: its emulation prompt listed all tools whatever the tool_choice).
    """

    def __init__(self, *args: Any, narrow: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.narrow = narrow

    async def _tick(self, role, tracker):  # usage is recorded per request below, from the texts
        self.requests += 1

    async def chat(self, role, messages, *, tools=None, tracker=None, tool_choice=None, arguments=None):
        reply = await super().chat(role, messages, tools=tools, tracker=None, tool_choice=tool_choice,
                                   arguments=arguments)
        shown = shown_tools(tools, *resolve_tool_choice(tools, tool_choice)) if tools and self.narrow else tools
        if tracker is not None:
            tracker.record(role, Usage(prompt_tokens=_tokens([messages, shown]), requests=1,
                                       completion_tokens=_tokens([reply.content, reply.tool_calls])))
        return reply

    async def structured_json(self, role, messages, json_schema, *, validate=None, name="output", tracker=None,
                              describe=True, max_repairs=None):
        outer = tracker

        def checked(value: Any) -> Any:
            return validate(value) if validate is not None else value

        seen: list[Any] = []

        def recording(value: Any) -> Any:
            seen.append(value)
            if outer is not None:
                outer.record(role, Usage(prompt_tokens=_tokens([messages, json_schema] if describe else messages),
                                         completion_tokens=_tokens(value), requests=1))
            return checked(value)

        return await super().structured_json(role, messages, json_schema, validate=recording, name=name,
                                             tracker=None, describe=describe, max_repairs=max_repairs)

    def _answer(self, role, messages):
        if role == "planner" and "Write the plan now." in json.dumps(messages):
            return {"scenario": "someone", "turns": [{"kind": "chitchat", "intent": "hello there", "tools": []}]}
        return super()._answer(role, messages)


def run(llm_factory, n: int, seed: int, gate: int, out_dir: Path) -> RunSummary:
    source = FileSampleSource.from_paths(TOOLS)
    config = RunConfig(n=n, out=out_dir / f"gate{gate}.jsonl", seed=seed, concurrency=1, planner_gate=gate,
                       strategy="random")
    return asyncio.run(run_synthesis(llm_factory(source), source, config, show_progress=False))


def per_kept(summary: RunSummary) -> dict[str, float]:
    out = {role: round(v) for role, v in sorted(summary.per_kept().items())}
    out["total"] = round(summary.usage.total().tokens / summary.kept) if summary.kept else 0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--local", action="store_true", help="the embedded SmolLM2-135M instead of the fake")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    results: dict[str, Any] = {"n": args.n, "seed": args.seed, "llm": "local" if args.local else "fake"}
    with tempfile.TemporaryDirectory() as tmp:
        if args.local:
            from toolflow.engine.llm.client import OpenAIClientLLM
            from toolflow.engine.llm.local_server import ensure_endpoint
            from toolflow.engine.llm.settings import LLMSettings

            settings = LLMSettings.from_env(cache_dir=None)
            with ensure_endpoint(settings) as ready:
                for label, gate in (("before", 0), ("after", RunConfig.model_fields["planner_gate"].default)):
                    s = run(lambda _src, r=ready: OpenAIClientLLM(r), args.n, args.seed, gate, Path(tmp))
                    results[label] = {"kept": s.kept, "per_kept": per_kept(s), "planner_skipped": s.planner_skipped}
        else:
            for label, gate in (("before", 0), ("after", RunConfig.model_fields["planner_gate"].default)):
                s = run(lambda src, g=gate: CountingFake(src.all_tools, seed=args.seed, narrow=g != 0), args.n,
                        args.seed, gate, Path(tmp))
                results[label] = {"kept": s.kept, "per_kept": per_kept(s), "planner_skipped": s.planner_skipped}
    b, a = results["before"]["per_kept"]["total"], results["after"]["per_kept"]["total"]
    results["after_over_before"] = round(a / b, 3) if b else None
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{results['llm']} LLM, {args.n} dialogues, seed {args.seed}")
    for label in ("before", "after"):
        r = results[label]
        roles = "  ".join(f"{k} {v:,}" for k, v in r["per_kept"].items())
        print(f"  {label:<6} kept {r['kept']:>3}  planner skipped {r['planner_skipped']:>3}  tokens per kept: {roles}")
    print(f"  tokens per kept dialogue, after/before: {results['after_over_before']}")


if __name__ == "__main__":
    main()
