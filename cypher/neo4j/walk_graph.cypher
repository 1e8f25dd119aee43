// The walk's whole graph in one statement: a first row (type '') with every tool of the current build as
// parallel lists of internal node ids (keys) and tool ids, then one row per relationship type among $types
// with its edges as parallel lists, each edge once in its stored direction, its ends as internal node ids.
// Why this shape (measured on a ToolBench-sized graph of 244k walk edges, one busy 2-core machine):
//  * the tool rows start from the build index and follow only their own edges: an edge between two tools
//    of one build belongs to that build (write_*.cypher match both ends by build), so no per-edge r.build
//    read (0.27 s instead of 0.9-1.6 s to count the edges);
//  * internal ids instead of a.id/b.id: integers cost the server no property read and Bolt a few bytes,
//    where two tool-id strings per edge doubled the time; Python maps them back through the first row;
//  * one row per type: the type travels once per row, not once per edge;
//  * one map projection of the edge's properties: the fields are read in one pass over its properties
//    where coalesce(r.from_field, r.param_a) searched a SHARES_INPUT edge's properties twice.
// Server CPU per read on that graph: 0.58 s, where walk_all_edges + walk_connected_ids + walk_type_mass
// took 1.1-1.5 + 0.3 + 0.3 s.
// id() is deprecated without a replacement; the store silences deprecation notices (neo4j_store.py).
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (t:Tool {build: cur})
RETURN '' AS type, collect(id(t)) AS keys, collect(t.id) AS ids, [] AS src, [] AS dst, [] AS score,
       [] AS field_a, [] AS field_b
UNION ALL
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (a:Tool {build: cur})-[r:FEEDS|SHARES_INPUT|SIMILAR]->(b:Tool)
WHERE type(r) IN $types
WITH type(r) AS type, id(a) AS a, id(b) AS b, r {.score, .from_field, .to_param, .param_a, .param_b} AS p
RETURN type, [] AS keys, [] AS ids, collect(a) AS src, collect(b) AS dst, collect(p.score) AS score,
       collect(coalesce(p.from_field, p.param_a, '')) AS field_a, collect(coalesce(p.to_param, p.param_b, '')) AS field_b
