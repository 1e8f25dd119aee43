// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (t:Tool {build: cur})
WHERE t.id = $q OR t.name = $q
RETURN t.id AS id, t.name AS name, t.category AS category
ORDER BY id
LIMIT 20
