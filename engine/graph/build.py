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

from toolflow.engine.graph.aggregate import (
    aggregate,
    aggregate_evidence,
    max_degree,
    score_edges,
    similar_edges,
)
from toolflow.engine.graph.edges import GraphData
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
    fs = _collect_fields(tools, match, returns, rep)
    t0 = time.perf_counter()
    progress("embed", 0, len(fs.texts))
    vectors, rep.embedded = embed_texts(
        fs.texts, embedder_factory, cache, model_name, on_progress=lambda n: progress("embed", n, None)
    )
    rep.seconds["embed"] = time.perf_counter() - t0
    nb = _neighbours(fs, vectors, threshold, knn_k, similar_threshold, similar_k, rep)
    return _edges(fs, nb, vectors, match, threshold, fanout, edge_scorer, rep), rep


@dataclass
class _Fields:
    """The sorted tools, their fields split by role, and the distinct texts to embed."""

    tools: list[Tool]
    all_fields: list[FieldNode]
    params: list[FieldNode]
    returns: list[FieldNode]
    tool_texts: list[str]
    texts: list[str]
    text_index: dict[str, int]


def _collect_fields(tools: list[Tool], match: str, returns: str, rep: BuildReport) -> _Fields:
    t0 = time.perf_counter()
    tools = sorted(tools, key=lambda t: t.id)
    # Returns inferred from names and prose (``returns="infer"``) take part in the evidence rule only.
    all_fields = [f for t in field_tools(tools, returns if match == "evidence" else "declared") for f in tool_fields(t)]
    rep.fields = len(all_fields)
    # Inferred handles match by entity alone (entities.py): embedding their texts would cost time, not edges.
    matchable = [f for f in all_fields if is_matchable(f) and f.source not in INFERRED_SOURCES]
    rep.matchable_fields = len(matchable)
    tool_texts = [tool_text(t) for t in tools]
    # Each distinct text once, whichever fields and tools share it.
    texts = sorted({f.text for f in matchable} | set(tool_texts))
    rep.distinct_texts = len(texts)
    fs = _Fields(tools, all_fields, [f for f in matchable if f.role == "param"],
                 [f for f in matchable if f.role == "return"], tool_texts, texts, {t: i for i, t in enumerate(texts)})
    rep.seconds["fields"] = time.perf_counter() - t0
    return fs


@dataclass
class _Neighbours:
    """Text groups per role, their partners above the threshold, and the tool pairs for SIMILAR."""

    pg: _TextGroups
    rg: _TextGroups
    rp_partners: list[list[tuple[int, float]]]
    pp_partners: list[list[tuple[int, float]]]
    tool_vecs: np.ndarray
    sim_pairs: object


def _neighbours(fs: _Fields, vectors: np.ndarray, threshold: float, knn_k: int, similar_threshold: float,
                similar_k: int, rep: BuildReport) -> _Neighbours:
    t0 = time.perf_counter()
    pg = _TextGroups(fs.params, fs.text_index)
    rg = _TextGroups(fs.returns, fs.text_index)
    # One index over the parameter texts serves both searches (R-P and P-P share the base).
    param_index = build_index(vectors[pg.text_ids]) if len(pg.text_ids) else None
    rp_partners = _partners(rg, pg, vectors, threshold, knn_k, same_space=False, index=param_index)
    pp_partners = _partners(pg, pg, vectors, threshold, knn_k, same_space=True, index=param_index)
    tool_vecs = (vectors[[fs.text_index[t] for t in fs.tool_texts]] if fs.tools
                 else np.zeros((0, vectors.shape[1]), np.float32))
    sim_pairs = threshold_pairs(tool_vecs, tool_vecs, similar_threshold, k=similar_k, exclude_self=True)
    rep.seconds["knn"] = time.perf_counter() - t0
    return _Neighbours(pg, rg, rp_partners, pp_partners, tool_vecs, sim_pairs)


