// The neighbours of many tools at once (one walk step for a whole batch) over the types in $types, both
// directions: two halves, because Ladybug's start_node() follows the pattern's direction, not the stored
// one. One row per tool and half, three parallel lists: neighbour id, edge score, and a detail string
// 'TYPE|1|src_field|cand_field' (1 = stored src→cand; fields '' when the edge has none). Three values per
// edge instead of six: the drivers' cost is per value. Lists come unordered: Python sorts.
// UNWIND + MATCH by id, unlike tool_links.cypher's `id IN $ids`: a walk step asks for thousands of tools, and
// the IN filter checks every scanned edge against the whole list (full ToolBench graph, per-step walk of
// 10,000 samples, two runs: 1,029 samples/s with IN, 1,701 with UNWIND).
UNWIND $ids AS i
MATCH (a:Tool {id: i})-[r:FEEDS|SHARES_INPUT|SIMILAR]->(b:Tool)
WHERE label(r) IN $types
RETURN i AS src, collect(b.id) AS cand, collect(r.score) AS score,
       collect(label(r) + '|1|' + coalesce(r.from_field, r.param_a, '') + '|' + coalesce(r.to_param, r.param_b, ''))
         AS detail
UNION ALL
UNWIND $ids AS i
MATCH (a:Tool {id: i})<-[r:FEEDS|SHARES_INPUT|SIMILAR]-(b:Tool)
WHERE label(r) IN $types
RETURN i AS src, collect(b.id) AS cand, collect(r.score) AS score,
       collect(label(r) + '|0|' + coalesce(r.to_param, r.param_b, '') + '|' + coalesce(r.from_field, r.param_a, ''))
         AS detail
