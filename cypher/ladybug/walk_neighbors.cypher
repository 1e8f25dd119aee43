// The neighbours of many tools at once (one walk step for a whole batch) over the types in $types, both
// directions: two halves, because Ladybug's start_node() follows the pattern's direction, not the stored
// one. One row per tool and half, three parallel lists: neighbour id, edge score, and a detail string
// 'TYPE|1|src_field|cand_field' (1 = stored src→cand; fields '' when the edge has none). Three values per
// edge instead of six: the drivers' cost is per value. Lists come unordered: Python sorts.
// `a.id IN $ids` rather than UNWIND + MATCH: Ladybug filters the adjacency scan instead of joining per id
// (tool_links.cypher: 3.4 ms against 170 ms for 5 ids on the full ToolBench graph). $ids are distinct.
MATCH (a:Tool)-[r:FEEDS|SHARES_INPUT|SIMILAR]->(b:Tool)
WHERE a.id IN $ids AND label(r) IN $types
RETURN a.id AS src, collect(b.id) AS cand, collect(r.score) AS score,
       collect(label(r) + '|1|' + coalesce(r.from_field, r.param_a, '') + '|' + coalesce(r.to_param, r.param_b, ''))
         AS detail
UNION ALL
MATCH (a:Tool)<-[r:FEEDS|SHARES_INPUT|SIMILAR]-(b:Tool)
WHERE a.id IN $ids AND label(r) IN $types
RETURN a.id AS src, collect(b.id) AS cand, collect(r.score) AS score,
       collect(label(r) + '|0|' + coalesce(r.to_param, r.param_b, '') + '|' + coalesce(r.from_field, r.param_a, ''))
         AS detail
