// One step for a whole batch of walkers: every edge from a walker's `frm` tools to a tool it has not
// visited, over the relationship types in $types, both directions. The draw happens in Python.
// this_field is the field on the src side, other_field the candidate's.
UNWIND $walkers AS w
UNWIND w.frm AS v
MATCH (a:Tool {id: v})-[r:FEEDS|SHARES_INPUT|SIMILAR]-(b:Tool)
WHERE type(r) IN $types AND NOT b.id IN w.visited
WITH w, v, r, b, startNode(r) = a AS out
RETURN w.wid AS wid, v AS src, b.id AS cand, type(r) AS type, r.score AS score, out,
       CASE WHEN out THEN coalesce(r.from_field, r.param_a) ELSE coalesce(r.to_param, r.param_b) END AS this_field,
       CASE WHEN out THEN coalesce(r.to_param, r.param_b) ELSE coalesce(r.from_field, r.param_a) END AS other_field
