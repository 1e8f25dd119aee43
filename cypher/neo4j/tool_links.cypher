// Tool-level edges of the given types around each seed, both directions.
// seed_field is the seed's own field, other_field the neighbour's.
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
UNWIND $ids AS sid
MATCH (s:Tool {id: sid, build: cur})-[r]->(n:Tool)
WHERE type(r) IN $types AND r.build = cur
RETURN sid AS seed, n.id AS id, type(r) AS type, 'out' AS direction, r.score AS score,
       coalesce(r.from_field, r.param_a) AS seed_field, coalesce(r.to_param, r.param_b) AS other_field
UNION ALL
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
UNWIND $ids AS sid
MATCH (s:Tool {id: sid, build: cur})<-[r]-(n:Tool)
WHERE type(r) IN $types AND r.build = cur
RETURN sid AS seed, n.id AS id, type(r) AS type, 'in' AS direction, r.score AS score,
       coalesce(r.to_param, r.param_b) AS seed_field, coalesce(r.from_field, r.param_a) AS other_field
