"""The import root ``toolflow``: the documented Python API, loaded on first use.

The repository root is the package ``toolflow`` (pyproject.toml ``[tool.setuptools.package-dir]``): its folders
engine/, loaders/ and cypher/ are ``toolflow.engine``, ``toolflow.loaders`` and ``toolflow.cypher``, and this
file makes ``import toolflow; toolflow.build_graph(...)`` work. (Folders without an ``__init__.py``, such as
tests/ and bench/, are not part of the package.) The
names below come from ``toolflow.engine.api``; nothing heavy (torch, the Neo4j driver) is imported until a
function is called. docs/api.md describes each one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "build_graph", "sample", "synthesize", "evaluate", "retrieve", "export",
    "GraphBuildConfig", "SampleConfig", "RunConfig", "EvalConfig", "RetrieveConfig", "ExportConfig",
    "ExecutorConfig", "LLMOptions", "ToolFlowError", "__version__",
]

if TYPE_CHECKING:  # for type checkers and editors; at run time the names resolve lazily below
    from toolflow.engine import __version__
    from toolflow.engine.api import (
        EvalConfig,
        ExecutorConfig,
        ExportConfig,
        GraphBuildConfig,
        LLMOptions,
        RetrieveConfig,
        RunConfig,
        SampleConfig,
        build_graph,
        evaluate,
        export,
        retrieve,
        sample,
        synthesize,
    )
    from toolflow.engine.errors import ToolFlowError


def __getattr__(name: str) -> Any:
    """Resolve a public name on first access (PEP 562), keeping ``import toolflow`` cheap."""
    if name == "__version__":
        from toolflow.engine import __version__

        return __version__
    if name == "ToolFlowError":
        from toolflow.engine.errors import ToolFlowError

        return ToolFlowError
    if name in __all__:
        from toolflow.engine import api

        return getattr(api, name)
    raise AttributeError(f"module 'toolflow' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
