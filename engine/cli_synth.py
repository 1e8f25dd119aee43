"""`synth` and `export` click commands (registered in the main CLI by the lead; runnable standalone:
``python -m toolflow.engine.cli_synth synth --help``).

Seams for tests and later wiring:
- ``LLM_FACTORY``: when set, ``LLM_FACTORY(options) -> LLM`` replaces the real client (tests inject fakes);
- ``open_source(...)``: builds the SampleSource; today from files, later also from a graph store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from toolflow.engine.llm.base import LLM
from toolflow.engine.models import Sample, Tool
from toolflow.engine.run import (
    RunConfig,
    SampleSource,
    parse_shard,
    parse_turns,
    run_synthesis,
    summary_table,
)
from toolflow.engine.stores.base import GraphStore

#: Test hook: a callable taking the LLM options dict and returning an LLM. None = the real client.
LLM_FACTORY: Callable[[dict[str, Any]], LLM] | None = None

AGENT_ROLES = ("planner", "user", "assistant", "tool")


# --- the file-backed SampleSource ----------------------------------------------------------------

def _read_tool_records(path: Path) -> list[Tool] | None:
    """The file as JSONL of Tool records (e.g. dumped from a graph store), or None if it is not that."""
    tools = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    tools.append(Tool.model_validate_json(line))
    except (ValueError, UnicodeDecodeError):
        return None
    return tools or None


def load_tool_file(path: Path) -> list[Tool]:
    """Tools from a JSONL of Tool records (ids kept as they are), else via `toolflow.loaders.load_tools`
    (any supported format, format detected from the content)."""
    tools = _read_tool_records(path)
    if tools is not None:
        return tools
    from toolflow.loaders import load_tools

    return list(load_tools(path).tools)


def load_sample_file(path: Path) -> list[Sample]:
    with open(path, encoding="utf-8") as f:
        return [Sample.model_validate_json(line) for line in f if line.strip()]


class FileSampleSource:
    """SampleSource over a tools file and, optionally, a samples file.

    With samples: the i-th record is sample i (at most n). Without: sample i is a reproducible random
    combination of `combo` tools drawn with Random(seed, i) — a stand-in until the graph sampler is wired.
    Sample `tool_ids` may name tools by id or, for hand-written files, by function name.
    """

    def __init__(self, tools: list[Tool], samples: list[Sample] | None = None, combo: tuple[int, int] = (2, 3)):
        if not tools:
            raise ValueError("no tools to synthesize with")
        self._tools = tools
        self._by_key: dict[str, Tool] = {t.name: t for t in tools} | {t.id: t for t in tools}
        self._samples = samples
        self._combo = combo

    @classmethod
    def from_paths(cls, tools: Path, samples: Path | None = None) -> FileSampleSource:
        return cls(load_tool_file(tools), load_sample_file(samples) if samples else None)

    def samples(self, n: int, seed: int, strategy: str) -> Iterator[Sample]:
        if self._samples is not None:
            yield from self._samples[:n]
            return
        ids = [t.id for t in self._tools]
        for i in range(n):
            rng = random.Random(f"{seed}:{i}:sample")
            k = min(len(ids), rng.randint(*self._combo))
            yield Sample(id=f"rnd-{seed}-{i}", tool_ids=rng.sample(ids, k), strategy="file-random", seed=seed)

    def tools(self, ids: Sequence[str]) -> list[Tool]:
        return [self._by_key[i] for i in ids]


class StoreSampleSource:
    """SampleSource over the tool graph: combinations from the graph sampler, tool schemas from the store.

    The sampler is asked for the whole job (n, seed) at once, so sample i is the same on every rerun and shard.
    """

    def __init__(self, store: GraphStore, min_tools: int = 2, max_tools: int = 4) -> None:
        self.store = store
        self._min, self._max = min_tools, max_tools

    def samples(self, n: int, seed: int, strategy: str) -> Iterator[Sample]:
        from toolflow.engine.sampling import make_sampler

        yield from make_sampler(strategy, self.store, min_tools=self._min, max_tools=self._max).sample(n, seed)

    def tools(self, ids: Sequence[str]) -> list[Tool]:
        return self.store.get_tools(list(ids))


def open_source(tools: Path | None, samples: Path | None, store: GraphStore | None) -> SampleSource:
    """Tools from a file when --tools is given, otherwise combinations sampled from the graph store."""
    if tools is not None:
        return FileSampleSource.from_paths(tools, samples)
    if store is None:
        raise click.UsageError("give --tools FILE or a graph (--store, built with `toolflow graph build`)")
    return StoreSampleSource(store)


# --- LLM construction -------------------------------------------------------------------------------

@contextlib.contextmanager
def open_llm(options: dict[str, Any]) -> Iterator[LLM]:
    """The LLM for a run: the test hook, or OpenAIClientLLM from env settings + CLI overrides
    (starting the embedded local server when a role has no endpoint)."""
    if LLM_FACTORY is not None:
        yield LLM_FACTORY(options)
        return
    from toolflow.engine.llm.client import OpenAIClientLLM
    from toolflow.engine.llm.local_server import ensure_endpoint
    from toolflow.engine.llm.settings import LLMSettings, RoleSettings

    shared = {k: options[k] for k in ("base_url", "model", "temperature") if options.get(k) is not None}
    settings = LLMSettings.from_env(**shared)
    roles = dict(settings.roles)
    for role, over in (options.get("roles") or {}).items():
        vals = {k: v for k, v in over.items() if v is not None}
        if vals:
            roles[role] = RoleSettings(**{**roles.get(role, RoleSettings()).model_dump(), **vals})
    settings = settings.model_copy(update={"roles": roles})
    with ensure_endpoint(settings) as ready:
        yield OpenAIClientLLM(ready)


async def _run(llm: LLM, source: SampleSource, config: RunConfig, console: Console, progress: bool):
    try:
        return await run_synthesis(llm, source, config, console=console, show_progress=progress)
    finally:
        aclose = getattr(llm, "aclose", None)
        if callable(aclose):
            await aclose()


def _role_options(f: Callable) -> Callable:
    for role in reversed(AGENT_ROLES):
        f = click.option(f"--{role}-base-url", default=None, help=f"Endpoint for the {role} agent only.")(f)
        f = click.option(f"--{role}-model", default=None, help=f"Model for the {role} agent only.")(f)
    return f


@click.command("synth")
@click.option("-n", "n", type=int, required=True, help="Dialogues in the whole job (all shards together).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Kept dialogues, JSONL, appended to (and resumed from).")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Rejected dialogues with reasons. Default: <out>.rejects.jsonl beside --out.")
@click.option("--tools", "tools_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Tool definitions (any format `toolflow` loads, or JSONL of Tool records).")
@click.option("--samples", "samples_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Sampled tool combinations (JSONL of Sample records). Without it: random combinations.")
@click.option("--store", "store", default=None,
              help="Graph to sample from when --tools is not given: a Bolt URI or a directory (default: "
                   "$TOOLFLOW_STORE or the user data dir, where `toolflow graph build` writes).")
@click.option("--strategy", default="walk", show_default=True,
              help="How tool combinations are drawn: walk (graph random walk), random (the paper's −Graph "
                   "ablation) or category.")
@click.option("--no-plan", is_flag=True, help="Ablation '−Plan': no planner, the user improvises turn by turn.")
@click.option("--seed", type=int, default=0, show_default=True, help="Job seed: fixes dialogue ids and sampling.")
@click.option("--concurrency", type=int, default=4, show_default=True, help="Dialogues in flight at once.")
@click.option("--turns", default="3-5", show_default=True, help="Planned user turns per dialogue: N or LOW-HIGH.")
@click.option("--max-turns", type=int, default=8, show_default=True, help="Hard cap on user turns.")
@click.option("--max-steps", type=int, default=6, show_default=True,
              help="Assistant messages per user turn before the dialogue is cut (and rejected).")
@click.option("--shard", default="0/1", show_default=True, help="Run part i of n: the indices with index % n == i.")
@click.option("--retries", type=int, default=1, show_default=True, help="Extra attempts for a dialogue that errors.")
@click.option("--base-url", default=None, help="OpenAI-compatible endpoint for all roles (else env/local model).")
@click.option("--model", default=None, help="Model for all roles (else TOOLFLOW_MODEL / local model).")
@click.option("--temperature", type=float, default=None, help="Sampling temperature for all roles.")
@_role_options
@click.option("--progress/--no-progress", default=True, help="Show the progress bar.")
def synth(**opts: Any) -> None:
    """Synthesize multi-turn tool-calling dialogues.

    For each sampled tool combination a planner drafts the dialogue, then a simulated user, the
    assistant (OpenAI tool_calls) and a simulated tool play it out. Dialogues that fail the checks go
    to the rejects file with their reasons. Rerunning the same command continues where it stopped.

    \b
    Examples:
      # 100 dialogues over random tool combinations, model from the environment
      toolflow synth -n 100 --tools tools.jsonl --out data/dialogues.jsonl
      # sampled combinations, an OpenAI-compatible server, a cheaper model for the tool role
      toolflow synth -n 1000 --tools tools.jsonl --samples samples.jsonl --out d.jsonl \\
            --base-url http://localhost:8000/v1 --model qwen2.5-7b --tool-model qwen2.5-1.5b
      # 4 machines, one shard each (same -n and --seed everywhere)
      toolflow synth -n 10000 --tools tools.jsonl --out d.2.jsonl --shard 2/4
      # the paper's -Plan ablation
      toolflow synth -n 200 --tools tools.jsonl --out noplan.jsonl --no-plan

    Credentials and per-role settings come from the environment (TOOLFLOW_API_KEY or OPENAI_API_KEY,
    TOOLFLOW_<ROLE>_MODEL, ...). Exit status 1 means some dialogues errored: rerun to retry them.
    """
    console = Console(stderr=True)
    try:
        config = RunConfig(
            n=opts["n"], out=opts["out"], rejects=opts["rejects"], seed=opts["seed"], strategy=opts["strategy"],
            plan=not opts["no_plan"], turns=parse_turns(opts["turns"]), max_turns=opts["max_turns"],
            max_steps=opts["max_steps"], concurrency=opts["concurrency"], shard=parse_shard(opts["shard"]),
            retries=opts["retries"],
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    store = None
    if opts["tools_path"] is None:
        from toolflow.engine.stores import open_store

        if opts["samples_path"] is not None:
            raise click.UsageError("--samples needs --tools (the file the samples' tool ids refer to)")
        if opts["strategy"] not in ("walk", "random", "category"):
            raise click.UsageError("with a graph store, --strategy is walk, random or category")
        try:
            store = open_store(opts["store"], read_only=True)
        except (FileNotFoundError, ConnectionError) as exc:
            raise click.ClickException(str(exc)) from exc
    source = open_source(opts["tools_path"], opts["samples_path"], store)
    llm_options = {
        "base_url": opts["base_url"], "model": opts["model"], "temperature": opts["temperature"],
        "roles": {r: {"model": opts[f"{r}_model"], "base_url": opts[f"{r}_base_url"]} for r in AGENT_ROLES},
    }
    try:
        with open_llm(llm_options) as llm:
            summary = asyncio.run(_run(llm, source, config, console, opts["progress"]))
    finally:
        if store is not None:
            store.close()
    console.print(summary_table(summary))
    click.echo(json.dumps({"kept": summary.kept, "rejected": summary.rejected_total,
                           "errored": sum(summary.errors.values()), "skipped": summary.skipped,
                           "out": str(config.out), "rejects": str(config.rejects_path)}))
    if summary.errors:
        sys.exit(1)


@click.command("export")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["openai", "sharegpt", "hf", "retrieval"]), default="openai",
              show_default=True, help="Target format.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Output JSONL file (openai, sharegpt, retrieval) or folder (hf).")
@click.option("--store", "store_spec", default=None,
              help="retrieval only: the graph the dialogues were sampled from (Bolt URI or directory).")
def export_cmd(src: Path, fmt: str, out: Path, store_spec: str | None) -> None:
    """Convert kept dialogues (the JSONL `synth` writes) to a training format.

    \b
    Formats:
      openai    one {"messages": [...], "tools": [...]} per line (OpenAI fine-tuning, TRL, axolotl)
      sharegpt  LLaMA-Factory sharegpt: conversations with human/gpt/function_call/observation,
                "system", and "tools" as a JSON string. dataset_info.json entry:
                {"file_name": "d.sharegpt.jsonl", "formatting": "sharegpt",
                 "columns": {"messages": "conversations", "system": "system", "tools": "tools"}}
      hf        a Hugging Face `datasets` folder (save_to_disk); load with datasets.load_from_disk.
                Columns: id, messages, tools (JSON string), sample_id, meta (JSON string).
      retrieval retriever training pairs (needs --store): anchor (user request), positive (a tool called
                for it), negative (a SIMILAR tool not called), plus ids; see engine/retrieval/training_pairs.py.

    \b
    Examples:
      toolflow export data/dialogues.jsonl --format openai --out train.jsonl
      toolflow export data/dialogues.jsonl --format sharegpt --out llamafactory/data/toolflow.jsonl
      toolflow export data/dialogues.jsonl --format hf --out data/toolflow_hf
    """
    from toolflow.engine.export import ExportError, export

    if fmt == "retrieval":
        from toolflow.engine.retrieval.training_pairs import export_from_file

        try:
            report = export_from_file(src, store_spec, out)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(json.dumps({**report, "format": fmt, "out": str(out)}))
        return
    try:
        count = export(src, fmt, out)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps({"written": count, "format": fmt, "out": str(out)}))


@click.group()
def main() -> None:
    """ToolFlow synthesis commands (standalone entry point; the main `toolflow` CLI registers the same)."""


main.add_command(synth)
main.add_command(export_cmd)

if __name__ == "__main__":
    main()
