"""The calibrated FEEDS edge scorer: a probability per candidate edge from its evidence, read with numpy.

The evidence rule (`toolflow.engine.graph.matching`) decides which tool pairs are candidates and keeps
its certain vetoes (delete tools are no sources, entity and path-kind mismatches). This module turns
each candidate's readable evidence (`entity_ref+from_name`, `name+embedding`, …) and rule score into one
probability of being a real data flow, with logistic-regression weights fitted on the dev labels by
`scripts/fit_edge_scorer.py` and shipped as `edge_scorer.json` beside this file. Build time reads the
JSON with plain numpy: scikit-learn is a fitting dependency, not a build one.

Whether the probability also drops edges (`filter`) or is only recorded (`record`, the default) is the
caller's choice; docs/graph.md says why the default only records.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

#: Evidence kinds an edge can carry (`matching.Verdict.evidence`) and where its return value came from.
EVIDENCE_KINDS = ("entity_id", "name", "name_head", "credential", "text", "embedding", "link", "entity_ref")
RETURN_SOURCES = ("declared", "example", "description", "name", "observed")
#: What `graph build --edge-scorer` may do with the probability.
SCORER_MODES = ("record", "filter", "off")
WEIGHTS_FILE = "edge_scorer.json"


def feature_names() -> list[str]:
    return [*EVIDENCE_KINDS, *(f"from_{s}" for s in RETURN_SOURCES[1:]), "score"]


def evidence_features(evidence: str | None, score: float | None) -> list[float]:
    """Numbers the scorer reads from one edge: evidence one-hots, return source one-hots, rule score."""
    kinds = set((evidence or "").split("+"))
    row = [1.0 if k in kinds else 0.0 for k in EVIDENCE_KINDS]
    row += [1.0 if f"from_{s}" in kinds else 0.0 for s in RETURN_SOURCES[1:]]
    row.append(float(score or 0.0))
    return row


class EdgeCalibrator(BaseModel):
    """Logistic-regression weights over `evidence_features` and the probability cut; JSON-serialisable.

    `fitted_on` and `loso` record what the shipped weights were fitted on and how the same fit scored
    when each set was left out, so the JSON says whether it may be trusted to filter.
    """

    coef: list[float]
    intercept: float
    cut: float
    features: list[str]
    fitted_on: list[str] = Field(default_factory=list)
    loso: dict[str, float] = Field(default_factory=dict)

    def probability_of(self, evidence: str | None, score: float | None) -> float:
        z = float(np.dot(self.coef, evidence_features(evidence, score)) + self.intercept)
        return float(1.0 / (1.0 + np.exp(-z)))

    def probability(self, e: Any) -> float:
        """Probability of an `EdgeRow` (or anything with `.evidence` and `.score`)."""
        return self.probability_of(e.evidence, e.score)

    def keep(self, edges: Sequence[Any]) -> list[Any]:
        return [e for e in edges if self.probability(e) >= self.cut]


def parse_scorer(text: str, origin: str) -> EdgeCalibrator:
    """Weights from JSON text; anything unreadable is one line naming `origin`, not a traceback."""
    try:
        cal = EdgeCalibrator.model_validate(json.loads(text))
    except (ValueError, TypeError) as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(f"{origin}: not edge scorer weights ({first}); rerun scripts/fit_edge_scorer.py") from None
    if cal.features != feature_names() or len(cal.coef) != len(cal.features):
        raise ValueError(f"{origin}: features {cal.features} do not match this version's {feature_names()}; "
                         "rerun scripts/fit_edge_scorer.py")
    return cal


@lru_cache(maxsize=1)
def shipped_scorer() -> EdgeCalibrator:
    """The weights shipped in the package (read once per process)."""
    res = resources.files("toolflow.engine.graph").joinpath(WEIGHTS_FILE)
    return parse_scorer(res.read_text(encoding="utf-8"), str(res))


def score_feeds(feeds: list[dict], mode: str, scorer: EdgeCalibrator | None = None) -> list[dict]:
    """Give each FEEDS edge its `probability` (mode `record`), and drop those under the cut (`filter`)."""
    if mode not in SCORER_MODES:
        raise ValueError(f"--edge-scorer must be one of {', '.join(SCORER_MODES)}, got {mode!r}")
    if mode == "off":
        return feeds
    cal = scorer or shipped_scorer()
    for e in feeds:
        e["probability"] = round(cal.probability_of(e.get("evidence"), e.get("score")), 6)
    if mode == "filter":
        return [e for e in feeds if e["probability"] >= cal.cut]
    return feeds
