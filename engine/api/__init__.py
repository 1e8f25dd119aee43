"""The Python API: each use case of the `toolflow` command as a function, with its typed config.

``import toolflow`` exposes the same names (engine/_package). The CLI (engine/cli) is a thin shell over these
functions: it parses options into the configs below and prints what the functions return. docs/api.md
documents each function and every config field.

Nothing heavy is imported here: each function imports what it needs when it is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name → module that defines it (resolved on first access, PEP 562)
_EXPORTS = {
    "build_graph": "graph", "observe_and_build": "graph",
    "sample": "sample", "relatedness": "sample",
    "synthesize": "synth", "estimate": "synth", "Synthesis": "synth",
    "evaluate": "evaluate", "ablate": "evaluate",
    "retrieve": "retrieve", "evaluate_retrieval": "retrieve",
    "export": "export", "check_template": "export",
    "open_llm": "llm", "LLMOptions": "llm", "RoleOverride": "llm",
    "GraphBuildConfig": "config", "VerifyConfig": "config", "ObserveConfig": "config", "SampleConfig": "config",
    "RunConfig": "config", "ExecutorConfig": "config", "ExecuteConfig": "config", "EvalConfig": "config",
    "AblateConfig": "config", "RetrieveConfig": "config", "ExportConfig": "config",
}

__all__ = [
    "AblateConfig", "EvalConfig", "ExecuteConfig", "ExecutorConfig", "ExportConfig", "GraphBuildConfig",
    "LLMOptions", "ObserveConfig", "RetrieveConfig", "RoleOverride", "RunConfig", "SampleConfig",
    "Synthesis", "VerifyConfig", "ablate", "build_graph", "check_template", "estimate", "evaluate",
    "evaluate_retrieval", "export", "observe_and_build", "open_llm", "relatedness", "retrieve", "sample",
    "synthesize",
]

if TYPE_CHECKING:
    from toolflow.engine.api.config import (
        AblateConfig,
        EvalConfig,
        ExecuteConfig,
        ExecutorConfig,
        ExportConfig,
        GraphBuildConfig,
        ObserveConfig,
        RetrieveConfig,
        RunConfig,
        SampleConfig,
        VerifyConfig,
    )
    from toolflow.engine.api.evaluate import ablate, evaluate
    from toolflow.engine.api.export import check_template, export
    from toolflow.engine.api.graph import build_graph, observe_and_build
    from toolflow.engine.api.llm import LLMOptions, RoleOverride, open_llm
    from toolflow.engine.api.retrieve import evaluate_retrieval, retrieve
    from toolflow.engine.api.sample import relatedness, sample
    from toolflow.engine.api.synth import Synthesis, estimate, synthesize


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toolflow.engine.api' has no attribute {name!r}")
    return getattr(importlib.import_module(f"toolflow.engine.api.{module}"), name)


def __dir__() -> list[str]:
    return __all__
