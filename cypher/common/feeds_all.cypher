// Every FEEDS edge with the reason it exists (graph eval).
MATCH (a:Tool)-[f:FEEDS]->(b:Tool)
RETURN a.id AS src, b.id AS dst, f.from_field AS from_field, f.to_param AS to_param,
       f.evidence AS evidence, f.score AS score, f.returns_source AS returns_source,
       f.probability AS probability, f.verified AS verified
ORDER BY src, dst
