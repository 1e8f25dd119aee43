// One step for a whole batch of walkers: every edge from a walker's `frm` tools to a tool it has not
// visited, over the relationship types in $types, both directions (two halves, because Ladybug's
// start_node() follows the pattern's direction, not the stored one). The draw happens in Python.
// this_field is the field on the src side, other_field the candidate's.
UNWIND $walkers AS w
UNWIND w.frm AS v
MATCH (a:Tool {id: v})-[r:FEEDS|SHARES_INPUT|SIMILAR]->(b:Tool)
WHERE label(r) IN $types AND NOT b.id IN w.visited
RETURN w.wid AS wid, v AS src, b.id AS cand, label(r) AS type, r.score AS score, true AS out,
       coalesce(r.from_field, r.param_a) AS this_field, coalesce(r.to_param, r.param_b) AS other_field
UNION ALL
UNWIND $walkers AS w
UNWIND w.frm AS v
MATCH (a:Tool {id: v})<-[r:FEEDS|SHARES_INPUT|SIMILAR]-(b:Tool)
WHERE label(r) IN $types AND NOT b.id IN w.visited
RETURN w.wid AS wid, v AS src, b.id AS cand, label(r) AS type, r.score AS score, false AS out,
       coalesce(r.to_param, r.param_b) AS this_field, coalesce(r.from_field, r.param_a) AS other_field
