"""The built graph as data: tools, their fields and the typed edge records a store writes.

Kept apart from the build so that the store layer (and `toolflow --help`) does not import the build's
embedding and kNN machinery just to name the type it writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

import numpy as np

from toolflow.engine.models import FieldNode, Tool


class FeedsEdge(TypedDict):
    """A return value of tool `src` can fill parameter `to_param` of tool `dst` (R-P)."""

    src: str
    dst: str
    score: float
    from_field: str
    to_param: str
    returns_source: NotRequired[str]  # declared, example, description, name, observed


class SharesEdge(TypedDict):
    """A parameter of `src` and one of `dst` mean the same thing (P-P); stored once, src < dst."""

    src: str
    dst: str
    score: float
    param_a: str
    param_b: str


class SimilarEdge(TypedDict):
    """The tools' descriptions are close (alternatives, for retrieval); stored once, src < dst."""

    src: str
    dst: str
    score: float


class MatchEdge(TypedDict):
    """Field-level evidence: the field pair (field ids) behind a FEEDS or SHARES_INPUT edge."""

    src: str
    dst: str
    score: float
    kind: str


@dataclass
class GraphData:
    tools: list[Tool]
    tool_embeddings: np.ndarray
    fields: list[FieldNode]
    feeds: list[FeedsEdge] = field(default_factory=list)
    shares: list[SharesEdge] = field(default_factory=list)
    similar: list[SimilarEdge] = field(default_factory=list)
    matches: list[MatchEdge] = field(default_factory=list)

    @property
    def categories(self) -> list[str]:
        return sorted({t.category for t in self.tools if t.category})
