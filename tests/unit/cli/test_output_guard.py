"""One writer per output, one job per file, and one-line messages instead of tracebacks (synth, export)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_llm import FIXTURES, AutoLLM, fixture_tools

from toolflow.engine.api import llm as api_llm
from toolflow.engine.cli import export as cli_export
from toolflow.engine.cli.synth import synth as synth_cmd
from toolflow.engine.synth.guard import JobLock, job_path
from toolflow.engine.synth.jsonl import iter_records, read_records

TOOLS = FIXTURES / "tools.jsonl"
SAMPLES = FIXTURES / "samples.jsonl"


@pytest.fixture(autouse=True)
def fake_llm(monkeypatch):
    monkeypatch.setattr(api_llm, "LLM_FACTORY", lambda options: AutoLLM(fixture_tools()))


def synth(*args: str):
    return CliRunner().invoke(synth_cmd, [*args, "--no-progress"])


def base(out: Path, *extra: str) -> list[str]:
    return ["-n", "3", "--out", str(out), "--tools", str(TOOLS), "--samples", str(SAMPLES), *extra]


def one_line_error(result) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output, result.output
    lines = [x for x in result.output.strip().splitlines() if x.strip()]
    assert lines, "no message"
    return lines[-1]


def test_a_second_writer_of_the_same_output_is_refused(tmp_path):
    out = tmp_path / "d.jsonl"
    with JobLock(out):
        msg = one_line_error(synth(*base(out)))
    assert "another run is writing" in msg and not out.exists()
    assert synth(*base(out)).exit_code == 0  # the lock is gone with its holder
    assert len(read_records(out)) == 3


def test_resume_with_other_settings_is_refused_unless_forced(tmp_path):
    out = tmp_path / "d.jsonl"
    assert synth(*base(out)).exit_code == 0
    stored = json.loads(job_path(out).read_text())
    assert stored["plan"] is True and stored["seed"] == 0 and len(stored["samples"]) == 3
    msg = one_line_error(synth(*base(out, "--no-plan", "-n", "4")))
    assert "another job" in msg and "plan" in msg
    other_samples = tmp_path / "s.jsonl"
    other_samples.write_text("".join(reversed(SAMPLES.read_text().splitlines(keepends=True))))
    msg = one_line_error(synth("-n", "4", "--out", str(out), "--tools", str(TOOLS), "--samples", str(other_samples),
                               "--no-progress"))
    assert "tool combinations" in msg
    assert len(read_records(out)) == 3  # nothing was written by the refused runs
    same_job_more = synth(*base(out, "-n", "4"))  # a larger n is the same job, extended
    assert same_job_more.exit_code == 0 and len(read_records(out)) == 4
    forced = synth(*base(out, "--no-plan", "-n", "5", "--force"))
    rejects = out.with_name("d.rejects.jsonl")
    assert forced.exit_code == 0 and len(read_records(out)) + len(read_records(rejects)) == 5


def test_outputs_that_would_mix_with_other_files_are_refused(tmp_path):
    out = tmp_path / "d.jsonl"
    msg = one_line_error(synth(*base(out, "--rejects", str(out))))
    assert "same file" in msg
    tools_copy = tmp_path / "tools.jsonl"
    tools_copy.write_bytes(TOOLS.read_bytes())
    before = tools_copy.read_bytes()
    msg = one_line_error(synth("-n", "2", "--out", str(tools_copy), "--tools", str(tools_copy), "--no-progress"))
    assert "input of this job" in msg and tools_copy.read_bytes() == before


def test_non_regular_and_unwritable_outputs_fail_in_one_line(tmp_path):
    msg = one_line_error(synth(*base(Path("/dev/full"))))
    assert "not a regular file" in msg
    blocker = tmp_path / "file"
    blocker.write_text("x")
    msg = one_line_error(synth(*base(blocker / "d.jsonl")))
    assert "cannot write" in msg or "Not a directory" in msg


def test_bad_option_and_environment_values_are_named(tmp_path, monkeypatch):
    out = tmp_path / "d.jsonl"
    bad_turns = synth(*base(out, "--turns", "x-2"))
    assert bad_turns.exit_code == 2 and "turns" in bad_turns.output and "Traceback" not in bad_turns.output
    monkeypatch.setattr(api_llm, "LLM_FACTORY", None)  # the real settings path
    monkeypatch.setenv("TOOLFLOW_TEMPERATURE", "abc")
    msg = one_line_error(synth(*base(out)))
    assert "TOOLFLOW_TEMPERATURE" in msg and "abc" in msg


def test_a_broken_samples_file_names_file_and_line(tmp_path):
    bad = tmp_path / "samples.jsonl"
    lines = SAMPLES.read_text().splitlines()
    bad.write_text("\n".join([lines[0], '{"id": "x"}', *lines[1:]]) + "\n")
    msg = one_line_error(synth("-n", "2", "--out", str(tmp_path / "d.jsonl"), "--tools", str(TOOLS), "--samples",
                               str(bad), "--no-progress"))
    assert f"{bad}:2" in msg


def test_resume_reads_the_output_as_a_stream(tmp_path):
    out = tmp_path / "d.jsonl"
    out.write_text('{"id": "a"}\nnot json\n{"id": "b"}\n{"id": "c"')  # a bad line and a torn last line
    records = iter_records(out)
    assert next(records) == {"id": "a"}  # lazy: the rest is not read yet
    assert [r["id"] for r in records] == ["b"]
    assert out.read_text() == '{"id": "a"}\nnot json\n{"id": "b"}\n'  # only the torn tail was cut


def test_export_skips_and_reports_what_it_cannot_convert(tmp_path):
    src = tmp_path / "d.jsonl"
    assert synth(*base(src)).exit_code == 0
    with src.open("a") as f:
        f.write('{"id": "no-messages", "tools": []}\n')
        f.write("{broken\n")
    target = tmp_path / "train.jsonl"
    result = CliRunner().invoke(cli_export.export_cmd, [str(src), "--format", "openai", "--out", str(target)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["written"] == 3 and summary["skipped"] == 2
    assert "no-messages: no messages" in result.stderr and "line 5" in result.stderr
    assert len(target.read_text().splitlines()) == 3


def test_export_to_a_directory_is_one_line_and_leaves_nothing(tmp_path):
    src = tmp_path / "d.jsonl"
    assert synth(*base(src)).exit_code == 0
    folder = tmp_path / "folder"
    folder.mkdir()
    result = CliRunner().invoke(cli_export.export_cmd, [str(src), "--format", "sharegpt", "--out", str(folder)])
    assert "is a directory" in one_line_error(result)
    assert list(folder.iterdir()) == [] and not list(tmp_path.glob("*.tmp"))
