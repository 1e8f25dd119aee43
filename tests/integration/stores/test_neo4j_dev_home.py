"""`neo4j-dev` honours NEO4J_DEV_HOME (issue 20): the build output and the default data and run dirs go there,
never into the repository's devserver/neo4j/target (a read-only or shared checkout stays clean).

A stand-in `mvn` on PATH records what the script asks of it and writes the jar where it was told, so the
test needs no JDK build; the real build honours the same property (pom.xml: devserver.build.dir).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from neo4j_server import DEV_SCRIPT

FAKE_MVN = """#!/usr/bin/env bash
echo "$PWD $*" >> "$FAKE_MVN_LOG"
for a in "$@"; do case "$a" in -Ddevserver.build.dir=*) dir="${a#-Ddevserver.build.dir=}";; esac; done
mkdir -p "${dir:?no -Ddevserver.build.dir}/lib" && touch "$dir/neo4j-devserver.jar"
"""


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "mvn").write_text(FAKE_MVN)
    (bin_dir / "mvn").chmod(0o755)
    full = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_MVN_LOG": str(tmp_path / "mvn.log"),
            **env}
    for name in ("NEO4J_DEV_DATA", "NEO4J_DEV_RUN"):
        full.pop(name, None)
    return subprocess.run([str(DEV_SCRIPT), *args], env=full, capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)


def test_build_goes_under_neo4j_dev_home(tmp_path):
    repo_target = DEV_SCRIPT.parent / "target"
    before = sorted(p.name for p in repo_target.iterdir()) if repo_target.exists() else []
    res = _run(tmp_path, "build", NEO4J_DEV_HOME="home")  # relative: under the caller's directory
    assert res.returncode == 0, res.stderr
    home = tmp_path / "home"
    assert (home / "target" / "neo4j-devserver.jar").exists() and (home / "target" / "lib").is_dir()
    assert f"-Ddevserver.build.dir={home / 'target'}" in (tmp_path / "mvn.log").read_text()
    after = sorted(p.name for p in repo_target.iterdir()) if repo_target.exists() else []
    assert after == before
    again = _run(tmp_path, "build", NEO4J_DEV_HOME=str(home))  # up to date: no second build
    assert again.returncode == 0 and len((tmp_path / "mvn.log").read_text().splitlines()) == 1


def test_run_dir_defaults_under_neo4j_dev_home(tmp_path):
    home = tmp_path / "home"
    (home / "target").mkdir(parents=True)
    pid_file = home / "target" / "neo4j-dev.pid"
    pid_file.write_text("999999999\n")  # a server that is no longer running
    res = _run(tmp_path, "stop", NEO4J_DEV_HOME=str(home))
    assert res.returncode == 0 and "pid 999999999 not alive; cleaning up" in res.stderr, res.stderr
    assert not pid_file.exists()
