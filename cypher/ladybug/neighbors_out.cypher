// Edges leaving the tool; this_field is the tool's own field, other_field the neighbour's.
MATCH (a:Tool {id: $id})-[r]->(b:Tool)
WHERE label(r) IN $types
RETURN label(r) AS type, 'out' AS direction, b.id AS id, b.name AS name, r.score AS score,
       coalesce(r.from_field, r.param_a) AS this_field, coalesce(r.to_param, r.param_b) AS other_field,
       r.evidence AS evidence, r.probability AS probability
ORDER BY score DESC, id
