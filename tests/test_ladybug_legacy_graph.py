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
