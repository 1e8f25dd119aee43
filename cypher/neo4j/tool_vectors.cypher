// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
UNWIND $ids AS i
MATCH (t:Tool {id: i, build: cur})
RETURN t.id AS id, t.embedding AS embedding
