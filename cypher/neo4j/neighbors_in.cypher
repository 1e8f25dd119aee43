// Edges arriving at the tool; this_field is the tool's own field, other_field the neighbour's.
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (a:Tool {id: $id, build: cur})<-[r]-(b:Tool)
WHERE type(r) IN $types
RETURN type(r) AS type, 'in' AS direction, b.id AS id, b.name AS name, r.score AS score,
       coalesce(r.to_param, r.param_b) AS this_field, coalesce(r.from_field, r.param_a) AS other_field,
       r.evidence AS evidence, r.probability AS probability
ORDER BY score DESC, id
