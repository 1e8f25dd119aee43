// Every tool's id and function name (graph eval resolves labelled tool names with it).
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (t:Tool {build: cur})
RETURN t.id AS id, t.name AS name
ORDER BY id
