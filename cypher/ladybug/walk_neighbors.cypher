// The edges of many tools at once (one walk step for a whole batch), over the types in $types, both
// directions: two halves, because Ladybug's start_node() follows the pattern's direction, not the stored
// one. One row per tool and half, edges as parallel lists (fewer rows to convert than one per edge).
// this_field is the field on the src side, other_field the neighbour's; '' when the edge has none (collect
// would drop nulls and misalign the lists). Lists come unordered: Python sorts before drawing.
UNWIND $ids AS i
MATCH (a:Tool {id: i})-[r:FEEDS|SHARES_INPUT|SIMILAR]->(b:Tool)
WHERE label(r) IN $types
RETURN i AS src, collect(b.id) AS cand, collect(label(r)) AS type, collect(r.score) AS score, collect(true) AS out,
       collect(coalesce(r.from_field, r.param_a, '')) AS this_field,
       collect(coalesce(r.to_param, r.param_b, '')) AS other_field
UNION ALL
UNWIND $ids AS i
MATCH (a:Tool {id: i})<-[r:FEEDS|SHARES_INPUT|SIMILAR]-(b:Tool)
WHERE label(r) IN $types
RETURN i AS src, collect(b.id) AS cand, collect(label(r)) AS type, collect(r.score) AS score, collect(false) AS out,
       collect(coalesce(r.to_param, r.param_b, '')) AS this_field,
       collect(coalesce(r.from_field, r.param_a, '')) AS other_field
