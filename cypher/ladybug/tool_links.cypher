// Tool-level edges of the given types around each seed, both directions.
// seed_field is the seed's own field, other_field the neighbour's.
UNWIND $ids AS sid
MATCH (s:Tool {id: sid})-[r]->(n:Tool)
WHERE label(r) IN $types
RETURN sid AS seed, n.id AS id, label(r) AS type, 'out' AS direction, r.score AS score,
       coalesce(r.from_field, r.param_a) AS seed_field, coalesce(r.to_param, r.param_b) AS other_field
UNION ALL
UNWIND $ids AS sid
MATCH (s:Tool {id: sid})<-[r]-(n:Tool)
WHERE label(r) IN $types
RETURN sid AS seed, n.id AS id, label(r) AS type, 'in' AS direction, r.score AS score,
       coalesce(r.to_param, r.param_b) AS seed_field, coalesce(r.from_field, r.param_a) AS other_field
