// The neighbours of many tools at once (one walk step for a whole batch) over the types in $types, both
// directions. One row per tool, three parallel lists: neighbour id, edge score, and a detail string
// 'TYPE|1|src_field|cand_field' (1 = stored src→cand; fields '' when the edge has none). Three values per
// edge instead of six: the Bolt driver's cost is per value. Python sorts before drawing.
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
UNWIND $ids AS i
MATCH (a:Tool {id: i, build: cur})-[r:FEEDS|SHARES_INPUT|SIMILAR]-(b:Tool)
WHERE type(r) IN $types
WITH i, r, b, startNode(r) = a AS out
RETURN i AS src, collect(b.id) AS cand, collect(r.score) AS score,
       collect(CASE WHEN out
                 THEN type(r) + '|1|' + coalesce(r.from_field, r.param_a, '') + '|' + coalesce(r.to_param, r.param_b, '')
                 ELSE type(r) + '|0|' + coalesce(r.to_param, r.param_b, '') + '|' + coalesce(r.from_field, r.param_a, '')
               END) AS detail
