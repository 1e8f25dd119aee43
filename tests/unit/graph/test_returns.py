"""Returns inferred for tools that declare none, entity references, provenance in both stores, and the
leave-one-set-out split of the edge calibrator."""

from __future__ import annotations

import json

from click.testing import CliRunner

from toolflow.engine.cli import main
from toolflow.engine.graph.build import build_graph
from toolflow.engine.graph.crossval import LabelledGraph, fit_calibrator, in_sample, leave_one_set_out
from toolflow.engine.graph.embedding import HashingEmbedder
from toolflow.engine.graph.evaluate import EdgeRow, LabelSet
from toolflow.engine.graph.returns import infer_returns
from toolflow.engine.models import Tool


def _tool(name: str, desc: str, params: dict[str, str], returns: dict | None = None, **kw) -> Tool:
    props = {p: {"type": t, "description": ""} for p, t in params.items()}
    return Tool(id=f"mcp:git/{name}", name=name, description=desc, source="mcp",
                parameters={"type": "object", "properties": props, "required": list(params)}, returns=returns, **kw)


# A schema-less, MCP-like tool set: what each tool returns is only in its name and prose.
TOOLS = [
    _tool("search_repositories", "Search for repositories", {"query": "string"}),
    _tool("create_issue", "Creates an issue in a repository and returns it", {"repo": "string", "title": "string"}),
    _tool("get_issue", "Get details of a specific issue", {"repo": "string", "issue_number": "integer"}),
    _tool("delete_issue", "Delete an issue. Returns only a success message",
          {"repo": "string", "issue_number": "integer"}),
    _tool("add_comment", "Add a comment to an issue", {"repo": "string", "body": "string"}),
    _tool("list_files", "Returns the list of files in a folder of the repository", {"repo": "string"}),
    _tool("read_file", "Read a file of the repository", {"repo": "string", "path": "string"}),
]


def _graph(returns: str = "infer"):
    data, _ = build_graph(TOOLS, HashingEmbedder, HashingEmbedder().name, returns=returns)
    return data


def _pairs(data) -> dict[tuple[str, str], dict]:
    name = {t.id: t.name for t in data.tools}
    return {(name[e["src"]], name[e["dst"]]): e for e in data.feeds}


def test_prose_only_returns_a_list_a_created_object_and_nothing():
    listing, src = infer_returns(TOOLS[5])
    assert src == "description" and listing["type"] == "array"
    assert set(listing["items"]["properties"]) == {"path", "name"}  # files are passed on by path
    created, src = infer_returns(TOOLS[1])
    assert src == "name" and created["type"] == "object" and "number" in created["properties"]
    assert created["properties"]["id"]["x-entity"] == "issue"
    assert infer_returns(TOOLS[3]) == (None, "none")  # "returns only a success message"
    declared = _tool("get_thing", "Get a thing", {}, returns={"type": "object", "properties": {"x": {"type": "string"}}})
    assert infer_returns(declared) == (declared.returns, "declared")
    example = declared.model_copy(update={"returns_inferred": True})
    assert infer_returns(example)[1] == "example"


def test_entity_references_across_differently_named_fields():
    pairs = _pairs(_graph())
    # a listed/created record feeds every parameter naming its entity, whatever the parameter is called
    assert pairs[("search_repositories", "get_issue")]["to_param"] == "repo"
    assert pairs[("create_issue", "get_issue")]["to_param"] == "issue_number"
    assert pairs[("create_issue", "get_issue")]["from_field"] == "number"
    assert pairs[("list_files", "read_file")]["from_field"] == "[].path"  # listing -> element
    edge = pairs[("create_issue", "delete_issue")]
    assert edge["evidence"] == "entity_ref+from_name" and edge["returns_source"] == "name"
    assert pairs[("list_files", "read_file")]["returns_source"] == "description"


