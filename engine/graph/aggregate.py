"""Tool-level edges from field pairs: the best field pair per tool pair, and the MATCHES behind each edge.

`toolflow.engine.graph.build` finds and damps field pairs; this module turns them into the FEEDS,
SHARES_INPUT and SIMILAR edges a store writes (deterministic: sorted by tool pair, ties broken by field id).
"""

from __future__ import annotations

from collections import defaultdict

from toolflow.engine.graph.edge_scorer import score_feeds
from toolflow.engine.graph.edges import FeedsEdge, MatchEdge, SharesEdge, SimilarEdge
from toolflow.engine.models import FieldNode, Tool


def max_degree(ids) -> int:
    counts: dict[str, int] = defaultdict(int)
    for i in ids:
        counts[i] += 1
    return max(counts.values(), default=0)


def aggregate(
    pairs: list[tuple[int, int, float]],
    src_fields: list[FieldNode],
    dst_fields: list[FieldNode],
    directed: bool,
    kind: str,
) -> tuple[list[FeedsEdge] | list[SharesEdge], list[MatchEdge]]:
    """Tool-level edges (best field pair per tool pair) and the field-level MATCHES behind them."""
    best: dict[tuple[str, str], tuple[float, FieldNode, FieldNode]] = {}
    for a, b, score in pairs:
        fa, fb = src_fields[a], dst_fields[b]
        if not directed and fa.tool_id > fb.tool_id:
            fa, fb = fb, fa
        key = (fa.tool_id, fb.tool_id)
        cur = best.get(key)
        if cur is None or (score, fb.id, fa.id) > (cur[0], cur[2].id, cur[1].id):
            best[key] = (score, fa, fb)
    edges: list = []
    matches: list[MatchEdge] = []
    for (src, dst), (score, fa, fb) in sorted(best.items()):
        s = round(float(score), 6)
        if directed:  # the paper's rule: one kind of evidence, the cosine is the score
            edges.append({"src": src, "dst": dst, "score": s, "from_field": fa.path or fa.name,
                          "to_param": fb.path or fb.name, "evidence": "embedding", "cosine": s})
        else:
            edges.append({"src": src, "dst": dst, "score": s, "param_a": fa.name, "param_b": fb.name})
        matches.append({"src": fa.id, "dst": fb.id, "score": s, "kind": kind})
    return edges, matches


def similar_edges(tools: list[Tool], pairs) -> list[SimilarEdge]:
    best: dict[tuple[str, str], float] = {}
    for i, j, s in zip(pairs.qi.tolist(), pairs.bj.tolist(), pairs.score.tolist(), strict=True):
        a, b = tools[i].id, tools[j].id
        if a == b:
            continue
        key = (a, b) if a < b else (b, a)
        best[key] = max(best.get(key, 0.0), float(s))
    return [{"src": a, "dst": b, "score": round(s, 6)} for (a, b), s in sorted(best.items())]


def score_edges(
    feeds: list[dict], matches: list[dict], fields: list[FieldNode], mode: str
) -> tuple[list[dict], list[dict]]:
    """The calibrated probability on each evidence edge (`edge_scorer.py`); `filter` also drops the
    edges under the shipped cut and the field pairs behind them."""
    kept = score_feeds(feeds, mode)
    if len(kept) == len(feeds):
        return kept, matches
    tool_of = {f.id: f.tool_id for f in fields}
    pairs = {(e["src"], e["dst"]) for e in kept}
    return kept, [m for m in matches if (tool_of.get(m["src"]), tool_of.get(m["dst"])) in pairs]


def aggregate_evidence(
    matches: list, src_fields: list[FieldNode], dst_fields: list[FieldNode], tools: list[Tool]
) -> tuple[list[dict], list[dict]]:
    """Tool-level FEEDS (the best field pair per tool pair, with its evidence) and the MATCHES behind them."""
    best: dict[tuple[str, str], tuple] = {}
    for m in matches:
        fa = src_fields[m.src] if m.src >= 0 else None
        fb = dst_fields[m.dst]
        src_tool = fa.tool_id if fa is not None else m.src_tool
        key = (src_tool, fb.tool_id)
        rank = (m.score, "link" in m.evidence, fb.id, fa.id if fa else "")
        cur = best.get(key)
        if cur is None or rank > cur[0]:
            best[key] = (rank, m, fa, fb)
    edges, field_edges = [], []
    for (src, dst), (_, m, fa, fb) in sorted(best.items()):
        s = round(float(m.score), 6)
        from_field = (fa.path or fa.name) if fa is not None else m.from_path
        edges.append({
            "src": src, "dst": dst, "score": s, "from_field": from_field, "to_param": fb.path or fb.name,
            "evidence": "+".join(m.evidence), "cosine": None if m.cosine is None else round(float(m.cosine), 6),
            "returns_source": fa.source if fa is not None else "declared",
        })
        if fa is not None:
            field_edges.append({"src": fa.id, "dst": fb.id, "score": s, "kind": "FEEDS"})
    return edges, field_edges
