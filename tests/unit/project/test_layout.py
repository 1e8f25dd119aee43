"""The test layout stays as docs/testing.md describes it: tests mirror the packages, unit tests stay unit.

- no test file directly in tests/ (or in tests/unit, tests/integration): each sits in the folder of the
  package it tests, tests/unit/<package>/ or tests/integration/<package>/;
- every folder of tests is a Python package, so two test files of one name never collide;
- every package has unit tests (a new package without any fails here);
- a unit test file uses no server, model or subprocess (what makes `scripts/test.sh unit` fast).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TESTS = REPO / "tests"
SUITES = ("unit", "integration")
#: folders that are not packages of the code: repo tooling (scripts/, the test setup itself)
EXTRA_FOLDERS = {"project"}
#: what only an integration test may use: Neo4j, servers, subprocesses, the embedded/NLI models, Ray, MCP
INTEGRATION_ONLY = re.compile(
    r"\b(neo4j_uri|neo4j_driver|start_dev_server|subprocess|FakeOpenAIServer|FakeServerProcess|"
    r"DialogueServerProcess|SentenceTransformer\w*|real_graph|tiny_nli_model|use_embedded_llm|mcp_servers|"
    r"ray_cluster|ray_head|import ray)\b"
)


def _test_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if p.name.startswith("test_") or p.name.endswith("_test.py"))


def packages() -> set[str]:
    """The code's packages as test folder names: engine's subpackages, the engine's top-level modules
    ('engine'), loaders and cypher."""
    engine = {p.parent.name for p in (REPO / "engine").glob("*/__init__.py")}
    return engine | {"engine", "loaders", "cypher"}


def test_no_test_file_sits_outside_a_package_folder() -> None:
    for folder in (TESTS, *(TESTS / s for s in SUITES)):
        loose = [p.name for p in folder.glob("*.py") if p.name.startswith("test_") or p.name.endswith("_test.py")]
        assert not loose, (f"{folder.relative_to(REPO)}/ holds {loose}: move each into tests/unit/<package>/ or "
                           "tests/integration/<package>/ (docs/testing.md)")
    stray = [str(p.relative_to(REPO)) for p in _test_files(TESTS) if p.relative_to(TESTS).parts[0] not in SUITES]
    assert not stray, f"test files outside tests/unit and tests/integration: {stray}"


@pytest.mark.parametrize("suite", SUITES)
def test_test_folders_are_the_packages(suite: str) -> None:
    folders = {p.relative_to(TESTS / suite).parts[0] for p in _test_files(TESTS / suite)}
    unknown = folders - packages() - EXTRA_FOLDERS
    assert not unknown, f"tests/{suite}/ folders {sorted(unknown)} name no package of the code ({sorted(packages())})"


def test_every_test_folder_is_a_package() -> None:
    folders = {p.parent for p in _test_files(TESTS)}
    missing = sorted(str(d.relative_to(REPO)) for f in folders for d in (f, *f.parents)
                     if TESTS in (d, *d.parents) and not (d / "__init__.py").exists())
    assert not missing, f"add an __init__.py (test ids and module names must not collide): {sorted(set(missing))}"


def test_every_package_has_unit_tests() -> None:
    covered = {p.relative_to(TESTS / "unit").parts[0] for p in _test_files(TESTS / "unit")}
    assert packages() - covered == set(), f"packages without unit tests: {sorted(packages() - covered)}"


def test_unit_tests_use_no_server_model_or_subprocess() -> None:
    offenders = {}
    for path in _test_files(TESTS / "unit"):
        if path == Path(__file__).resolve():
            continue
        found = sorted(set(INTEGRATION_ONLY.findall(path.read_text(encoding="utf-8"))))
        if found:
            offenders[str(path.relative_to(REPO))] = found
    assert not offenders, f"move these to tests/integration/<package>/ (docs/testing.md): {offenders}"
