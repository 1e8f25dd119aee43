// Details of the edges walks took, one query per batch: every edge of the types in $types between each
// {src, cand} pair, with its stored direction. this_field is src's field.
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
UNWIND $pairs AS p
MATCH (a:Tool {id: p.src, build: cur})-[r:FEEDS|SHARES_INPUT|SIMILAR]-(b:Tool)
WHERE b.id = p.cand AND type(r) IN $types
WITH p, r, startNode(r) = a AS out
RETURN p.src AS src, p.cand AS cand, type(r) AS type, r.score AS score, out,
       CASE WHEN out THEN coalesce(r.from_field, r.param_a) ELSE coalesce(r.to_param, r.param_b) END AS this_field,
       CASE WHEN out THEN coalesce(r.to_param, r.param_b) ELSE coalesce(r.from_field, r.param_a) END AS other_field
