// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
UNWIND $ids AS i
MATCH (a:Tool {id: i, build: cur})-[:FEEDS]->(c:Tool)
RETURN a.id AS src, c.id AS dst
