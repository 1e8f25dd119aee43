// SHARES_INPUT edges touching the given tools (either end); the report keeps pairs inside one sample.
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
UNWIND $ids AS i
MATCH (a:Tool {id: i, build: cur})-[r:SHARES_INPUT]-(b:Tool)
WHERE r.build = cur
RETURN a.id AS src, b.id AS dst
