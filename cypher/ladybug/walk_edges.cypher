// Details of the edges walks took, one query per batch: every edge of the types in $types between each
// {src, cand} pair, in two halves (stored src→cand, then cand→src). this_field is src's field.
UNWIND $pairs AS p
MATCH (a:Tool {id: p.src})-[r:FEEDS|SHARES_INPUT|SIMILAR]->(b:Tool)
WHERE b.id = p.cand AND label(r) IN $types
RETURN p.src AS src, p.cand AS cand, label(r) AS type, r.score AS score, true AS out,
       coalesce(r.from_field, r.param_a) AS this_field, coalesce(r.to_param, r.param_b) AS other_field
UNION ALL
UNWIND $pairs AS p
MATCH (a:Tool {id: p.src})<-[r:FEEDS|SHARES_INPUT|SIMILAR]-(b:Tool)
WHERE b.id = p.cand AND label(r) IN $types
RETURN p.src AS src, p.cand AS cand, label(r) AS type, r.score AS score, false AS out,
       coalesce(r.to_param, r.param_b) AS this_field, coalesce(r.from_field, r.param_a) AS other_field
