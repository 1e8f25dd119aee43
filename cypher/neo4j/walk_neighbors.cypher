// The edges of many tools at once (one walk step for a whole batch), over the types in $types, both
// directions. One row per tool, edges as parallel lists: measured 2x faster through the Bolt driver than
// one row per edge. this_field is the field on the src side, other_field the neighbour's; '' when the edge
// has none (collect would drop nulls and misalign the lists). Python sorts before drawing.
UNWIND $ids AS i
MATCH (a:Tool {id: i})-[r:FEEDS|SHARES_INPUT|SIMILAR]-(b:Tool)
WHERE type(r) IN $types
WITH i, r, b, startNode(r) = a AS out
RETURN i AS src, collect(b.id) AS cand, collect(type(r)) AS type, collect(r.score) AS score, collect(out) AS out,
       collect(CASE WHEN out THEN coalesce(r.from_field, r.param_a, '') ELSE coalesce(r.to_param, r.param_b, '') END)
         AS this_field,
       collect(CASE WHEN out THEN coalesce(r.to_param, r.param_b, '') ELSE coalesce(r.from_field, r.param_a, '') END)
         AS other_field
