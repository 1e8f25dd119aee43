"""Retriever training pairs from kept dialogues (`toolflow export … --format retrieval --store S`).

Every user request that led to tool calls becomes one example: the request text is the query, the tools
called in answer to it are the positives, and the hard negatives are the graph's SIMILAR neighbours of the
positives that the dialogue never called (tools that sound alike but were not what the request needed:
the pairs a retriever gets wrong). Tools called elsewhere in the same dialogue are never negatives, since
a later request's tool may well fit this one too and a false negative hurts contrastive training.

The query is the user's words since the previous tool calls (a clarification answer such as "Paris,
please" is joined to the request it completes). Tool text is ``text.tool_document``: name, description,
parameter names and descriptions (what BM25 sees; the raw text, not the analyzed one).

Output JSONL, one row per (request, positive tool), with the sentence-transformers columns first:
``anchor`` (query), ``positive`` (tool text), ``negative`` (the hardest negative's text, or null when the
positive has none), then metadata: ``query_id``, ``dialogue_id``, ``turn``, ``positive_id``,
``negative_id``, ``negative_ids`` (all hard negatives of this positive, best first), ``negatives`` (their
texts). For (anchor, positive, negative) training with MultipleNegativesRankingLoss:

    ds = datasets.load_dataset("json", data_files="pairs.jsonl", split="train")
    triplets = ds.filter(lambda r: r["negative"] is not None).select_columns(["anchor", "positive", "negative"])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from toolflow.engine.graph.search_text import tool_document
from toolflow.engine.jsonl import write_jsonl
from toolflow.engine.stores.base import GraphStore

MAX_NEGATIVES = 5


class Request(BaseModel):
    """One user request and the tool names called in answer to it."""

    dialogue_id: str
    turn: int
    query: str
    called: list[str]


def requests(dialogue: dict[str, Any]) -> list[Request]:
    """Split a dialogue's messages into user requests and the calls that answered them."""
    out: list[Request] = []
    pending: list[str] = []  # user words since the last calls
    called: list[str] = []
    turn = 0

    def flush() -> None:
        nonlocal pending, called, turn
        if called and pending:
            out.append(Request(dialogue_id=str(dialogue.get("id")), turn=turn, query="\n".join(pending),
                               called=list(dict.fromkeys(called))))
            turn += 1
            pending, called = [], []

    for m in dialogue.get("messages") or []:
        role = m.get("role")
        if role == "user":
            flush()
            text = (m.get("content") or "").strip()
            if text:
                pending.append(text)
        elif role == "assistant":
            for call in m.get("tool_calls") or []:
                name = (call.get("function") or {}).get("name")
                if name:
                    called.append(name)
    flush()
    return out


def _name_to_id(dialogue: dict[str, Any], store: GraphStore, catalog: dict[str, list[str]]) -> dict[str, str]:
    """Tool names of this dialogue → graph ids: the sample's tools first, then unique names in the graph."""
    ids = list((dialogue.get("sample") or {}).get("tool_ids") or [])
    known = {r["id"]: r["name"] for r in store.run("tool_catalog_by_ids", {"ids": ids})} if ids else {}
    mapping = {name: tid for tid, name in known.items()}
    for name, tids in catalog.items():
        if name not in mapping and len(tids) == 1:
            mapping[name] = tids[0]
    return mapping


def training_rows(dialogues: Iterable[dict[str, Any]], store: GraphStore, max_negatives: int = MAX_NEGATIVES,
                  unmatched: dict[str, int] | None = None) -> Iterator[dict[str, Any]]:
    """Rows as described in the module docstring; tool names not in the graph are counted in `unmatched`."""
    catalog: dict[str, list[str]] = {}
    for r in store.tool_catalog():
        catalog.setdefault(r["name"], []).append(r["id"])
    docs: dict[str, str] = {}

    def doc(tool_id: str) -> str:
        if tool_id not in docs:
            docs[tool_id] = tool_document(store.get_tools([tool_id])[0])
        return docs[tool_id]

    for d in dialogues:
        reqs = requests(d)
        if not reqs:
            continue
        to_id = _name_to_id(d, store, catalog)
        all_called = {to_id[n] for r in reqs for n in r.called if n in to_id}
        for req in reqs:
            positives = [to_id[n] for n in req.called if n in to_id]
            if unmatched is not None:
                for n in req.called:
                    if n not in to_id:
                        unmatched[n] = unmatched.get(n, 0) + 1
            if not positives:
                continue
            links = store.tool_links(positives, ["SIMILAR"])
            for pos in positives:
                negs = [lk["id"] for lk in links if lk["seed"] == pos and lk["id"] not in all_called]
                negs = list(dict.fromkeys(negs))[:max_negatives]
                yield {
                    "anchor": req.query,
                    "positive": doc(pos),
                    "negative": doc(negs[0]) if negs else None,
                    "query_id": f"{req.dialogue_id}#{req.turn}",
                    "dialogue_id": req.dialogue_id,
                    "turn": req.turn,
                    "positive_id": pos,
                    "negative_id": negs[0] if negs else None,
                    "negative_ids": negs,
                    "negatives": [doc(n) for n in negs],
                }


def export_training_pairs(dialogues: Iterable[dict[str, Any]], store: GraphStore, out: Path) -> dict[str, Any]:
    """Write the rows to `out` (atomically); returns the count and the called tools missing from the graph."""
    unmatched: dict[str, int] = {}
    # a failed write (full disk) leaves `out` as it was and no half file beside it
    n = write_jsonl(out, training_rows(dialogues, store, unmatched=unmatched))
    return {"written": n, "unmatched_tool_calls": sum(unmatched.values()), "unmatched_tools": sorted(unmatched)[:20]}


def export_from_file(src: Path, store_spec: str | None, out: Path) -> dict[str, Any]:
    """The `export --format retrieval` hook: kept dialogues of `src` against the graph in `store_spec`."""
    from toolflow.engine.stores import open_store
    from toolflow.engine.synth.export import iter_dialogues

    try:
        store = open_store(store_spec, read_only=True)
    except (FileNotFoundError, ConnectionError) as exc:
        raise ValueError(f"--store: {exc}") from exc
    with store:
        return export_training_pairs(iter_dialogues(src), store, out)
