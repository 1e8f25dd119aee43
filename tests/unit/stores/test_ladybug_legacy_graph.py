"""A Ladybug graph built before the :Tool hint columns existed still reads (until it is rebuilt)."""

from __future__ import annotations

import os

from toolflow.engine.stores import open_store
from toolflow.engine.stores.ladybug_store import BUILDS, COMPLETE, CURRENT, DB_FILE

#: The Tool table as earlier versions declared it (no read_only/destructive/idempotent/returns_observed).
OLD_TOOL_TABLE = ("CREATE NODE TABLE Tool(id STRING PRIMARY KEY, name STRING, original_name STRING, "
                  "description STRING, category STRING, source STRING, parameters_json STRING, returns_json STRING, "
                  "returns_inferred BOOLEAN, search_text STRING, embedding FLOAT[])")


def test_old_graph_reads_its_tools(tmp_path):
    import ladybug

    folder = tmp_path / "g" / BUILDS / "20260101T000000000000-old"
    folder.mkdir(parents=True)
    db = ladybug.Database(str(folder / DB_FILE))
    conn = ladybug.Connection(db)
    conn.execute(OLD_TOOL_TABLE)
    conn.execute("CREATE (:Tool {id: 'a:x/f', name: 'f', description: 'd', source: 'a', "
                 "parameters_json: '{\"type\": \"object\", \"properties\": {}}', returns_inferred: false})")
    conn.close()
    db.close()
    (folder / COMPLETE).write_text("old")
    os.symlink(os.path.join(BUILDS, folder.name), tmp_path / "g" / CURRENT)
    with open_store(str(tmp_path / "g"), read_only=True) as store:
        (tool,) = store.get_tools(["a:x/f"])
    assert tool.name == "f" and tool.hints is None and not tool.returns_observed


#: The FEEDS table as earlier versions declared it (no probability/verified).
OLD_FEEDS_TABLE = ("CREATE REL TABLE FEEDS(FROM Tool TO Tool, score DOUBLE, from_field STRING, to_param STRING, "
                   "evidence STRING, cosine DOUBLE, returns_source STRING)")


def test_old_graph_reads_its_feeds_and_neighbors(tmp_path):
    import ladybug

    folder = tmp_path / "g" / BUILDS / "20260101T000000000000-old"
    folder.mkdir(parents=True)
    db = ladybug.Database(str(folder / DB_FILE))
    conn = ladybug.Connection(db)
    conn.execute(OLD_TOOL_TABLE)
    conn.execute(OLD_FEEDS_TABLE)
    conn.execute("CREATE REL TABLE SHARES_INPUT(FROM Tool TO Tool, score DOUBLE, param_a STRING, param_b STRING)")
    for name in ("f", "g"):
        conn.execute(f"CREATE (:Tool {{id: 'a:x/{name}', name: '{name}', description: 'd', source: 'a', "
                     "parameters_json: '{\"type\": \"object\", \"properties\": {}}', returns_inferred: false})")
    conn.execute("MATCH (a:Tool {id: 'a:x/f'}), (b:Tool {id: 'a:x/g'}) CREATE (a)-[:FEEDS {score: 0.9, "
                 "from_field: 'id', to_param: 'g_id', evidence: 'name', returns_source: 'declared'}]->(b)")
    conn.close()
    db.close()
    (folder / COMPLETE).write_text("old")
    os.symlink(os.path.join(BUILDS, folder.name), tmp_path / "g" / CURRENT)
    with open_store(str(tmp_path / "g"), read_only=True) as store:
        (edge,) = store.run("feeds_all")
        (out,) = store.neighbors("a:x/f", ["FEEDS"])
    assert edge["evidence"] == "name" and edge["probability"] is None and edge["verified"] is None
    assert out["id"] == "a:x/g" and out["probability"] is None
