"""Tokens per kept dialogue, per role and per request kind: this checkout against a baseline commit, in one run.

Both sides run the same job (same tools, seed, samples, settings) in a subprocess of their own, through the
real client (`OpenAIClientLLM`) with the embedded model's settings (llama.cpp profile: JSON mode, emulated
tool calls), so every prompt is counted as it would go on the wire. Two LLMs:

- ``fake`` (default, noise-free): the client's single request point (`_call`) answers from the request
  itself: a planner whose plans never validate (what SmolLM2-135M did in every measured run), user
  messages, the assistant's call of the first tool its reply grammar allows (planned values as given),
  results that fill the result grammar to its bounds. Tokens are counted with SmolLM2's own tokenizer over
  the ChatML prompt (4 characters a token without llama-cpp-python);
- ``local`` (``--local``): the embedded SmolLM2-135M server (slow: ~1–2 min a dialogue on one core).

"before" is ``--baseline-ref`` (a commit, exported with ``git archive`` and imported in its subprocess
instead of this checkout), "after" is this checkout. Rows: the roles (planner, user, assistant, tool) and
``repair`` (every re-ask: structured-output repairs and the assistant's re-asks), then the request kinds.
Tokens per kept dialogue are everything spent (rejected dialogues included) over the kept ones.

    python bench/synth_tokens.py [--n 12] [--seed 0] [--store DIR | --tools FILE] [--local]
                                 [--baseline-ref fcda126] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "examples" / "travel_tools.jsonl"
ROWS = ("planner", "user", "assistant", "tool", "repair")
PACKAGES = ("engine", "loaders", "cypher")

# -- counting ----------------------------------------------------------------------------------------------


def token_counter() -> Callable[[str], int]:
    """SmolLM2's tokenizer (its GGUF's vocabulary only) when llama-cpp-python is there, else 4 chars a token."""
    try:
        from llama_cpp import Llama

        from toolflow.engine.llm.local_server import find_local_model

        vocab = Llama(model_path=str(find_local_model()), vocab_only=True, verbose=False)
        return lambda text: len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))
    except Exception:  # noqa: BLE001 - the fallback is exact enough for ratios
        return lambda text: max(1, len(text) // 4)


def chatml(messages: list[dict[str, Any]]) -> str:
    """The prompt as SmolLM2's chat template renders it."""
    body = "".join(f"<|im_start|>{m.get('role')}\n{m.get('content') or ''}<|im_end|>\n" for m in messages)
    return body + "<|im_start|>assistant\n"


class Tally:
    """Tokens and requests per row (role, or repair) and per request kind, from what `_call` saw."""

    def __init__(self) -> None:
        self.rows: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.repairs_seen = 0
        self.last_assistant: str | None = None

    def add(self, llm: Any, rs: Any, messages: list[dict[str, Any]], params: dict[str, Any], comp: Any) -> None:
        tokens = comp.prompt_tokens + comp.completion_tokens
        row, kind = rs.role, _kind(rs.role, params, comp)
        history = json.dumps(messages[1:], sort_keys=True)
        if llm.stats["repairs"] > self.repairs_seen:  # the structured-output repair loop counted a re-ask
            self.repairs_seen = llm.stats["repairs"]
            row, kind = "repair", f"repair ({rs.role})"
        elif rs.role == "assistant" and history == self.last_assistant:  # the assistant's own re-ask
            row, kind = "repair", "repair (assistant)"
        if rs.role == "assistant":
            self.last_assistant = history
        self.rows[row] += tokens
        self.kinds[kind] += tokens
        self.requests[kind] += 1


def _kind(role: str, params: dict[str, Any], comp: Any) -> str:
    props = ((params.get("response_format") or {}).get("schema") or {}).get("properties") or {}
    if role == "planner":
        return "planner: plan" if "turns" in props else "planner: intents"
    if role == "assistant":
        return "assistant: call" if '"tool_calls"' in (comp.content or "") else "assistant: answer"
    return {"tool": "tool: result", "user": "user: message"}.get(role, role)


# -- the fake LLM ------------------------------------------------------------------------------------------

_WORDS = ["garden", "trip", "budget", "weekend", "family", "concert", "museum", "river", "coffee", "train",
          "hotel", "dinner", "market", "bicycle", "office", "library", "beach", "mountain", "festival"]


def _sentence(rng: random.Random, n: int = 8) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def _string(schema: dict[str, Any], rng: random.Random) -> str:
    fmt = schema.get("format")
    if fmt in ("date", "date-time", "time", "uuid"):
        return {"date": "2026-05-14", "date-time": "2026-05-14T10:30:00Z", "time": "10:30:00",
                "uuid": "3f2b6c1e-8a4d-4e2f-9b7a-1c2d3e4f5a6b"}[fmt]
    text = f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS)} {rng.randrange(100, 999)}"
    if "pattern" not in schema:
        text = f"{text} {_sentence(rng, 4)}"
    low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", len(text)))
    return (text * 3)[:max(low, min(len(text), high))].strip() or "Alpha 100"


