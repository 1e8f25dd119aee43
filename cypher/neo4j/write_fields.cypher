UNWIND $rows AS r
MERGE (f:Field {id: r.id, build: $build})
SET f.tool_id = r.tool_id, f.name = r.name, f.description = r.description, f.type = r.type, f.role = r.role,
    f.required = r.required, f.source = r.source
WITH f, r
MATCH (t:Tool {id: r.tool_id, build: $build})
FOREACH (_ IN CASE WHEN r.role = 'param' THEN [1] ELSE [] END | MERGE (t)-[e:HAS_PARAM]->(f) SET e.build = $build)
FOREACH (_ IN CASE WHEN r.role = 'return' THEN [1] ELSE [] END | MERGE (t)-[e:RETURNS]->(f) SET e.build = $build)
