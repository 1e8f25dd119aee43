// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (t:Tool {build: cur})
OPTIONAL MATCH (t)-[r:FEEDS|SHARES_INPUT]-(:Tool)
RETURN t.id AS id, t.name AS name, t.category AS category, count(r) AS degree