def example(schema: Any, rng: random.Random, *, fill: bool) -> Any:
    """A value of a (grammar-safe) JSON schema; `fill`: arrays to their maxItems, every property (what a
    small model under a result grammar does), else required properties only (tool-call arguments)."""
    if not isinstance(schema, dict):
        return "value"
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return example(schema[key][0], rng, fill=fill)
    kind = schema.get("type", "object")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind == "object":
        props = schema.get("properties") or {}
        keys = list(props) if fill else [k for k in schema.get("required", []) if k in props]
        return {k: example(props[k], rng, fill=fill) for k in keys} or ({"ok": True} if not props else {})
    if kind == "array":
        n = int(schema.get("maxItems", 2)) if fill else max(1, int(schema.get("minItems", 1)))
        return [example(schema.get("items", {"type": "string"}), rng, fill=fill) for _ in range(max(1, min(n, 3)))]
    if kind in ("integer", "number"):
        low = schema.get("minimum", 1)
        value = max(low, min(schema.get("maximum", 100), low + rng.randrange(1, 50)))
        return int(value) if kind == "integer" else round(value + 0.25, 2)
    if kind == "boolean":
        return True
    return _string(schema, rng)


def fake_answer(role: str, messages: list[dict[str, Any]], params: dict[str, Any], rng: random.Random) -> str:
    schema = (params.get("response_format") or {}).get("schema") or {}
    props = schema.get("properties") or {}
    if role == "planner" and "turns" in props:
        return json.dumps({"scenario": "someone", "turns": [{"kind": "chitchat", "intent": "hello there",
                                                             "tools": []}]})
    if role == "planner":
        n = int(props.get("intents", {}).get("minItems", 1))
        return json.dumps({"scenario": f"A person planning the {_sentence(rng, 3)}.",
                           "intents": [f"I need help with the {_sentence(rng, 5)}." for _ in range(n)]})
    if role == "user":
        return json.dumps({"message": f"Please help with my {_sentence(rng)}.", "done": False})
    if role == "tool":
        return json.dumps(example(schema, rng, fill=True))
    branches = schema.get("anyOf") or [schema]
    calls = next((b for b in branches if "tool_calls" in (b.get("properties") or {})), None)
    if calls is None:
        return json.dumps({"message": f"Here you are: {_sentence(rng)}."})
    item = calls["properties"]["tool_calls"]["items"]
    variant = (item.get("anyOf") or [item])[0]
    name = variant["properties"]["name"]["const"]
    args = example(variant["properties"].get("arguments") or {}, rng, fill=False)
    return json.dumps({"tool_calls": [{"name": name, "arguments": args}]})


def install_fake(count: Callable[[str], int], tally: Tally) -> None:
    """Replace the client's one request point with the fake LLM (the rest of the client runs as it is)."""
    from toolflow.engine.llm.base import Usage
    from toolflow.engine.llm.cache import _SALT
    from toolflow.engine.llm.client import OpenAIClientLLM
    from toolflow.engine.llm.completion import Completion

    ordinal: Counter[tuple[str, str]] = Counter()

    async def _call(self: Any, rs: Any, messages: list[dict[str, Any]], params: dict[str, Any], tracker: Any,
                    **_: Any) -> Any:
        key = (str(_SALT.get()), rs.role)
        ordinal[key] += 1
        rng = random.Random(f"{key}:{ordinal[key]}")  # the n-th request of a role in a dialogue: same answer
        content = fake_answer(rs.role, messages, params, rng)
        comp = Completion(content=content, finish_reason="stop", prompt_tokens=count(chatml(messages)),
                          completion_tokens=count(content))
        self.stats["requests"] += 1
        self._record(rs, Usage(prompt_tokens=comp.prompt_tokens, completion_tokens=comp.completion_tokens,
                               requests=1), tracker)
        tally.add(self, rs, messages, params, comp)
        return comp

    OpenAIClientLLM._call = _call  # type: ignore[method-assign]


def count_real(tally: Tally) -> None:
    """Tally the real client's requests (the local server's own token counts)."""
    from toolflow.engine.llm.client import OpenAIClientLLM

    real = OpenAIClientLLM._call

    async def _call(self: Any, rs: Any, messages: list[dict[str, Any]], params: dict[str, Any], tracker: Any,
                    **kwargs: Any) -> Any:
        comp = await real(self, rs, messages, params, tracker, **kwargs)
        tally.add(self, rs, messages, params, comp)
        return comp

    OpenAIClientLLM._call = _call  # type: ignore[method-assign]


