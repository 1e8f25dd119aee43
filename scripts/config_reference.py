"""Print the configuration reference of docs/api.md (one table per config model) from the models themselves.

    python scripts/config_reference.py > /tmp/ref.md   # then replace the "Configuration reference" tables

tests/unit/api/test_config_wiring.py fails when a config field is missing from docs/api.md.
"""

from __future__ import annotations

import re

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from toolflow.engine.api import config as c
from toolflow.engine.api.llm import LLMOptions
from toolflow.engine.retrieval.retriever import RetrievalConfig
from toolflow.engine.synth.execute import ExecPolicy

MODELS: list[tuple[type[BaseModel], str]] = [
    (c.GraphBuildConfig, "graph build"), (c.VerifyConfig, "graph build --verify-edges"),
    (c.ObserveConfig, "graph observe"), (c.QueryConfig, "graph query"), (c.SampleConfig, "sample"),
    (c.RunConfig, "synth"), (c.ExecutorConfig, "synth --workers/--executor"), (c.ExecuteConfig, "synth --execute"),
    (ExecPolicy, "synth --execute"), (LLMOptions, "synth, eval, ablate"), (c.EvalConfig, "eval"),
    (c.AblateConfig, "ablate"), (c.RetrieveConfig, "retrieve, retrieve-eval"), (RetrievalConfig, "retrieve"),
    (c.ExportConfig, "export"),
]


def _type(annotation: object) -> str:
    text = re.sub(r"<class '([\w.]+)'>", r"\1", repr(annotation)).replace("typing.", "").replace("pathlib.", "")
    return re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", text).replace("|", "/")


def _default(info) -> str:
    if info.default_factory is not None:
        return repr(info.default_factory())
    return "required" if info.default is PydanticUndefined else repr(info.default)


def _bounds(info) -> str:
    signs = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    return ", ".join(f"{sign} {getattr(m, k)}" for m in info.metadata for k, sign in signs.items() if hasattr(m, k))


def table(model: type[BaseModel], command: str) -> str:
    lines = [f"### `{model.__name__}` (`toolflow {command}`)", "", (model.__doc__ or "").strip().splitlines()[0], "",
             "| field | type | default | bounds | meaning |", "|---|---|---|---|---|"]
    for name, info in model.model_fields.items():
        desc = " ".join((info.description or "").split()).replace("|", "/")
        lines.append(f"| `{name}` | `{_type(info.annotation)}` | `{_default(info)}` | {_bounds(info)} | {desc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print("\n".join(table(m, cmd) for m, cmd in MODELS))
