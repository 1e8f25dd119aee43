// Tool-level edges of the given types around each seed, both directions.
// seed_field is the seed's own field, other_field the neighbour's.
// `s.id IN $ids` rather than UNWIND: Ladybug turns it into a filter on the scan of the seeds' adjacency
// (measured on the full ToolBench graph, 5 seeds: 3.4 ms, against 170 ms for UNWIND + MATCH).
MATCH (s:Tool)-[r:FEEDS|SHARES_INPUT|SIMILAR]->(n:Tool)
WHERE s.id IN $ids AND label(r) IN $types
RETURN s.id AS seed, n.id AS id, label(r) AS type, 'out' AS direction, r.score AS score,
       coalesce(r.from_field, r.param_a) AS seed_field, coalesce(r.to_param, r.param_b) AS other_field
UNION ALL
MATCH (s:Tool)<-[r:FEEDS|SHARES_INPUT|SIMILAR]-(n:Tool)
WHERE s.id IN $ids AND label(r) IN $types
RETURN s.id AS seed, n.id AS id, label(r) AS type, 'in' AS direction, r.score AS score,
       coalesce(r.to_param, r.param_b) AS seed_field, coalesce(r.from_field, r.param_a) AS other_field
