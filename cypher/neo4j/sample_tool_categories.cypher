// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (t:Tool {build: cur}) WHERE t.category IS NOT NULL RETURN t.category AS category, collect(t.id) AS ids
