"""Leave-one-set-out measurement of FEEDS edges, and the edge calibrator it fits.

A rule tuned on labelled tool sets scores well on those sets and worse on a set nobody labelled. To see
the second number before a user does, everything learned from labels is fitted on all labelled sets but
one and scored on the one left out, for every set in turn. What is fitted here is an `EdgeCalibrator`:
a logistic regression over each tool-level edge's evidence (the kinds on its evidence list, where its
return value came from, its score and cosine) that gives the edge a probability of being a real flow,
and the probability cut that maximises pooled F1 on the training sets. The candidate edges themselves
come from the unfitted rule (`toolflow.engine.graph.matching`), so a left-out set's labels can reach
neither the candidates nor the calibrator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from toolflow.engine.graph.edge_scorer import EdgeCalibrator, evidence_features, feature_names
from toolflow.engine.graph.evaluate import EdgeRow, LabelSet, SetScore, edge_labels, score_set, total


@dataclass(frozen=True)
class LabelledGraph:
    """One labelled set with the tools and candidate edges the unfitted rule built for it."""

    name: str
    labels: LabelSet
    tools: list[tuple[str, str]]
    edges: list[EdgeRow]


def _labelled_rows(g: LabelledGraph) -> tuple[list[EdgeRow], list[int]]:
    """The set's edges with 1 for a labelled flow pair, 0 for any other pair (ambiguous pairs left out)."""
    rows, ys = [], []
    for e, y in zip(g.edges, edge_labels(g.labels, g.tools, g.edges), strict=True):
        if y is not None:
            rows.append(e)
            ys.append(y)
    return rows, ys


def fit_calibrator(train: Sequence[LabelledGraph]) -> EdgeCalibrator:
    """Fit on the training sets only: weights by logistic regression, then the cut with the best pooled F1."""
    from sklearn.linear_model import LogisticRegression

    rows: list[EdgeRow] = []
    ys: list[int] = []
    for g in train:
        r, y = _labelled_rows(g)
        rows += r
        ys += y
    x = np.array([evidence_features(e.evidence, e.score) for e in rows], dtype=np.float64)
    if len(set(ys)) < 2:
        return EdgeCalibrator(coef=[0.0] * len(feature_names()), intercept=0.0, cut=0.0, features=feature_names())
    model = LogisticRegression(C=1.0, max_iter=1000, class_weight="balanced").fit(x, ys)
    cal = EdgeCalibrator(coef=model.coef_[0].tolist(), intercept=float(model.intercept_[0]), cut=0.5,
                         features=feature_names())
    cal.cut = _best_cut(cal, train)
    return cal


def _best_cut(cal: EdgeCalibrator, train: Sequence[LabelledGraph]) -> float:
    probs = np.array(sorted({cal.probability(e) for g in train for e in g.edges}))
    grid = np.unique(np.quantile(probs, np.linspace(0.0, 1.0, 65))) if len(probs) else probs
    best, best_f1 = 0.0, -1.0
    for cut in [0.0, *grid.tolist()]:
        cand = cal.model_copy(update={"cut": cut})
        f1 = pooled([score_set(g.name, g.labels, g.tools, cand.keep(g.edges)) for g in train]).f1
        if f1 > best_f1 + 1e-9:
            best, best_f1 = cut, f1
    return best


def pooled(scores: Sequence[SetScore]) -> SetScore:
    """All pairs of the scored sets together (the same micro total as a report's overall)."""
    return total("pooled", scores)


Fit = Callable[[Sequence[LabelledGraph]], EdgeCalibrator]


def leave_one_set_out(graphs: Mapping[str, LabelledGraph], fit: Fit = fit_calibrator) -> list[SetScore]:
    """Per set: fit on every other set, keep the left-out set's edges the fit accepts, score them."""
    out = []
    for name, g in graphs.items():
        model = fit([other for key, other in graphs.items() if key != name])
        out.append(score_set(name, g.labels, g.tools, model.keep(g.edges)))
    return out


def in_sample(graphs: Mapping[str, LabelledGraph], fit: Fit = fit_calibrator) -> list[SetScore]:
    """Per set, with the calibrator fitted on all sets (the optimistic number)."""
    model = fit(list(graphs.values()))
    return [score_set(name, g.labels, g.tools, model.keep(g.edges)) for name, g in graphs.items()]
