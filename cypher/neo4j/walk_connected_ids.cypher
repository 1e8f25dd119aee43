// Tools with at least one edge of the walk's types (either direction): the pool walks start and jump from.
// One row holding a list: far cheaper to carry than a row per tool.
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (t:Tool {build: cur})-[r:FEEDS|SHARES_INPUT|SIMILAR]-(:Tool)
WHERE type(r) IN $types
WITH DISTINCT t.id AS id
RETURN collect(id) AS ids
