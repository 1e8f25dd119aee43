// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH ()-[r:FEEDS|SHARES_INPUT|SIMILAR|MATCHES]->() WHERE r.build = cur RETURN type(r) AS type, count(*) AS n
