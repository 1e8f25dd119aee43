"""The `synth` command end to end with the fake LLM injected through the factory hook."""

import json

import pytest
from click.testing import CliRunner
from fake_llm import FIXTURES, AutoLLM, fixture_tools

from toolflow.engine.api import llm as api_llm
from toolflow.engine.cli.synth import synth as synth_cmd
from toolflow.engine.sampling import DEFAULT_MAX_TOOLS, DEFAULT_MIN_TOOLS
from toolflow.engine.seeds import dialogue_id
from toolflow.engine.synth.jsonl import read_records
from toolflow.engine.synth.loop import models_of

TOOLS = str(FIXTURES / "tools.jsonl")
SAMPLES = str(FIXTURES / "samples.jsonl")


@pytest.fixture
def seen_options(monkeypatch):
    seen: list[dict] = []

    def factory(options):
        seen.append(options)
        return AutoLLM(fixture_tools(), fail_first=options.get("fail_first", 0))

    monkeypatch.setattr(api_llm, "LLM_FACTORY", factory)
    return seen


def invoke(*args):
    return CliRunner().invoke(synth_cmd, [*args, "--no-progress"], catch_exceptions=False)


def test_synth_writes_resumes_and_reports(tmp_path, seen_options):
    out = tmp_path / "d.jsonl"
    args = ["-n", "5", "--out", str(out), "--tools", TOOLS, "--samples", SAMPLES, "--seed", "3",
            "--model", "m-all", "--tool-model", "m-tool"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["kept"] == 5 and report["skipped"] == 0 and report["rejects"].endswith("d.rejects.jsonl")
    assert "synth run" in result.stderr and "tokens assistant" in result.stderr
    assert json.loads(result.stdout) == report  # stdout carries only the machine-readable line
    records = read_records(out)
    assert {r["id"] for r in records} == {dialogue_id(3, i) for i in range(5)}
    assert [r["sample"]["id"] for r in sorted(records, key=lambda r: r["meta"]["index"])] == [
        f"smp-{i:03d}" for i in range(5)]
    assert seen_options[0]["model"] == "m-all" and seen_options[0]["roles"]["tool"]["model"] == "m-tool"
    assert seen_options[0]["roles"]["planner"] == {"model": None, "base_url": None}

    again = invoke(*args)
    assert json.loads(again.output.strip().splitlines()[-1])["skipped"] == 5
    assert len(read_records(out)) == 5


def test_no_plan_and_random_combinations_without_samples(tmp_path, seen_options):
    out = tmp_path / "d.jsonl"
    result = invoke("-n", "2", "--out", str(out), "--tools", TOOLS, "--no-plan", "--turns", "2")
    assert result.exit_code == 0, result.output
    for r in read_records(out):
        assert r["plan"] is None and r["meta"]["plan"] is False
        assert r["sample"]["strategy"] == "file-random"
        assert DEFAULT_MIN_TOOLS <= len(r["sample"]["tool_ids"]) <= DEFAULT_MAX_TOOLS
        assert sum(m["role"] == "user" for m in r["messages"]) == 2


def test_shard_option(tmp_path, seen_options):
    out = tmp_path / "d.jsonl"
    result = invoke("-n", "6", "--out", str(out), "--tools", TOOLS, "--shard", "1/3")
    assert result.exit_code == 0, result.output
    assert sorted(r["meta"]["index"] for r in read_records(out)) == [1, 4]


def test_errors_exit_1_and_bad_options_are_usage_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(api_llm, "LLM_FACTORY", lambda options: AutoLLM(fixture_tools(), fail_first=100))
    out = tmp_path / "d.jsonl"
    result = invoke("-n", "1", "--out", str(out), "--tools", TOOLS, "--retries", "0")
    assert result.exit_code == 1
    assert json.loads(result.output.strip().splitlines()[-1])["errored"] == 1
    bad = invoke("-n", "1", "--out", str(out), "--tools", TOOLS, "--shard", "3/2")
    assert bad.exit_code == 2 and "shard" in bad.output
    # without --tools, combinations come from the graph: a store with no graph is a clear error
    missing = invoke("-n", "1", "--out", str(out), "--store", str(tmp_path / "no-graph"))
    assert missing.exit_code == 1 and "toolflow graph build" in missing.output
    # --samples (e.g. from `toolflow sample`) go with the store they were drawn from: the store is still needed
    with_samples = invoke("-n", "1", "--out", str(out), "--samples", TOOLS, "--store", str(tmp_path / "no-graph"))
    assert with_samples.exit_code == 1 and "toolflow graph build" in with_samples.output
    unknown = invoke("-n", "1", "--out", str(out), "--tools", TOOLS, "--strategy", "bogus")
    assert unknown.exit_code == 2 and "bogus" in unknown.output


def test_help_teaches_with_examples():
    text = CliRunner().invoke(synth_cmd, ["--help"]).output
    assert "Examples:" in text and "--shard 2/4" in text and "--no-plan" in text and "--tool-model" in text


def test_real_client_is_built_with_role_overrides(monkeypatch):
    monkeypatch.setattr(api_llm, "LLM_FACTORY", None)
    monkeypatch.setenv("TOOLFLOW_CACHE_DIR", "off")
    monkeypatch.setenv("TOOLFLOW_API_KEY", "sk-test")
    options = {"base_url": "http://127.0.0.1:9/v1", "model": "m-all", "temperature": 0.2,
               "roles": {"tool": {"model": "m-tool", "base_url": None}, "user": {"model": None, "base_url": None}}}
    with api_llm.open_llm(options) as llm:
        from toolflow.engine.llm.client import OpenAIClientLLM

        assert isinstance(llm, OpenAIClientLLM)
        assert llm.settings.for_role("tool").model == "m-tool"
        assert llm.settings.for_role("planner").base_url == "http://127.0.0.1:9/v1"
        assert llm.settings.for_role("user").temperature == 0.2
        assert models_of(llm)["tool"] == "m-tool" and models_of(llm)["assistant"] == "m-all"


def _strings_and_lists(schema, out):
    """(maxLength of every plain string, maxItems of every array) in a result schema."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and "enum" not in schema:
            out[0].append(schema.get("maxLength"))
        if schema.get("type") == "array":
            out[1].append(schema.get("maxItems"))
        for v in schema.values():
            _strings_and_lists(v, out)
    elif isinstance(schema, list):
        for v in schema:
            _strings_and_lists(v, out)
    return out


def _tool_schemas(tmp_path, monkeypatch, env: dict[str, str]) -> list[dict]:
    """The output schemas the tool agent asked for in a 3-dialogue run with `env` set, through the real
    settings and the production client's `result_limits` (the requests themselves answered by AutoLLM)."""
    from toolflow.engine.llm.client import OpenAIClientLLM

    monkeypatch.setenv("TOOLFLOW_CACHE_DIR", "off")
    monkeypatch.setenv("TOOLFLOW_API_KEY", "sk-test")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    schemas: list[dict] = []

    class Recording(AutoLLM):
        def __init__(self, real: OpenAIClientLLM) -> None:
            super().__init__(fixture_tools())
            self.real = real

        def result_limits(self):
            return self.real.result_limits()  # the production client's reading of the settings

        async def structured_json(self, role, messages, json_schema, **kw):
            if role == "tool":
                schemas.append(json_schema)
            return await super().structured_json(role, messages, json_schema, **kw)

    monkeypatch.setattr(api_llm, "LLM_FACTORY",
                        lambda options: Recording(OpenAIClientLLM(api_llm.llm_settings(options))))
    tmp_path.mkdir(exist_ok=True)
    result = invoke("-n", "3", "--out", str(tmp_path / "d.jsonl"), "--tools", TOOLS, "--samples", SAMPLES,
                    "--base-url", "http://127.0.0.1:9/v1", "--model", "m")
    assert result.exit_code == 0, result.output
    assert schemas
    return schemas


@pytest.mark.parametrize(("items", "chars"), [(3, 40), (1, 12)])
def test_result_caps_set_for_the_tool_role_reach_the_tool_agent(tmp_path, monkeypatch, items, chars):
    """TOOLFLOW_TOOL_RESULT_ITEMS / _CHARS on the command line → settings → the real client's result_limits →
    the run → every dialogue → the tool agent's output schema (the one a grammar backend enforces)."""
    schemas = _tool_schemas(tmp_path, monkeypatch, {
        "TOOLFLOW_TOOL_RESULT_ITEMS": str(items), "TOOLFLOW_TOOL_RESULT_CHARS": str(chars),
        "TOOLFLOW_TOOL_MAX_TOKENS": "4000"})  # room enough: the caps alone bound the result
    lengths, sizes = _strings_and_lists(schemas, ([], []))
    assert lengths and sizes
    assert all(n is not None and n <= chars for n in lengths), lengths  # no string beyond the cap
    assert chars in lengths and items in sizes and all(n is not None and n <= items for n in sizes), sizes


def test_the_tool_roles_token_limit_sizes_its_results(tmp_path, monkeypatch):
    from toolflow.engine.synth.agents.tool_sim import CHARS_PER_TOKEN, result_size

    roomy = _tool_schemas(tmp_path / "a", monkeypatch, {"TOOLFLOW_TOOL_RESULT_CHARS": "300",
                                                        "TOOLFLOW_TOOL_MAX_TOKENS": "4000"})
    tight = _tool_schemas(tmp_path / "b", monkeypatch, {"TOOLFLOW_TOOL_RESULT_CHARS": "300",
                                                        "TOOLFLOW_TOOL_MAX_TOKENS": "40"})
    assert max(result_size(s) for s in roomy) > 40 * CHARS_PER_TOKEN  # the caps alone allow more
    assert all(result_size(s) <= 40 * CHARS_PER_TOKEN for s in tight), [result_size(s) for s in tight]


@pytest.mark.parametrize("bad_line, field", [
    ('{"id": "b", "tool_ids": "search_hotels", "strategy": "x"}', "tool_ids"),
    ('{"id": "b", "tool_ids": ["search_hotels"]', "Invalid JSON"),
    ('{"id": "b", "tool_ids": ["search_hotels"]}', "strategy"),
])
def test_malformed_samples_file_is_a_one_line_error_naming_file_and_line(tmp_path, seen_options, bad_line, field):
    samples = tmp_path / "samples.jsonl"
    good = (FIXTURES / "samples.jsonl").read_text().splitlines()[0]
    samples.write_text(f"{good}\n\n{bad_line}\n{good}\n")  # the bad record is on line 3
    out = tmp_path / "d.jsonl"
    from toolflow.engine.cli import main

    store = tmp_path / "graph"
    built = CliRunner().invoke(main, ["graph", "build", TOOLS, "--store", str(store), "--embedder", "hashing"])
    assert built.exit_code == 0, built.output
    for source in (["--tools", TOOLS], ["--store", str(store)]):
        res = CliRunner().invoke(synth_cmd, ["-n", "2", "--out", str(out), *source, "--samples", str(samples),
                                                   "--no-progress"])
        assert res.exit_code == 1, res.output
        assert res.output.startswith("Error: ") and res.output.count("\n") == 1, res.output  # one line
        assert f"{samples}:3: not a sample record" in res.output and field in res.output
        assert "Traceback" not in res.output and "errors.pydantic.dev" not in res.output
    assert not out.exists() and seen_options == [], "nothing ran"


def test_intent_only_ablation_and_checks_as_flags(tmp_path, seen_options):
    out = tmp_path / "d.jsonl"
    base = ["-n", "3", "--tools", TOOLS, "--samples", SAMPLES, "--seed", "3"]
    result = invoke(*base, "--out", str(out), "--intent-only")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    rejected = read_records(tmp_path / "d.rejects.jsonl")
    # the fake assistant invents values ("value-123"): rejected unless the check is only a flag
    assert report["kept"] == 0 and all(any(r.startswith("argument_not_sourced") for r in d["checks"]["failed"])
                                       for d in rejected)
    flagged = tmp_path / "f.jsonl"
    result = invoke(*base, "--out", str(flagged), "--intent-only", "--flag-only", "argument_not_sourced")
    kept = read_records(flagged)
    assert len(kept) == 3 and all(d["meta"]["blueprint"] is False for d in kept)
    assert all(any(f.startswith("argument_not_sourced") for f in d["checks"]["flags"]) for d in kept)
    grounded = tmp_path / "g.jsonl"
    invoke(*base, "--out", str(grounded))
    kept = read_records(grounded)
    assert len(kept) == 3 and all(d["meta"]["blueprint"] is True and d["plan"]["turns"][0]["calls"] for d in kept)
