"""`import toolflow` is the documented API, cheap to import, in the editable install and in a built wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import sys, toolflow
names = ["build_graph", "sample", "synthesize", "evaluate", "retrieve", "export", "RunConfig", "ToolFlowError"]
heavy = sorted(m for m in ("torch", "neo4j", "sentence_transformers", "faiss") if m in sys.modules)
assert not heavy, f"import toolflow imported {heavy}"
assert all(callable(getattr(toolflow, n)) for n in names)
heavy = sorted(m for m in ("torch", "neo4j") if m in sys.modules)
assert not heavy, f"resolving the API names imported {heavy}"
print(toolflow.__file__)
"""


def test_the_api_names_resolve_lazily_in_the_editable_install() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd="/", timeout=120)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == ROOT / "__init__.py"


def _build_wheel(dist: Path) -> None:
    """`pip wheel --no-deps` of a copy of the package's files (setuptools writes build/ beside the sources):
    offline with the installed setuptools when it can build wheels, else isolated."""
    src = dist.parent / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "__init__.py"):
        shutil.copy2(ROOT / name, src / name)
    for folder in ("engine", "loaders", "cypher"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    base = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(src)]
    for extra in (["--no-build-isolation"], []):
        if subprocess.run([*base, *extra], timeout=300, capture_output=True).returncode == 0:
            return
    pytest.skip("no wheel backend: setuptools cannot build wheels here and the build isolation is offline")


@pytest.mark.slow
def test_a_built_wheel_holds_the_package_root_and_imports(tmp_path) -> None:
    _build_wheel(tmp_path / "dist")
    [wheel] = (tmp_path / "dist").glob("toolflow-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[1] for n in names if n.startswith("toolflow/") and n.count("/") >= 2}
    assert "toolflow/__init__.py" in names and tops == {"engine", "loaders", "cypher"}  # no tests/, bench/
    venv.create(tmp_path / "venv", system_site_packages=True, with_pip=False)
    python = tmp_path / "venv" / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    done = subprocess.run([str(python), "-I", "-c", PROBE], capture_output=True, text=True, cwd="/", timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{site}/toolflow/__init__.py"
