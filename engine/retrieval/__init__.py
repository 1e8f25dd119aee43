"""Tool retrieval over the tool graph (BM25 + dense, rank fusion, graph expansion) and its evaluation.

Imports are lazy: the stores import ``text`` from here at write time, and must not pull in the retriever.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Hit", "Reason", "RetrievalConfig", "RetrievalResult", "Retriever"]


def __getattr__(name: str) -> Any:
    if name in ("Retriever", "RetrievalConfig"):
        from toolflow.engine.retrieval import retriever

        return getattr(retriever, name)
    if name in ("Hit", "Reason", "RetrievalResult"):
        from toolflow.engine.retrieval import models

        return getattr(models, name)
    raise AttributeError(name)
