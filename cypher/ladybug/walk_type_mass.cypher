// Summed edge score per relationship type among $types: the walk's automatic FEEDS weight balances the
// total mass of FEEDS against SHARES_INPUT (WalkSampler.feeds_weight).
MATCH (:Tool)-[r:FEEDS|SHARES_INPUT|SIMILAR]->(:Tool)
WHERE label(r) IN $types
RETURN label(r) AS type, sum(r.score) AS mass
