// Every FEEDS edge with the reason it exists (graph eval).
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (a:Tool {build: cur})-[f:FEEDS]->(b:Tool)
WHERE f.build = cur
RETURN a.id AS src, b.id AS dst, f.from_field AS from_field, f.to_param AS to_param,
       f.evidence AS evidence, f.score AS score, f.returns_source AS returns_source,
       f.probability AS probability, f.verified AS verified
ORDER BY src, dst
