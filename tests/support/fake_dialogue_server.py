"""A deterministic dialogue server: every answer is a pure function of the request.

Built on :mod:`fake_openai_server` (real HTTP on loopback), it answers structured requests (json_schema
mode, tool calls emulated through the schema) with values drawn from a generator seeded by the request
itself, so two runs that send the same requests get the same answers in any order, from any process:
what the Ray executor's "same seed, same dialogues" test and the Ray benchmark need. Plans name every
tool the planner is shown, one tool_call turn each; the assistant calls a tool whenever its schema
allows one (pinned arguments come back as pinned), answers in words otherwise.

    python tests/support/fake_dialogue_server.py [--delay S]     # prints 'PORT <n>', serves until killed
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_openai_server import FakeOpenAIServer, FakeServerProcess, Reply  # noqa: E402

WORDS = ["garden", "trip", "budget", "weekend", "family", "concert", "museum", "river", "coffee", "train", "hotel",
         "dinner", "market", "bicycle", "office", "library", "beach", "mountain", "festival", "recipe", "invoice",
         "meeting", "parcel", "flight", "harbour", "lantern", "orchard", "violin", "glacier", "canyon", "pepper"]


def _rng(request: dict[str, Any]) -> random.Random:
    blob = json.dumps([request.get("messages"), request.get("response_format"), request.get("model")],
                      sort_keys=True, ensure_ascii=False)
    return random.Random(hashlib.sha256(blob.encode()).hexdigest())


def _words(rng: random.Random, n: int = 6) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def value_for(schema: dict[str, Any], rng: random.Random, root: dict[str, Any]) -> Any:
    """A value valid for `schema`: const/enum honoured, the tool-calls branch of a union preferred, required
    properties filled, strings of request-seeded words within maxLength."""
    if "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return value_for(node, rng, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = schema[key]
            calls = [b for b in branches if "tool_calls" in json.dumps(b)]
            return value_for(calls[0] if calls else rng.choice([b for b in branches if b.get("type") != "null"]
                                                               or branches), rng, root)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: value_for(props[k], rng, root) for k in schema.get("required", list(props)) if k in props}
    if kind == "array":
        return [value_for(schema.get("items", {}), rng, root) for _ in range(max(1, int(schema.get("minItems", 1))))]
    if kind == "string":
        return _words(rng)[: int(schema.get("maxLength", 200))] or "x"
    if kind == "integer":
        return rng.randint(int(schema.get("minimum", 1)), int(schema.get("maximum", 999)))
    if kind == "number":
        return round(rng.uniform(float(schema.get("minimum", 1)), float(schema.get("maximum", 999))), 2)
    if kind == "boolean":
        return False
    return None


def respond(request: dict[str, Any]) -> Reply:
    """The answer to one request (same request, same answer)."""
    rng = _rng(request)
    messages = request.get("messages") or []
    system = str(messages[0].get("content") or "") if messages else ""
    fmt = request.get("response_format") or {}
    schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema")
    if system.startswith("You design realistic"):
        section = system.split("## Tools the assistant has", 1)[-1].split("\n## ", 1)[0]
        names = re.findall(r"^- (\w+):", section, re.MULTILINE)
        turns = [{"kind": "tool_call", "intent": f"sort out the {_words(rng)}", "tools": [n]}
                 for n in dict.fromkeys(names)]
        return Reply(content=json.dumps({"scenario": f"someone planning a {_words(rng, 3)}", "turns": turns}))
    if schema is not None:
        return Reply(content=json.dumps(value_for(schema, rng, schema)))
    return Reply(content=f"Here you are: {_words(rng)}.")


class DialogueServerProcess(FakeServerProcess):
    """The deterministic server in its own process (shared by a driver and its Ray workers)."""

    def __enter__(self) -> DialogueServerProcess:
        self.proc = subprocess.Popen([sys.executable, __file__, "--delay", str(self.delay)], stdout=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"dialogue server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self


def main() -> None:
    parser = argparse.ArgumentParser(description="deterministic dialogue server (prints 'PORT <n>')")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()

    async def serve() -> None:
        server = await FakeOpenAIServer(args.delay, responder=respond).start()
        print(f"PORT {server.port}", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
