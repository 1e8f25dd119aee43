UNWIND $rows AS r
MERGE (t:Tool {id: r.id, build: $build})
SET t.name = r.name, t.original_name = r.original_name, t.description = r.description, t.category = r.category,
    t.source = r.source, t.parameters_json = r.parameters_json, t.returns_json = r.returns_json,
    t.returns_inferred = r.returns_inferred, t.returns_observed = r.returns_observed,
    t.read_only = r.read_only, t.destructive = r.destructive, t.idempotent = r.idempotent, t.search_text = r.search_text, t.embedding = r.embedding
