// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (t:Tool {build: cur})-[:IN_CATEGORY]->(c:Category)
RETURN c.name AS category, count(t) AS tools
ORDER BY tools DESC, category
