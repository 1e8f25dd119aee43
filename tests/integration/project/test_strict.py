"""No silent skips under the test command: a missing optional package fails there, skips elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from strict import import_or_require, require, strict

REPO = Path(__file__).resolve().parents[3]
MISSING = "toolflow_no_such_package_for_tests"


def test_missing_package_fails_when_strict(monkeypatch):
    monkeypatch.setenv("TOOLFLOW_TEST_STRICT", "1")
    with pytest.raises(pytest.fail.Exception, match=MISSING):
        require(MISSING)
    with pytest.raises(pytest.fail.Exception, match=MISSING):
        import_or_require(f"{MISSING}.sub")


def test_ci_is_strict_too(monkeypatch):
    monkeypatch.delenv("TOOLFLOW_TEST_STRICT", raising=False)
    monkeypatch.setenv("CI", "true")
    assert strict()
    with pytest.raises(pytest.fail.Exception):
        require(MISSING)


def test_missing_package_skips_in_a_quick_local_run(monkeypatch):
    monkeypatch.delenv("TOOLFLOW_TEST_STRICT", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert not strict()
    with pytest.raises(pytest.skip.Exception, match=MISSING):
        require(MISSING)
    assert import_or_require("json").dumps([1]) == "[1]"


def test_the_readme_test_command_is_strict(tmp_path):
    """scripts/test.sh (and so .ci/run) runs pytest with TOOLFLOW_TEST_STRICT set: run its own
    environment up to the pytest line against a test that needs a missing package; it must fail."""
    script = (REPO / "scripts" / "test.sh").read_text()
    assert "scripts/test.sh" in (REPO / ".ci" / "run").read_text()
    # the script's lines before its install/pytest steps: the environment it sets up
    setup = "\n".join(line for line in script.splitlines() if line.startswith(("export ", "set ")))
    probe = tmp_path / "test_probe.py"
    probe.write_text(f"from strict import require\n\ndef test_needs_it():\n    require({MISSING!r})\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TOOLFLOW_TEST_STRICT")}
    env["PYTHONPATH"] = str(REPO / "tests" / "support")
    cmd = f'{setup}\n"{sys.executable}" -m pytest -q -p no:cacheprovider --rootdir "{tmp_path}" "{probe}"'
    res = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env,
                         cwd=REPO, timeout=120)
    assert res.returncode == 1 and "1 failed" in res.stdout, res.stdout + res.stderr
    assert "skipped" not in res.stdout
