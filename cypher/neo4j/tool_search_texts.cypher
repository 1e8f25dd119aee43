// The analyzed BM25 documents (engine/graph/search_text.py) of the current build.
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (t:Tool {build: cur})
RETURN t.id AS id, t.search_text AS search_text
ORDER BY id