# -- one side: a subprocess ------------------------------------------------------------------------------


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """Run the job in this process (whatever `toolflow` imports as) and return its tallies."""
    import toolflow.engine
    from toolflow.engine.llm.client import OpenAIClientLLM
    from toolflow.engine.llm.settings import LLMSettings
    from toolflow.engine.synth.job import RunConfig, run_synthesis

    tally = Tally()
    settings = LLMSettings(cache_dir=None)
    with tempfile.TemporaryDirectory() as tmp:
        source, strategy = _source(args)
        config = RunConfig(n=args.n, out=Path(tmp) / "d.jsonl", seed=args.seed, concurrency=1, strategy=strategy)

        async def run(llm_settings: Any) -> Any:
            async with OpenAIClientLLM(llm_settings) as llm:
                limits = llm.result_limits()
                cfg = config.model_copy(update={k: v for k, v in limits.items() if k in RunConfig.model_fields})
                return await run_synthesis(llm, source, cfg, show_progress=False)

        if args.local:
            from toolflow.engine.llm.local_server import ensure_endpoint

            count_real(tally)
            with ensure_endpoint(settings) as ready:
                summary = asyncio.run(run(ready))
        else:
            install_fake(token_counter(), tally)
            summary = asyncio.run(run(settings.with_local_endpoint("http://fake.invalid/v1")))
    kept = summary.kept
    return {"code": str(Path(toolflow.engine.__file__).parent.parent), "kept": kept, "finished": summary.finished,
            "rejected": summary.rejected, "rows": dict(tally.rows), "kinds": dict(tally.kinds),
            "requests": dict(tally.requests), "total": sum(tally.rows.values())}


def _source(args: argparse.Namespace) -> tuple[Any, str]:
    if args.store:
        from toolflow.engine.sampling.sources import StoreSampleSource
        from toolflow.engine.stores import open_store

        return StoreSampleSource(open_store(args.store)), "walk"
    from toolflow.engine.sampling.sources import FileSampleSource

    return FileSampleSource.from_paths(Path(args.tools)), "random"


def export_ref(ref: str, into: Path) -> Path:
    """`ref` of this repository as an importable `toolflow` (folder `into`/toolflow), via ``git archive``."""
    tree = into / "tree"
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, *PACKAGES], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    pkg = into / "pkg" / "toolflow"
    pkg.mkdir(parents=True)
    for name in PACKAGES:
        (pkg / name).symlink_to(tree / name)
    return into / "pkg"


def side(args: argparse.Namespace, import_root: Path | None) -> dict[str, Any]:
    """Run the worker in a subprocess; `import_root` (a baseline) goes first on its import path."""
    env = dict(os.environ)
    if import_root is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(import_root), env.get("PYTHONPATH", "")]).strip(os.pathsep)
    cmd = [sys.executable, __file__, "--worker", "--n", str(args.n), "--seed", str(args.seed),
           "--tools", str(args.tools), *(["--store", args.store] if args.store else []),
           *(["--local"] if args.local else [])]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"worker failed ({import_root or 'this checkout'}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_kept(result: dict[str, Any], key: str) -> dict[str, float]:
    kept = result["kept"] or 1
    return {k: v / kept for k, v in sorted(result[key].items())}


def report(results: dict[str, Any]) -> None:
    before, after = results.get("before"), results["after"]
    sides = [("before", before), ("after", after)] if before else [("after", after)]
    print(f"{results['llm']} LLM, {results['n']} dialogues, seed {results['seed']}, {results['job']}")
    for label, r in sides:
        print(f"  {label:<6} kept {r['kept']}/{r['finished']} ({r['code']}); rejected {r['rejected']}")
    for title, key, names in (("role", "rows", ROWS), ("request kind", "kinds", None)):
        names = names or sorted(set(after[key]) | set((before or {}).get(key, {})))
        print(f"\n  tokens per kept dialogue, per {title}")
        print(f"  {'':<22}" + "".join(f"{label:>10}" for label, _ in sides) + ("  after/before" if before else ""))
        for name in [*names, "total"]:
            vals = [(r["total"] / (r["kept"] or 1)) if name == "total" else per_kept(r, key).get(name, 0.0)
                    for _, r in sides]
            ratio = f"  {vals[1] / vals[0]:>12.2f}" if before and vals[0] else ""
            print(f"  {name:<22}" + "".join(f"{v:>10,.0f}" for v in vals) + ratio)
    if before:
        share = f"{before['kept']}/{before['finished']} → {after['kept']}/{after['finished']}"
        print(f"\n  kept share {share}; tokens per kept dialogue after/before: {results['after_over_before']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tools", default=str(TOOLS), help="a tool file (random combinations)")
    ap.add_argument("--store", default=None, help="a graph store instead (walks)")
    ap.add_argument("--local", action="store_true", help="the embedded SmolLM2-135M instead of the fake")
    ap.add_argument("--baseline-ref", default=None, help="a commit to compare with (default: none, this side only)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return
    results: dict[str, Any] = {"n": args.n, "seed": args.seed, "llm": "local" if args.local else "fake",
                               "job": args.store or Path(args.tools).name}
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline_ref:
            results["before"] = side(args, export_ref(args.baseline_ref, Path(tmp)))
        results["after"] = side(args, None)
    before, after = results.get("before"), results["after"]
    if before and before["kept"] and after["kept"]:
        results["after_over_before"] = round((after["total"] / after["kept"]) / (before["total"] / before["kept"]), 3)
    print(json.dumps(results, indent=2)) if args.json else report(results)


if __name__ == "__main__":
    main()