def _edges(fs: _Fields, nb: _Neighbours, vectors: np.ndarray, match: str, threshold: float, fanout: int,
           edge_scorer: str, rep: BuildReport) -> GraphData:
    """Field pairs (R-P by `match`'s rule, P-P by damping) aggregated into tool edges; fills `rep`."""
    t0 = time.perf_counter()
    params, returns = fs.params, fs.returns
    if match == "evidence":
        rp_matches, rep.pairs_before["R-P"], rep.max_field_degree_before["R-P"], ev_returns, ev_params = (
            _evidence_matches(fs, nb, vectors, threshold, fanout)
        )
        rp = [(m.src, m.dst, m.score) for m in rp_matches if m.src >= 0]
        rep.seconds["match"] = time.perf_counter() - t0
        t0 = time.perf_counter()  # "edges" below is the rest: P-P linking and aggregation
    else:
        rp, rep.pairs_before["R-P"], rep.max_field_degree_before["R-P"] = _link(
            returns, params, nb.rg, nb.pg, nb.rp_partners, fanout
        )
        ev_returns, ev_params, rp_matches = returns, params, []
    pp, rep.pairs_before["P-P"], rep.max_field_degree_before["P-P"] = _link(
        params, params, nb.pg, nb.pg, nb.pp_partners, fanout
    )
    rep.pairs_after = {"R-P": len(rp), "P-P": len(pp)}
    rep.max_field_degree_after = {
        "R-P": max_degree((ev_returns[a].id for a, _, _ in rp)),
        "P-P": max_degree((params[a].id for a, _, _ in pp)),
    }
    data = GraphData(tools=fs.tools, tool_embeddings=nb.tool_vecs, fields=fs.all_fields)
    if match == "evidence":
        data.feeds, feeds_matches = aggregate_evidence(rp_matches, ev_returns, ev_params, fs.tools)
        data.feeds, feeds_matches = score_edges(data.feeds, feeds_matches, fs.all_fields, edge_scorer)
    else:
        data.feeds, feeds_matches = aggregate(rp, returns, params, directed=True, kind="FEEDS")
    data.shares, shares_matches = aggregate(pp, params, params, directed=False, kind="SHARES_INPUT")
    data.matches = feeds_matches + shares_matches
    data.similar = similar_edges(fs.tools, nb.sim_pairs)
    rep.edges = {"FEEDS": len(data.feeds), "SHARES_INPUT": len(data.shares), "SIMILAR": len(data.similar),
                 "MATCHES": len(data.matches)}
    rep.seconds["edges"] = time.perf_counter() - t0
    return data


def _evidence_matches(
    fs: _Fields, nb: _Neighbours, vectors: np.ndarray, threshold: float, fanout: int
) -> tuple[list, int, int, list[FieldNode], list[FieldNode]]:
    """Run the evidence rule over every return field and parameter (the rule decides what is matchable).

    Embedding candidates are the FAISS partners above the threshold, expanded from text groups to fields
    with the per-field rotation `_link` uses (at most 4 x fanout per return field); fields whose text was not
    embedded (the paper rule's exclusions) take part through names, entities and credentials only.
    """
    from toolflow.engine.graph.matching import link_matches, match_fields

    tools, returns, params, pg, rg = fs.tools, fs.returns, fs.params, nb.pg, nb.rg
    text_index = fs.text_index
    ev_returns = [f for f in fs.all_fields if f.role == "return"]
    ev_params = [f for f in fs.all_fields if f.role == "param"]
    par_pos = {f.id: j for j, f in enumerate(ev_params)}
    ret_pos = {f.id: i for i, f in enumerate(ev_returns)}
    ret_vec = [text_index.get(f.text) for f in ev_returns]
    par_vec = [text_index.get(f.text) for f in ev_params]
    partners: dict[int, list[int]] = {}
    limit = 4 * fanout
    for g, members in enumerate(rg.members):
        plist = nb.rp_partners[g]
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


