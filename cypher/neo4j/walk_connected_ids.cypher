// Tools with at least one edge of the walk's types (either direction): the pool walks start and jump from.
// One row holding a list: far cheaper to carry than a row per tool. Each tool of the build is asked whether
// one such edge exists (the search stops at the first) instead of the pattern expanding every edge.
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (t:Tool {build: cur})
WHERE EXISTS { MATCH (t)-[r:FEEDS|SHARES_INPUT|SIMILAR]-(:Tool) WHERE type(r) IN $types }
RETURN collect(t.id) AS ids
