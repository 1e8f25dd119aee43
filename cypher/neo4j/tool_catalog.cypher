// Every tool's id and names: resolves relevant tools in eval files and names in retrieval results.
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (t:Tool {build: cur})
RETURN t.id AS id, t.name AS name, t.original_name AS original_name
ORDER BY id