def test_hard_negatives_delete_then_read_and_same_word_other_entity():
    pairs = _pairs(_graph())
    assert ("delete_issue", "get_issue") not in pairs  # a deleted record is not read again
    assert ("add_comment", "get_issue") not in pairs  # a comment's number is not an issue number
    assert ("list_files", "get_issue") not in pairs  # a file path is not an issue


TEXT = {"type": "object", "properties": {"content": {"type": "string"}}}
FS = [
    _tool("list_roots", "Returns the list of directories that this server may access", {}, returns=TEXT),
    _tool("find_entries", "Search for files and folders. Returns full paths to all matching items",
          {"pattern": "string"}, returns=TEXT),
    _tool("list_directory", "List a directory", {"path": "string"}, returns=TEXT),
    _tool("read_text_file", "Read a text file", {"path": "string"}, returns=TEXT),
]


def test_declared_text_returns_are_read_through_the_prose():
    data, _ = build_graph(FS, HashingEmbedder, HashingEmbedder().name)
    pairs = _pairs(data)
    assert pairs[("list_roots", "list_directory")]["from_field"] == "content_items[].path"
    assert pairs[("find_entries", "read_text_file")]["returns_source"] == "description"
    assert ("list_roots", "read_text_file") not in pairs  # a directory path is not a file to read
    declared = {f.path for f in data.fields if f.tool_id.endswith("list_roots") and f.role == "return"}
    assert "content" in declared  # the declared leaf stays


def _listing(name: str, desc: str, params: list[str], items: list[str]) -> Tool:
    props = {k: {"type": "string"} for k in items}
    return _tool(name, desc, dict.fromkeys(params, "string"),
                 returns={"type": "array", "items": {"type": "object", "properties": props}})


def test_declared_listing_names_feed_file_name_and_path_parameters():
    tools = [
        _listing("list_files", "List the entries of a folder", ["folder"], ["name", "type"]),
        _listing("list_users", "List users", [], ["name"]),
        _tool("read_file", "Read a file", {"file_name": "string"},
              returns={"type": "object", "properties": {"text": {"type": "string"}}}),
        _tool("move_file", "Move a file", {"path": "string", "destination": "string"},
              returns={"type": "object", "properties": {"moved": {"type": "boolean"}}}),
    ]
    data, _ = build_graph(tools, HashingEmbedder, HashingEmbedder().name)
    pairs = _pairs(data)
    assert (pairs[("list_files", "read_file")]["from_field"], pairs[("list_files", "read_file")]["to_param"]) == (
        "[].name", "file_name")
    assert pairs[("list_files", "move_file")]["to_param"] == "path"
    assert ("list_users", "read_file") not in pairs  # a user's name is not a file name
    tools[0] = _listing("list_directory", "List a directory", ["path"], ["name", "type"])
    pairs = _pairs(build_graph(tools, HashingEmbedder, HashingEmbedder().name)[0])
    assert pairs[("list_directory", "read_file")]["to_param"] == "file_name"  # its entries are files too


def test_scalar_list_elements_are_handles_of_their_entity():
    tools = [
        _tool("list_keys", "List stored keys", {}, returns={"type": "object", "properties": {
            "keys": {"type": "array", "items": {"type": "string"}}}}),
        _tool("get_value", "Get the value stored under a key", {"key": "string"},
              returns={"type": "object", "properties": {"value": {"type": "string"}}}),
        _tool("delete_value", "Delete a key", {"key": "string"},
              returns={"type": "object", "properties": {"keys": {"type": "array", "items": {"type": "string"}}}}),
    ]
    pairs = _pairs(build_graph(tools, HashingEmbedder, HashingEmbedder().name)[0])
    assert (pairs[("list_keys", "get_value")]["from_field"], pairs[("list_keys", "get_value")]["to_param"]) == (
        "keys[]", "key")
    assert ("delete_value", "get_value") not in pairs  # what a delete returns names records that are gone


def test_returns_declared_turns_inference_off():
    data = _graph("declared")
    assert data.feeds == []
    assert not [f for f in data.fields if f.role == "return"]


