"""Real Neo4j for the test suite: use ``NEO4J_URI`` or start the embedded dev server.

The dev server (``devserver/neo4j/neo4j-dev``) runs the genuine Neo4j Community engine in a JVM.
When this module starts it, it gets a free port, a temporary data dir and its own pid/log dir, so it
never touches a developer's server on 7687. It runs with auth disabled unless ``NEO4J_DEV_AUTH=true``;
with auth disabled Neo4j accepts any credentials, so the driver may always send
``NEO4J_USER``/``NEO4J_PASSWORD`` (defaults ``neo4j``/``password``).
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from neo4j import Driver

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_SCRIPT = REPO_ROOT / "devserver" / "neo4j" / "neo4j-dev"
# Covers a first build that downloads Neo4j's jars, plus the script's own 180 s wait for Bolt.
START_TIMEOUT_S = float(os.environ.get("NEO4J_DEV_START_TIMEOUT", "900"))


#: URI schemes that reach a Neo4j server (anything else would open the embedded store instead).
BOLT_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def require_bolt_uri(uri: str) -> str:
    """`uri` when it names a Neo4j server; ValueError otherwise, so a NEO4J_URI that is a directory (or a
    typo) cannot silently run the "Neo4j" tests on the embedded store."""
    if not uri.startswith(BOLT_SCHEMES):
        raise ValueError(f"NEO4J_URI must be a bolt:// or neo4j:// URI of a real Neo4j server, got {uri!r}")
    return uri


def open_neo4j_store(uri: str):
    """`open_store(uri)`, asserted to be the Neo4j store (dialect and class), never the embedded one."""
    from toolflow.engine.stores import open_store
    from toolflow.engine.stores.neo4j_store import Neo4jStore

    store = open_store(require_bolt_uri(uri))
    if not (isinstance(store, Neo4jStore) and store.dialect == "neo4j"):
        store.close()
        raise AssertionError(f"open_store({uri!r}) gave {type(store).__name__} ({store.dialect}), not Neo4j")
    return store


class Neo4jServerError(RuntimeError):
    """The dev server could not be started; the message carries the script output and log tail."""


def credentials() -> tuple[str, str]:
    """User and password the driver sends (``NEO4J_USER``/``NEO4J_PASSWORD``, default neo4j/password)."""
    return os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", "password")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


@dataclass
class DevServer:
    """A dev server started by :func:`start_dev_server`."""

    uri: str
    base_dir: Path
    env: dict[str, str]
    start_seconds: float

    @property
    def log_file(self) -> Path:
        return self.base_dir / "run" / "neo4j-dev.log"

    def log_tail(self, lines: int = 40) -> str:
        """Last lines of the server log."""
        return _tail(self.log_file, lines)

    def stop(self) -> None:
        """Stop the server (TERM, then KILL after the script's timeout)."""
        subprocess.run([str(DEV_SCRIPT), "stop"], env=self.env, capture_output=True, text=True, timeout=180)


def start_dev_server(base_dir: Path) -> DevServer:
    """Start a private dev server under ``base_dir`` on a free port; raise :class:`Neo4jServerError` on failure."""
    base_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "NEO4J_DEV_PORT": "0",
        "NEO4J_DEV_DATA": str(base_dir / "data"),
        "NEO4J_DEV_RUN": str(base_dir / "run"),
    }
    log = base_dir / "run" / "neo4j-dev.log"
    if not os.access(DEV_SCRIPT, os.X_OK):
        raise Neo4jServerError(f"{DEV_SCRIPT} is missing or not executable")
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            [str(DEV_SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=START_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        subprocess.run([str(DEV_SCRIPT), "stop"], env=env, capture_output=True, timeout=180)
        raise Neo4jServerError(
            f"'{DEV_SCRIPT} start' did not finish within {START_TIMEOUT_S:.0f}s\n"
            f"stderr:\n{exc.stderr!s}\nlog tail:\n{_tail(log)}"
        ) from exc
    lines = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines or not lines[-1].startswith("bolt://"):
        raise Neo4jServerError(
            f"'{DEV_SCRIPT} start' failed (exit {proc.returncode})\n"
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-8000:]}"
            + ("" if "---- last lines of" in proc.stderr else f"\nlog tail:\n{_tail(log)}")
        )
    return DevServer(uri=lines[-1], base_dir=base_dir, env=env, start_seconds=time.monotonic() - t0)


def open_driver(uri: str) -> Driver:
    """A driver for ``uri`` with :func:`credentials`, connectivity verified."""
    from neo4j import GraphDatabase

    driver = GraphDatabase.driver(uri, auth=credentials())
    try:
        driver.verify_connectivity()
    except Exception:
        driver.close()
        raise
    return driver
