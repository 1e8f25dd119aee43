// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
UNWIND $ids AS i
MATCH (t:Tool {id: i, build: cur})
RETURN t.id AS id, t.name AS name, t.original_name AS original_name, t.description AS description,
       t.category AS category, t.source AS source, t.parameters_json AS parameters_json,
       t.returns_json AS returns_json, t.returns_inferred AS returns_inferred, t.returns_observed AS returns_observed,
       t.read_only AS read_only, t.destructive AS destructive, t.idempotent AS idempotent
