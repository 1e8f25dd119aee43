"""Which return value of one tool can fill which parameter of another: the FEEDS evidence rule.

The paper's rule — cosine of the ``"name: description"`` texts above 0.82 — finds under a fifth of the hand-
labelled flows in ``flows_dev.json``: same-named fields whose descriptions are
worded differently fall under the threshold, ``id`` of ``get_ticket`` means a ticket id, and a login's token is
a real flow that the credential filter dropped. This module scores a (return field, parameter) pair from
several kinds of evidence and keeps the reason on the edge. It is a pure function of the fields, their
vectors and their tools; `engine/graph/build.py` calls it when ``--match evidence`` (the default).

The rule, in order (first verdict wins; ``cos`` is the cosine of the two field texts, 0 when a text was not
embedded):

1. **Vetoes.** Types must be compatible (strings/numbers interchangeable, objects/arrays/booleans only their
   own kind); semantic formats must agree when both are known (date vs email vs url vs phone …, from
   ``format`` or the name); an enum parameter takes a value only when the source's own enum is a subset
   of it; a DELETE operation is never a source (what it returns names a record that no longer exists);
   header parameters (tenant, connection ids) and the list filters of a get-by-id call are no sinks.
2. **Credentials** (``token``, ``api_key``, ``session`` …) match only credentials of the same kind returned by
   a tool of the same API: a login's ``access_token`` → every tool taking ``access_token`` (score 0.95,
   evidence ``credential``). A credential that no tool returns (RapidAPI keys) matches nothing.
3. **Identifiers.** A field is an identifier when its last name token is ``id``/``ids``/``uuid``, or it is
   a top-level list of untyped records (API-Bank ``reminders[]``). Its *entity* comes from the name
   (``ticket_id`` → ticket), else from the nearest non-wrapper parent in its path (``updates[].id`` →
   update), else from the tool's resource (the path segment before ``{id}``, or the last plural path
   segment, or the tool name without verbs and ``by …``/``for …`` qualifiers: ``get_ticket`` → ticket,
   ``companiesOne`` → company); a description that names it outright adds it ("Station ID", "the id of
   the custom object"). A description such as "the user who owns the note" adds an alias
   (owner_id → user) when that word is an entity of the same API, and within one API the alias applies to
   every same-named reference. Two identifiers of the same API whose entities agree (equal, or one a token
   suffix of the other: ``stages[].id`` → ``pipeline_stage_id``) match with score 0.95 (``entity_id``) when
   the entity is one the API serves (some tool's resource) — ids of sub-records no endpoint serves
   (``phone_numbers[].id``, pass-through ``service_id``) only match the same top-level name; identifiers
   of *different* entities never match, whatever the cosine (a profile id is not an update id); a foreign
   key never fills a DELETE's id (deleting a record reached through another's reference is contrived).
   Across APIs identifiers only match by embedding (an order id of one API means nothing to another).
4. **Attributes.** A descriptive value (not an identifier) never flows into a body attribute of a
   create/update call: copying a name or an amount into a new record is not a data flow.
5. **Names.** Normalized names (camel/snake/kebab split, lower case, plural → singular, digits dropped:
   ``isbn13`` → ``isbn``) that are equal, a one-token identifier-like parameter equal to the source's head
   noun (``primary_isbn13`` → ``isbn``), or a qualified bare name on its own resource (``company_name`` →
   ``name`` of the companies endpoint) match when the texts agree a little (cos >= ``NAME_MIN_COS`` = 0.35)
   — or, for numeric measures and dates/times, as much as the paper asks (cos >= the threshold: an amount
   of shares is not an amount of dollars). Bare names (``name``, ``title``) need the same owning record on
   both sides. Score ``max(cos, threshold)`` (evidence ``name`` / ``name_head``): a name admits a pair
   but does not outrank a closer text when damping picks a hub field's partners. Paging, configuration,
   envelope and undescribed bare names (``page``, ``units``, ``status``) carry no name evidence.
6. **Free text** (summary, transcription, answer, translated_text …) feeds a text parameter (``text``,
   ``content``, ``document`` …) of the same API unless that tool writes a record (score 0.83, ``text``).
7. **Embedding** alone: cos >= threshold (the paper's 0.82), evidence ``embedding``.
8. **OpenAPI links** declared by the spec author are edges as they stand (score 1.0, evidence ``link``).

Hub damping: each return field keeps at most ``fanout`` partner tools for evidence that may cross APIs
(names, embeddings, text), best score first but at most ``PER_API_SHARE`` (3) per target API until the
others have had their turn, and at most ``STRONG_FANOUT_FACTOR * fanout`` for same-API
entity and credential evidence, which is specific by construction.

Each step was kept only if it raised F1 on the dev labels without naming anything of the dev sets; the
measurements (overall and per set, what each step changed, the stage's time) are in docs/graph.md.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from toolflow.engine.graph.facts import (
    BARE,
    Facts,
    all_facts,
    is_delete,
    tool_api,
)
from toolflow.engine.graph.fields import is_identifier_name
from toolflow.engine.models import FieldNode, Tool
from toolflow.engine.schema_norm import types_compatible

CREDENTIAL_SCORE = 0.95
ENTITY_SCORE = 0.95
TEXT_SCORE = 0.83
#: Same-named fields must still agree this much (cosine of the field texts) to count as the same value.
NAME_MIN_COS = 0.35
#: Same-API structural evidence (entity ids, credentials) keeps this many times more partners than fanout.
STRONG_FANOUT_FACTOR = 4

def _entities_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    for x in a:
        for y in b:
            if x == y:
                return True
            xt, yt = x.split("_"), y.split("_")
            short, long_ = (xt, yt) if len(xt) < len(yt) else (yt, xt)
            if long_[-len(short):] == short:
                return True
            if x.replace("_", "") == y.replace("_", ""):
                return True
    return False


@dataclass(frozen=True)
class Verdict:
    score: float
    evidence: tuple[str, ...]


def score_pair(
    src: FieldNode,
    dst: FieldNode,
    rf: Facts,
    pf: Facts,
    cos: float | None,
    same_api: bool,
    threshold: float,
    src_deletes: bool = False,
    dst_deletes: bool = False,
) -> Verdict | None:
    """The rule for one (return field, parameter) pair; None when it is not a flow. See the module docstring."""
    c = 0.0 if cos is None else float(cos)
    if src_deletes or not types_compatible(src.type, dst.type):
        return None
    if rf.sem and pf.sem and rf.sem != pf.sem:
        return None
    if pf.enum is not None and not (rf.enum is not None and rf.enum <= pf.enum):
        return None
    if rf.credential or pf.credential:
        if rf.credential and pf.credential and same_api and rf.credential == pf.credential:
            return Verdict(max(CREDENTIAL_SCORE, c), ("credential",))
        return None
    if pf.header:
        return None
    if rf.ident and pf.ident and rf.entities and pf.entities:
        if not _entities_agree(rf.entities, pf.entities):
            return None
        if not (rf.resource or pf.resource) and (rf.key != pf.key or pf.nested):
            return None  # an id of something no endpoint serves: only the same-named top-level reference
        if dst_deletes and rf.foreign:
            return None
        if same_api:
            ev = ("entity_id", "embedding") if c >= threshold else ("entity_id",)
            return Verdict(max(ENTITY_SCORE, c), ev)
        return Verdict(c, ("embedding",)) if c >= threshold else None
    if pf.attribute and not (rf.ident and pf.ident):
        return None
    if rf.named and pf.named and rf.key and not (rf.ident and pf.ident):
        measure = rf.numeric or pf.numeric or rf.sem in ("date", "time") or pf.sem in ("date", "time")
        need = threshold if measure else NAME_MIN_COS
        bare_ok = not (rf.key in BARE or pf.key in BARE) or rf.owner == pf.owner
        if (cos is None or c >= need) and bare_ok:
            if rf.key == pf.key:
                return Verdict(max(c, threshold), ("name",))
            if "_" not in pf.key and pf.key == rf.head and is_identifier_name(pf.key):
                return Verdict(max(c, threshold), ("name_head",))
            qualifier = rf.key[: -len(rf.head) - 1] if rf.key.endswith("_" + rf.head) else ""
            if pf.key == rf.head and pf.key in BARE and qualifier and qualifier == pf.owner:
                return Verdict(max(c, threshold), ("name_head",))  # company_name -> companies' name
    if rf.text and pf.text and same_api and not pf.attribute:
        return Verdict(max(TEXT_SCORE, c), ("text",))
    if c >= threshold:
        if rf.ident != pf.ident and (rf.entities or pf.entities):
            return None  # an identifier and a non-identifier that only read alike
        return Verdict(c, ("embedding",))
    return None


#: In the first pass of damping, one target API gets at most this many of a field's `fanout` partners.
PER_API_SHARE = 3


def _spread(ranked: list, api: Callable[[Any], str], fanout: int) -> list:
    """The best `fanout` of `ranked`, spread over target APIs: at most PER_API_SHARE per API first, then the
    rest by rank. Six endpoints of one geo API taking ``countryCode`` would otherwise fill every slot of
    ``country_code`` and hide the other APIs that take a country."""
    first, rest, per = [], [], defaultdict(int)
    for x in ranked:
        a = api(x)
        if per[a] < PER_API_SHARE and len(first) < fanout:
            per[a] += 1
            first.append(x)
        else:
            rest.append(x)
    return first + rest[: fanout - len(first)]


def _stable_rank(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


@dataclass(frozen=True)
class Match:
    """One kept field pair: indexes into the return and parameter lists."""

    src: int
    dst: int
    score: float
    cosine: float | None
    evidence: tuple[str, ...]
    src_tool: str = ""  # set when src is -1: a link whose response path is not an extracted field
    from_path: str = ""


@dataclass
class _ParamIndex:
    """Hash joins over the parameters' facts: same-API by entity / name / credential kind / free text, and
    any API by name (cross-API name partners in a stable, field-specific rotation)."""

    by_api_entity: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_api_key: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_api_cred: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_key: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_api_text: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def build(cls, params: Sequence[FieldNode], pfacts: list[Facts], apis: dict[str, str]) -> _ParamIndex:
        ix = cls()
        for j, (p, pf) in enumerate(zip(params, pfacts, strict=True)):
            api = apis[p.tool_id]
            if pf.credential:
                ix.by_api_cred[(api, pf.credential)].append(j)
                continue
            if pf.ident:
                for e in pf.entities:
                    ix.by_api_entity[(api, e.split("_")[-1])].append(j)
            if pf.named and pf.key:
                ix.by_api_key[(api, pf.key)].append(j)
                ix.by_key[pf.key].append(j)
            if pf.text:
                ix.by_api_text[api].append(j)
        for lst in ix.by_key.values():
            lst.sort(key=lambda j: _stable_rank(params[j].id))
        return ix

    def candidates(self, r: FieldNode, rf: Facts, api: str, embedded: list[int], fanout: int) -> list[int]:
        """The parameters that share something with return field `r` (duplicates possible)."""
        if rf.credential:
            return list(self.by_api_cred.get((api, rf.credential), []))
        cands: list[int] = []
        if rf.ident:
            for e in rf.entities:
                cands += self.by_api_entity.get((api, e.split("_")[-1]), [])
        if rf.named and rf.key:
            cands += self.by_api_key.get((api, rf.key), [])
            cands += self.by_api_key.get((api, rf.head), []) if rf.head != rf.key else []
            cross = self.by_key.get(rf.key, [])
            if cross:
                start = _stable_rank(r.id) % len(cross)
                cands += [cross[(start + s) % len(cross)] for s in range(min(len(cross), 4 * fanout))]
        if rf.text:
            cands += self.by_api_text.get(api, [])
        return cands + embedded


#: A scored candidate: (score, parameter index, verdict, cosine).
_Scored = tuple[float, int, Verdict, float | None]


def _damped(best: dict[str, _Scored], params: Sequence[FieldNode], apis: dict[str, str], fanout: int) -> list[_Scored]:
    """The kept partners of one return field: the strong (entity id, credential) up to their own cap, and the
    weak spread over target APIs up to `fanout`."""
    def order(x: _Scored) -> tuple[float, str]:
        return -x[0], params[x[1]].id

    strong_kinds = ("entity_id", "credential")
    strong = sorted((x for x in best.values() if x[2].evidence[0] in strong_kinds), key=order)
    weak = sorted((x for x in best.values() if x[2].evidence[0] not in strong_kinds), key=order)
    return strong[:fanout * STRONG_FANOUT_FACTOR] + _spread(weak, lambda x: apis[params[x[1]].tool_id], fanout)


def match_fields(
    tools: Sequence[Tool],
    returns: Sequence[FieldNode],
    params: Sequence[FieldNode],
    vectors: np.ndarray,
    ret_vec: Sequence[int | None],
    par_vec: Sequence[int | None],
    embed_partners: dict[int, list[int]],
    threshold: float,
    fanout: int,
) -> tuple[list[Match], int, int]:
    """All (return, parameter) pairs the rule keeps, damped; also the number of candidate pairs scored and
    the largest number of candidate parameters of one return field (the hub size before damping).

    ``embed_partners[i]`` lists the parameters whose text is above the threshold for return ``i`` (FAISS);
    name, entity and credential candidates come from hash joins on the derived facts, so no pair is scored
    that shares nothing.
    """
    apis = {t.id: tool_api(t) for t in tools}
    deletes = {t.id for t in tools if is_delete(t)}
    rfacts, pfacts = all_facts(tools, returns, params, apis)
    index = _ParamIndex.build(params, pfacts, apis)

    def cosine(i: int, j: int) -> float | None:
        a, b = ret_vec[i], par_vec[j]
        return None if a is None or b is None else float(np.dot(vectors[a], vectors[b]))

    kept: list[Match] = []
    scored = max_partners = 0
    for i, (r, rf) in enumerate(zip(returns, rfacts, strict=True)):
        if r.tool_id in deletes or r.source in ("description", "name"):
            continue  # inferred handles match through `entities.entity_ref_matches`
        api = apis[r.tool_id]
        cands = index.candidates(r, rf, api, embed_partners.get(i, []), fanout)
        max_partners = max(max_partners, len(cands))
        best: dict[str, _Scored] = {}
        for j in dict.fromkeys(cands):
            p = params[j]
            if p.tool_id == r.tool_id:
                continue
            scored += 1
            cos = cosine(i, j)
            v = score_pair(r, p, rf, pfacts[j], cos, apis[p.tool_id] == api, threshold,
                           dst_deletes=p.tool_id in deletes)
            cur = best.get(p.tool_id)
            if v is not None and (cur is None or (v.score, -j) > (cur[0], -cur[1])):
                best[p.tool_id] = (v.score, j, v, cos)
        for score, j, v, cos in _damped(best, params, apis, fanout):
            kept.append(Match(i, j, round(score, 6), None if cos is None else round(cos, 6), v.evidence))
    return kept, scored, max_partners


def _strip_path(path: str) -> str:
    return re.sub(r"\[\]", "", path).strip(".").replace("..", ".")


def link_matches(tools: Sequence[Tool], returns: Sequence[FieldNode], params: Sequence[FieldNode]) -> list[Match]:
    """FEEDS pairs declared by OpenAPI 3 links (score 1.0, evidence ``link``): the spec author said so.

    The target is found by ``operationId`` (or ``operationRef`` = path + method) among tools of the same API;
    the response path ``owner/username`` is matched to the extracted field ``[].owner.username`` when there
    is one (else the edge keeps the declared path); parameters must exist on the target.
    """
    by_op: dict[tuple[str, str], str] = {}
    by_ref: dict[tuple[str, str, str], str] = {}
    for t in tools:
        extra = t.extra if isinstance(t.extra, dict) else {}
        if isinstance(extra.get("operationId"), str):
            by_op[(tool_api(t), extra["operationId"])] = t.id
        if isinstance(extra.get("path"), str) and isinstance(extra.get("method"), str):
            by_ref[(tool_api(t), extra["path"], extra["method"].lower())] = t.id
    par_by_tool: dict[tuple[str, str], int] = {}
    for j, p in enumerate(params):
        par_by_tool.setdefault((p.tool_id, p.path or p.name), j)
    ret_by_tool: dict[tuple[str, str], int] = {}
    for i, r in enumerate(returns):
        ret_by_tool.setdefault((r.tool_id, _strip_path(r.path or r.name)), i)
    out: list[Match] = []
    for t in tools:
        api = tool_api(t)
        for link in t.links:
            target = None
            if link.operation_id:
                target = by_op.get((api, link.operation_id))
            elif link.operation_ref:
                ref = link.operation_ref.split("#", 1)[-1].strip("/").split("/")
                if len(ref) == 3 and ref[0] == "paths":
                    path = ref[1].replace("~1", "/").replace("~0", "~")
                    target = by_ref.get((api, path, ref[2].lower()))
            if target is None or target == t.id:
                continue
            j = par_by_tool.get((target, link.param))
            if j is None:
                continue
            i = ret_by_tool.get((t.id, _strip_path(link.from_field)), -1)
            out.append(Match(i, j, 1.0, None, ("link",), src_tool=t.id, from_path=link.from_field))
    return out
