"""Pure ranking functions: reciprocal rank fusion and graph expansion.

Fusion. Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): score(t) = Σ_lists 1 / (k + rank),
with the paper's k = 60. Ranks, not scores, are fused because BM25 scores and cosines live on unrelated scales
(a BM25 score of 12 says nothing against a cosine of 0.6), and k = 60 keeps one list's top hit from
drowning the other list: rank 1 is worth 1/61, rank 10 still 1/70.

Graph expansion. The top ``seeds`` tools of the fused list are the seeds. A seed s hands its fused score on
to its FEEDS / SHARES_INPUT neighbours the way a random walk from s would (personalized PageRank's transition
step): neighbour n gets the share

    P(s → n) = Σ_{edges s–n} t(e) · w(e)  /  Σ_{edges s–m, any m} t(e) · w(e)

where t(e) is the weight of the edge type (FEEDS 1, SHARES_INPUT ½) and w(e) the edge's score (the field-pair
cosine the graph build kept). Its graph evidence is

    g(n) = f(s) · P(s → n) · (½ + ½ · min(1, cos(q, n) / cos(q, s)))

with f(s) the seed's fused score; the last factor mixes the edge alone (½: a prerequisite need not resemble the
request, geocoding a city for a weather request) with the neighbour's query similarity relative to its seed's
(clipped to [0, 1]). A neighbour keeps its best g over the seeds, and its final score is max(f(n), g(n)): it can
rise to just below the seed that vouches for it, never above it, and a first-stage hit never loses rank to the
expansion of another.

Why the share and not the edge alone: a seed linked to one tool says a lot about that tool, a seed whose
``city`` output feeds forty tools says little about any one of them. Without the division (g = f(s) · t · w ·
…, the earlier formula) every neighbour of a hub seed rose to just below it and flooded the top 10
(measured in docs/retrieval.md).

Alternatives yield (multi-part requests only). A request that asks for several things in several sentences
(``query_parts``) needs several different tools; near-duplicate tools (a SIMILAR edge: descriptions above the
graph's similarity threshold, i.e. alternatives for one need) crowd out the tool of another part. So in such a
request every tool among the top ``depth`` with a SIMILAR edge to a tool ranked above it keeps
(1 − ALTERNATIVE_YIELD) of its score: with RRF scores 0.1 is about two places in the top 10 (rank 3 in both
lists scores 2/63, rank 5 scores 2/65, 6 % apart), so an alternative steps back behind the next distinct
candidates without being dropped. A one-part request is left alone: there the alternative may be what the user
wants. Its effect on multi-tool requests is measured in docs/retrieval.md.

Why these factors: FEEDS says "A's output is B's input", i.e. the two run in sequence, which is the
multi-step case the expansion is for; SHARES_INPUT says they take the same kind of input, which is true of
partners and of alternatives alike (every tool that takes a city), hence half weight. The relative query
similarity keeps neighbours that have nothing to do with the request (a restaurant search next to a weather
forecast because both take a city) below the ones that do. No weight was fitted to an evaluation set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

RRF_K = 60
#: Share of its score an alternative of a higher-ranked hit gives up in a multi-part request (see above).
ALTERNATIVE_YIELD = 0.1
#: t(e): how strongly an edge type says "used together" (see the module docstring).
EDGE_TYPE_WEIGHTS: dict[str, float] = {"FEEDS": 1.0, "SHARES_INPUT": 0.5}


def rrf(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion of ranked id lists (1-based ranks)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, tool_id in enumerate(ranking, start=1):
            fused[tool_id] = fused.get(tool_id, 0.0) + 1.0 / (k + rank)
    return fused


def ordered(scores: Mapping[str, float]) -> list[tuple[str, float]]:
    """Best first; equal scores by id, so every store and run orders ties the same way."""
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass(frozen=True)
class Link:
    """One tool-level edge between a seed and a neighbour, as the store returns it."""

    seed: str
    neighbor: str
    type: str
    direction: str  # 'out': seed → neighbour
    score: float
    seed_field: str | None = None
    other_field: str | None = None


@dataclass(frozen=True)
class Evidence:
    link: Link
    contribution: float


def graph_evidence(
    fused: Mapping[str, float],
    seeds: Sequence[str],
    links: Sequence[Link],
    query_sim: Mapping[str, float],
    type_weights: Mapping[str, float] = EDGE_TYPE_WEIGHTS,
) -> dict[str, Evidence]:
    """For every neighbour, its strongest evidence g(n) over the seeds (module docstring); seeds get none.
    The evidence names the heaviest single edge between the two, which the hit shows as its reason."""
    seed_set = set(seeds)
    total: dict[str, float] = {}
    pair: dict[tuple[str, str], float] = {}
    strongest: dict[tuple[str, str], tuple[float, Link]] = {}
    for link in links:
        if link.seed not in seed_set:
            continue
        weight = type_weights.get(link.type, 0.0) * max(link.score, 0.0)
        if weight <= 0:
            continue
        total[link.seed] = total.get(link.seed, 0.0) + weight
        if link.neighbor in seed_set:
            continue
        key = (link.seed, link.neighbor)
        pair[key] = pair.get(key, 0.0) + weight
        if key not in strongest or (weight, link.type) > (strongest[key][0], strongest[key][1].type):
            strongest[key] = (weight, link)
    best: dict[str, Evidence] = {}
    for (s, n), weight in sorted(pair.items()):
        q_n = max(query_sim.get(n, 0.0), 0.0)
        q_s = query_sim.get(s, 0.0)
        rel = 1.0 if q_s <= 0 else min(1.0, q_n / q_s)
        f_s = fused.get(s, 0.0)
        # strictly below the seed even when the whole walk goes to n and n is as close to the query (a tie would
        # be broken by id and could put n above the seed that vouches for it)
        g = min(f_s * (weight / total[s]) * (0.5 + 0.5 * rel), math.nextafter(f_s, 0.0))
        cur = best.get(n)
        if g > 0 and (cur is None or g > cur.contribution):
            best[n] = Evidence(strongest[(s, n)][1], g)
    return best


def expand(fused: Mapping[str, float], evidence: Mapping[str, Evidence]) -> dict[str, float]:
    """Final scores max(f(n), g(n)) over the union of both candidate sets."""
    out = dict(fused)
    for n, ev in evidence.items():
        out[n] = max(out.get(n, 0.0), ev.contribution)
    return out


def alternatives_yield(scores: Mapping[str, float], similar: Mapping[str, set[str]], depth: int,
                       factor: float = ALTERNATIVE_YIELD) -> tuple[dict[str, float], dict[str, str]]:
    """Scores after alternatives yield (module docstring), and for each demoted tool the higher-ranked
    alternative it yielded to. `similar` maps a tool to its SIMILAR neighbours; ranks are taken before any
    demotion, so the result does not depend on the order the demotions are applied in."""
    top = [i for i, _ in ordered(scores)[:depth]]
    rank = {t: r for r, t in enumerate(top)}
    out, yielded = dict(scores), {}
    for t in top:
        above = sorted((rank[a], a) for a in similar.get(t, ()) if a in rank and rank[a] < rank[t])
        if above:
            out[t] = scores[t] * (1.0 - factor)
            yielded[t] = above[0][1]
    return out, yielded
