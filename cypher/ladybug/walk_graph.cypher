// The walk's whole graph in one statement, in the shape of cypher/neo4j/walk_graph.cypher: a first row
// (type '') with every tool (keys = tool ids here: the embedded store reads them as cheaply as any key),
// then one row per relationship type among $types with its edges, each once in its stored direction.
MATCH (t:Tool)
RETURN '' AS type, collect(t.id) AS keys, collect(t.id) AS ids, CAST([], 'STRING[]') AS src,
       CAST([], 'STRING[]') AS dst, CAST([], 'DOUBLE[]') AS score, CAST([], 'STRING[]') AS field_a,
       CAST([], 'STRING[]') AS field_b
UNION ALL
MATCH (a:Tool)-[r:FEEDS|SHARES_INPUT|SIMILAR]->(b:Tool)
WHERE label(r) IN $types
RETURN label(r) AS type, CAST([], 'STRING[]') AS keys, CAST([], 'STRING[]') AS ids, collect(a.id) AS src,
       collect(b.id) AS dst, collect(r.score) AS score, collect(coalesce(r.from_field, r.param_a, '')) AS field_a,
       collect(coalesce(r.to_param, r.param_b, '')) AS field_b
