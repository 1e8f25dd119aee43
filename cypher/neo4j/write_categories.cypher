UNWIND $rows AS r
MERGE (c:Category {name: r.name, build: $build})
WITH c, r
MATCH (t:Tool {id: r.tool_id, build: $build})
MERGE (t)-[e:IN_CATEGORY]->(c)
SET e.build = $build
