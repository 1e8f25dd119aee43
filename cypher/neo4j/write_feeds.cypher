UNWIND $rows AS r
MATCH (a:Tool {id: r.src, build: $build})
MATCH (b:Tool {id: r.dst, build: $build})
MERGE (a)-[e:FEEDS]->(b)
SET e.score = r.score, e.from_field = r.from_field, e.to_param = r.to_param, e.evidence = r.evidence,
    e.cosine = r.cosine, e.returns_source = r.returns_source,
    e.probability = r.probability, e.verified = r.verified, e.build = $build
