// Summed edge score per relationship type among $types: the walk's automatic FEEDS weight balances the
// total mass of FEEDS against SHARES_INPUT (WalkSampler.feeds_weight).
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (:Tool)-[r:FEEDS|SHARES_INPUT|SIMILAR]->(:Tool)
WHERE type(r) IN $types AND r.build = cur
RETURN type(r) AS type, sum(r.score) AS mass
