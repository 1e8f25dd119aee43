"""`toolflow sample` through click's runner, on an embedded store."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from sampling_graphs import mixed_graph

from toolflow.engine.cli.sample import sample
from toolflow.engine.sampling import read_samples
from toolflow.engine.stores.ladybug_store import LadybugStore


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("lb-cli")
    with LadybugStore(path) as s:
        s.write_graph(mixed_graph())
    return str(path)


def run(*args: str):
    return CliRunner().invoke(sample, list(args), catch_exceptions=False)


def test_sample_writes_jsonl(store_dir, tmp_path):
    out = tmp_path / "s.jsonl"
    res = run("-n", "25", "--seed", "4", "--min-tools", "3", "--max-tools", "4", "--out", str(out), "--store", store_dir)
    assert res.exit_code == 0, res.output
    samples = read_samples(out)
    assert len(samples) == 25 and all(3 <= len(s.tool_ids) <= 4 for s in samples)
    assert samples[0].id == "walk-4-000000"
    again = tmp_path / "again.jsonl"
    res = run("-n", "25", "--seed", "4", "--min-tools", "3", "--max-tools", "4", "--out", str(again), "--store", store_dir)
    assert res.exit_code == 0, res.output
    assert again.read_bytes() == out.read_bytes()


def test_strategy_types_and_stdout(store_dir):
    res = run("-n", "5", "--strategy", "category", "--out", "-", "--store", store_dir)
    assert res.exit_code == 0
    lines = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    assert len(lines) == 5 and all(x["strategy"] == "category" for x in lines)
    res = run("-n", "30", "--types", "shares_input", "--out", "-", "--store", store_dir)
    assert res.exit_code == 0, res.output
    types = {e["type"] for x in res.stdout.splitlines() if x.startswith("{") for e in json.loads(x)["edges"]}
    assert types <= {"SHARES_INPUT", "JUMP"} and "SHARES_INPUT" in types


def test_report_json(store_dir):
    res = run("--report", "--json", "-n", "100", "--store", store_dir)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    keys = {"feeds_pair_share", "chain_share", "mean_similarity", "coverage", "gini", "distinct_combinations"}
    assert set(data) == {"walk", "random", "category"}
    assert all(keys <= set(v) for v in data.values())
    assert data["walk"]["feeds_pair_share"] > data["random"]["feeds_pair_share"]


def test_report_table(store_dir):
    res = run("--report", "-n", "50", "--store", store_dir)
    assert res.exit_code == 0
    assert "FEEDS between consecutive tools" in res.stdout and "category" in res.stdout
    assert "SHARES_INPUT between consecutive tools" in res.stdout and "FEEDS weight" in res.stdout


def test_feeds_weight_option_reaches_the_walk(store_dir):
    plain = json.loads(run("--report", "--json", "-n", "400", "--feeds-weight", "1", "--store", store_dir).stdout)
    heavy = json.loads(run("--report", "--json", "-n", "400", "--feeds-weight", "10", "--store", store_dir).stdout)
    auto = json.loads(run("--report", "--json", "-n", "400", "--store", store_dir).stdout)
    assert plain["walk"]["feeds_weight"] == 1.0 and heavy["walk"]["feeds_weight"] == 10.0
    assert auto["walk"]["feeds_weight"] >= 1.0
    assert heavy["walk"]["feeds_pair_share"] > plain["walk"]["feeds_pair_share"]
    assert plain["random"] == heavy["random"]  # the baselines do not take the weight


@pytest.mark.parametrize(
    "args, message",
    [
        (["--json"], "--json goes with --report"),
        (["--strategy", "random", "--coverage"], "walk only"),
        (["--min-tools", "4", "--max-tools", "2"], "larger than"),
        (["--types", "CALLS"], "relationship types"),
        (["--feeds-weight", "heavy"], "expected 'auto' or a number > 0"),
        (["--feeds-weight", "0"], "expected 'auto' or a number > 0"),
        (["--strategy", "random", "--feeds-weight", "3"], "walk only"),
    ],
)
def test_usage_errors(store_dir, args, message):
    res = CliRunner().invoke(sample, [*args, "--store", store_dir, "--out", "-"])
    assert res.exit_code == 2 and message in res.output


def test_missing_store(tmp_path):
    res = CliRunner().invoke(sample, ["--store", str(tmp_path / "nothing"), "--out", "-"])
    assert res.exit_code == 1 and "no graph at" in res.output


def test_module_help():
    res = subprocess.run([sys.executable, "-m", "toolflow.engine.cli.sample", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "--strategy" in res.stdout and "--report" in res.stdout
