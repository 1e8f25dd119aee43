"""Build the tool graph: fields → embeddings → FAISS pairs → typed, damped field and tool edges.

Edges (the graph schema is in the README):
  FEEDS A→B        a return value of A can fill a parameter of B (R-P)
  SHARES_INPUT A–B a parameter of A and one of B mean the same thing (P-P); stored once, a.id < b.id
  SIMILAR A–B      the tools' descriptions are close (alternatives, for retrieval); stored once
  MATCHES f→g      the field pair behind a FEEDS / SHARES_INPUT edge (field-level evidence)

Hub rule (why the graph is not one blob): some fields mean nothing specific — pagination, output format,
credentials. They are excluded from matching (``GENERIC_NAMES``, ``CREDENTIAL_RE``). Everything else that
survives the threshold is *damped*: each field keeps at most ``fanout`` partner tools per relation, the best
scores first; among equal scores (identical texts shared by hundreds of tools) the partners are spread by a
per-field rotation so the same few tools do not become everybody's neighbour. The build report prints the
field-pair counts and the largest field degree before and after.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from toolflow.engine.graph.edge_scorer import score_feeds
from toolflow.engine.graph.edges import FeedsEdge, GraphData, MatchEdge, SharesEdge, SimilarEdge
from toolflow.engine.graph.embedding import Embedder, EmbeddingCache, embed_texts
from toolflow.engine.graph.entities import INFERRED_SOURCES, entity_ref_matches
from toolflow.engine.graph.facts import is_delete
from toolflow.engine.graph.fields import tool_fields, tool_text
from toolflow.engine.graph.knn import build_index, threshold_pairs
from toolflow.engine.graph.returns import field_tools
from toolflow.engine.models import FieldNode, Tool
from toolflow.engine.schema_norm import types_compatible

DEFAULT_THRESHOLD = 0.82  # the paper's cosine threshold
DEFAULT_FANOUT = 10
DEFAULT_SIMILAR_THRESHOLD = 0.8
DEFAULT_SIMILAR_K = 5
#: FEEDS rules: "evidence" (engine/graph/matching.py, the default) or "paper" (cosine > threshold only).
MATCH_MODES = ("evidence", "paper")

#: Parameters that control paging, output shape or transport, not what the call is about.
GENERIC_NAMES = frozenset(
    ["page", "page_no", "page_number", "pagenumber", "pageno", "per_page", "perpage", "page_size", "pagesize", "limit", "offset", "skip", "start", "count", "size", "max_results", "maxresults", "cursor", "next_token", "format", "output_format", "response_format", "callback", "jsonp", "pretty", "sort", "sort_by", "sortby", "order", "order_by", "orderby", "fields", "fl", "version", "api_version", "v", "debug"]
)
#: Bare names that say nothing without a description (``id`` of what?), and response-envelope leaves.
BARE_NAMES = frozenset(["id", "ids", "key", "name", "value", "type", "data", "item", "items", "result", "results", "object"])
ENVELOPE_RETURNS = frozenset(
    ["status", "status_code", "statuscode", "code", "message", "msg", "success", "ok", "error", "errors", "error_code", "errorcode", "detail", "details", "total", "total_count", "totalcount", "has_more", "hasmore", "next", "previous", "prev", "timestamp", "took", "request_id"]
)
CREDENTIAL_RE = re.compile(
    r"(api[_-]?key|apikey|access[_-]?token|auth|token|secret|password|passwd|client[_-]?id|session|x-rapidapi)",
    re.IGNORECASE,
)

def is_matchable(f: FieldNode) -> bool:
    """False for fields the hub rule excludes from matching."""
    name = f.name.lower()
    if name in GENERIC_NAMES or (name in BARE_NAMES and not f.described):
        return False
    if f.role == "return" and name in ENVELOPE_RETURNS:
        return False
    return not (f.role == "param" and CREDENTIAL_RE.search(name))


@dataclass
class BuildReport:
    tools: int = 0
    fields: int = 0
    matchable_fields: int = 0
    distinct_texts: int = 0
    embedded: int = 0
    pairs_before: dict[str, int] = field(default_factory=dict)
    pairs_after: dict[str, int] = field(default_factory=dict)
    max_field_degree_before: dict[str, int] = field(default_factory=dict)
    max_field_degree_after: dict[str, int] = field(default_factory=dict)
    edges: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


Progress = Callable[[str, int, int | None], None]  # (stage, advance, total)


def _noop(stage: str, advance: int, total: int | None) -> None:
    return None


def _stable_rank(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


class _TextGroups:
    """Distinct field texts of one role, each with the fields that share it (stably ordered)."""

    def __init__(self, fields: list[FieldNode], text_index: dict[str, int]) -> None:
        groups: dict[int, list[int]] = defaultdict(list)
        for i, f in enumerate(fields):
            groups[text_index[f.text]].append(i)
        self.text_ids = np.array(sorted(groups), dtype=np.int64)
        # A fixed pseudo-random order inside a group, so a rotation spreads partners over it.
        self.members = [sorted(groups[t], key=lambda i: _stable_rank(fields[i].id)) for t in self.text_ids.tolist()]


def _link(
    src_fields: list[FieldNode],
    dst_fields: list[FieldNode],
    src_groups: _TextGroups,
    dst_groups: _TextGroups,
    partners: list[list[tuple[int, float]]],
    fanout: int,
) -> tuple[list[tuple[int, int, float]], int, int]:
    """Field pairs (src idx, dst idx, score) with per-source-field fanout; also pairs/max degree before damping."""
    kept: list[tuple[int, int, float]] = []
    before = 0
    max_before = 0
    for g, members in enumerate(src_groups.members):
        plist = partners[g]
        degree = sum(len(dst_groups.members[d]) for d, _ in plist)
        before += degree * len(members)
        max_before = max(max_before, degree)
        if not plist:
            continue
        for fi in members:
            f = src_fields[fi]
            rot = _stable_rank(f.id)
            seen_tools: set[str] = {f.tool_id}
            taken = 0
            for d, score in plist:
                cands = dst_groups.members[d]
                n = len(cands)
                start = rot % n
                for step in range(n):
                    gi = cands[(start + step) % n]
                    g_field = dst_fields[gi]
                    if g_field.tool_id in seen_tools or not types_compatible(f.type, g_field.type):
                        continue
                    seen_tools.add(g_field.tool_id)
                    kept.append((fi, gi, score))
                    taken += 1
                    if taken >= fanout:
                        break
                if taken >= fanout:
                    break
    return kept, before, max_before


def _partners(
    query_groups: _TextGroups,
    base_groups: _TextGroups,
    vectors: np.ndarray,
    threshold: float,
    k: int,
    same_space: bool,
    index=None,
) -> list[list[tuple[int, float]]]:
    """For every query text group, the base text groups above threshold, best first."""
    q = vectors[query_groups.text_ids]
    b = vectors[base_groups.text_ids]
    pairs = threshold_pairs(q, b, threshold, k=k, exclude_self=same_space, index=index)
    out: list[list[tuple[int, float]]] = [[] for _ in range(len(query_groups.text_ids))]
    if same_space:  # identical text in another tool is the strongest P-P evidence
        for g in range(len(out)):
            out[g].append((g, 1.0))
    for qi, bj, s in zip(pairs.qi.tolist(), pairs.bj.tolist(), pairs.score.tolist(), strict=True):
        out[qi].append((bj, float(s)))
    for lst in out:
        lst.sort(key=lambda x: (-x[1], x[0]))
    return out


def build_graph(
    tools: list[Tool],
    embedder_factory: Callable[[], Embedder],
    model_name: str,
    cache: EmbeddingCache | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    fanout: int = DEFAULT_FANOUT,
    similar_threshold: float = DEFAULT_SIMILAR_THRESHOLD,
    similar_k: int = DEFAULT_SIMILAR_K,
    knn_k: int = 64,
    progress: Progress = _noop,
    match: str = "evidence",
    returns: str = "infer",
    edge_scorer: str = "record",
) -> tuple[GraphData, BuildReport]:
    """Pure in-memory graph construction; writing to a store is the caller's business.

    ``match="evidence"`` scores return→parameter pairs with `toolflow.engine.graph.matching` (names,
    entities, types, credentials, embeddings, OpenAPI links); ``match="paper"`` keeps the paper's pure
    cosine-threshold rule for FEEDS (the ablation). SHARES_INPUT and SIMILAR are the same in both.
    ``returns="infer"`` gives tools without a return schema one read from their name and description
    (`toolflow.engine.graph.returns`); ``"declared"`` uses declared and example schemas only.
    ``edge_scorer`` (evidence rule only): ``record`` gives each FEEDS edge the shipped scorer's
    ``probability``, ``filter`` also drops edges under its cut, ``off`` does neither.
    """
    if match not in MATCH_MODES:
        raise ValueError(f"--match must be one of {', '.join(MATCH_MODES)}, got {match!r}")
    rep = BuildReport(tools=len(tools))
    t0 = time.perf_counter()
    tools = sorted(tools, key=lambda t: t.id)
    # Returns inferred from names and prose (``returns="infer"``) take part in the evidence rule only.
    all_fields = [f for t in field_tools(tools, returns if match == "evidence" else "declared") for f in tool_fields(t)]
    rep.fields = len(all_fields)
    # Inferred handles match by entity alone (entities.py): embedding their texts would cost time, not edges.
    matchable = [f for f in all_fields if is_matchable(f) and f.source not in INFERRED_SOURCES]
    rep.matchable_fields = len(matchable)
    params = [f for f in matchable if f.role == "param"]
    returns = [f for f in matchable if f.role == "return"]
    tool_texts = [tool_text(t) for t in tools]

    texts = sorted({f.text for f in matchable} | set(tool_texts))
    text_index = {t: i for i, t in enumerate(texts)}
    rep.distinct_texts = len(texts)
    rep.seconds["fields"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    progress("embed", 0, len(texts))
    vectors, rep.embedded = embed_texts(
        texts, embedder_factory, cache, model_name, on_progress=lambda n: progress("embed", n, None)
    )
    rep.seconds["embed"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    pg = _TextGroups(params, text_index)
    rg = _TextGroups(returns, text_index)
    # One index over the parameter texts serves both searches (R-P and P-P share the base).
    param_index = build_index(vectors[pg.text_ids]) if len(pg.text_ids) else None
    rp_partners = _partners(rg, pg, vectors, threshold, knn_k, same_space=False, index=param_index)
    pp_partners = _partners(pg, pg, vectors, threshold, knn_k, same_space=True, index=param_index)
    tool_vecs = vectors[[text_index[t] for t in tool_texts]] if tools else np.zeros((0, vectors.shape[1]), np.float32)
    sim_pairs = threshold_pairs(tool_vecs, tool_vecs, similar_threshold, k=similar_k, exclude_self=True)
    rep.seconds["knn"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if match == "evidence":
        rp_matches, rep.pairs_before["R-P"], rep.max_field_degree_before["R-P"], ev_returns, ev_params = (
            _evidence_matches(tools, all_fields, returns, params, pg, rg, rp_partners, vectors, text_index,
                              threshold, fanout)
        )
        rp = [(m.src, m.dst, m.score) for m in rp_matches if m.src >= 0]
        rep.seconds["match"] = time.perf_counter() - t0
        t0 = time.perf_counter()  # "edges" below is the rest: P-P linking and aggregation
    else:
        rp, rep.pairs_before["R-P"], rep.max_field_degree_before["R-P"] = _link(
            returns, params, rg, pg, rp_partners, fanout
        )
        ev_returns, ev_params, rp_matches = returns, params, []
    pp, rep.pairs_before["P-P"], rep.max_field_degree_before["P-P"] = _link(params, params, pg, pg, pp_partners, fanout)
    rep.pairs_after = {"R-P": len(rp), "P-P": len(pp)}
    rep.max_field_degree_after = {
        "R-P": _max_degree((ev_returns[a].id for a, _, _ in rp)),
        "P-P": _max_degree((params[a].id for a, _, _ in pp)),
    }
    data = GraphData(tools=tools, tool_embeddings=tool_vecs, fields=all_fields)
    if match == "evidence":
        data.feeds, feeds_matches = _aggregate_evidence(rp_matches, ev_returns, ev_params, tools)
        data.feeds, feeds_matches = _score_edges(data.feeds, feeds_matches, all_fields, edge_scorer)
    else:
        data.feeds, feeds_matches = _aggregate(rp, returns, params, directed=True, kind="FEEDS")
    data.shares, shares_matches = _aggregate(pp, params, params, directed=False, kind="SHARES_INPUT")
    data.matches = feeds_matches + shares_matches
    data.similar = _similar_edges(tools, sim_pairs)
    rep.edges = {
        "FEEDS": len(data.feeds),
        "SHARES_INPUT": len(data.shares),
        "SIMILAR": len(data.similar),
        "MATCHES": len(data.matches),
    }
    rep.seconds["edges"] = time.perf_counter() - t0
    return data, rep


def _max_degree(ids) -> int:
    counts: dict[str, int] = defaultdict(int)
    for i in ids:
        counts[i] += 1
    return max(counts.values(), default=0)


def _aggregate(
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


def _similar_edges(tools: list[Tool], pairs) -> list[SimilarEdge]:
    best: dict[tuple[str, str], float] = {}
    for i, j, s in zip(pairs.qi.tolist(), pairs.bj.tolist(), pairs.score.tolist(), strict=True):
        a, b = tools[i].id, tools[j].id
        if a == b:
            continue
        key = (a, b) if a < b else (b, a)
        best[key] = max(best.get(key, 0.0), float(s))
    return [{"src": a, "dst": b, "score": round(s, 6)} for (a, b), s in sorted(best.items())]


def _evidence_matches(
    tools: list[Tool],
    all_fields: list[FieldNode],
    returns: list[FieldNode],
    params: list[FieldNode],
    pg: _TextGroups,
    rg: _TextGroups,
    rp_partners: list[list[tuple[int, float]]],
    vectors: np.ndarray,
    text_index: dict[str, int],
    threshold: float,
    fanout: int,
) -> tuple[list, int, int, list[FieldNode], list[FieldNode]]:
    """Run the evidence rule over every return field and parameter (the rule decides what is matchable).

    Embedding candidates are the FAISS partners above the threshold, expanded from text groups to fields
    with the per-field rotation `_link` uses (at most 4 x fanout per return field); fields whose text was not
    embedded (the paper rule's exclusions) take part through names, entities and credentials only.
    """
    from toolflow.engine.graph.matching import link_matches, match_fields

    ev_returns = [f for f in all_fields if f.role == "return"]
    ev_params = [f for f in all_fields if f.role == "param"]
    par_pos = {f.id: j for j, f in enumerate(ev_params)}
    ret_pos = {f.id: i for i, f in enumerate(ev_returns)}
    ret_vec = [text_index.get(f.text) for f in ev_returns]
    par_vec = [text_index.get(f.text) for f in ev_params]
    partners: dict[int, list[int]] = {}
    limit = 4 * fanout
    for g, members in enumerate(rg.members):
        plist = rp_partners[g]
        if not plist:
            continue
        for fi in members:
            f = returns[fi]
            rot = _stable_rank(f.id)
            out: list[int] = []
            for d, _ in plist:
                cands = pg.members[d]
                n = len(cands)
                for step in range(n):
                    out.append(par_pos[params[cands[(rot + step) % n]].id])
                    if len(out) >= limit:
                        break
                if len(out) >= limit:
                    break
            partners[ret_pos[f.id]] = out
    kept, scored, max_before = match_fields(
        tools, ev_returns, ev_params, vectors, ret_vec, par_vec, partners, threshold, fanout
    )
    kept += link_matches(tools, ev_returns, ev_params)
    kept += entity_ref_matches(tools, ev_returns, ev_params, {t.id for t in tools if is_delete(t)})
    return kept, scored, max_before, ev_returns, ev_params


def _score_edges(
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


def _aggregate_evidence(
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