# ---- leave-one-set-out ---------------------------------------------------------------------------------

def _labelled(name: str, good: float, bad: float) -> LabelledGraph:
    labels = LabelSet(tools=["A", "B", "C"], flows=[{"from": "A", "to": "B", "kind": "id"}])
    tools = [(f"{name}:A", "A"), (f"{name}:B", "B"), (f"{name}:C", "C")]
    edges = [EdgeRow(f"{name}:A", f"{name}:B", evidence="entity_id", score=good),
             EdgeRow(f"{name}:A", f"{name}:C", evidence="embedding", score=bad)]
    return LabelledGraph(name, labels, tools, edges)


def test_leave_one_set_out_never_fits_on_the_left_out_set():
    graphs = {n: _labelled(n, 0.95, 0.83) for n in ("s1", "s2", "s3")}
    seen: list[set[str]] = []

    def spy(train):
        seen.append({g.name for g in train})
        return fit_calibrator(train)

    scores = leave_one_set_out(graphs, fit=spy)
    assert seen == [{"s2", "s3"}, {"s1", "s3"}, {"s1", "s2"}]
    # the calibrator learned from the other sets that embedding-only edges are false here
    assert [(s.tp, s.fp) for s in scores] == [(1, 0)] * 3
    assert [(s.tp, s.fp) for s in in_sample(graphs)] == [(1, 0)] * 3


def test_cli_build_returns_infer_and_declared_and_neighbors_json(tmp_path):
    path = tmp_path / "tools.jsonl"
    path.write_text("".join(json.dumps({"name": t.name, "description": t.description, "parameters": t.parameters})
                            + "\n" for t in TOOLS))
    runner = CliRunner()
    for mode, store in (("infer", tmp_path / "g1"), ("declared", tmp_path / "g2")):
        res = runner.invoke(main, ["graph", "build", str(path), "--store", str(store), "--embedder", "hashing",
                                   "--returns", mode])
        assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["graph", "neighbors", "create_issue", "--type", "FEEDS", "--store",
                               str(tmp_path / "g1"), "--json"])
    rows = json.loads(res.output)
    out = {r["name"]: r for r in rows if r["direction"] == "out"}
    assert out["get_issue"]["evidence"] == "entity_ref+from_name" and out["get_issue"]["this_field"] == "number"
    res = runner.invoke(main, ["graph", "neighbors", "create_issue", "--type", "FEEDS", "--store",
                               str(tmp_path / "g2"), "--json"])
    assert not [r for r in json.loads(res.output) if r["direction"] == "out"]  # --returns declared: none


# ---- hits of a search across parent records carry the parent --------------------------------------------

def test_search_across_parents_carries_the_parent_handles():
    tools = [
        _tool("search_code", "Search for code across GitHub repositories", {"q": "string"}),
        _tool("search_issues", "Search for issues across GitHub repositories", {"q": "string"}),
        _tool("search_projects", "Search for projects across repositories", {"repo": "string", "q": "string"}),
        _tool("get_issue", "Get one issue", {"repo": "string", "issue_number": "integer"}),
        _tool("list_commits", "List commits of a repository", {"repo": "string", "sha": "string"}),
    ]
    data, _ = build_graph(tools, HashingEmbedder, HashingEmbedder().name)
    pairs = _pairs(data)
    # a code hit is addressed only through its repository, so it says which one it came from
    assert pairs[("search_code", "list_commits")]["from_field"] == "[].repository.name"
    assert pairs[("search_code", "list_commits")]["to_param"] == "repo"
    assert pairs[("search_code", "get_issue")]["returns_source"] == "description"
    # an issue has a handle of its own (issue_number): no parent is invented for its hits
    assert ("search_issues", "list_commits") not in pairs
    assert pairs[("search_issues", "get_issue")]["to_param"] == "issue_number"
    # a search scoped by a repository parameter spans no repositories
    assert ("search_projects", "list_commits") not in pairs
