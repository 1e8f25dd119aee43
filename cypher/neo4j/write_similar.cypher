UNWIND $rows AS r
MATCH (a:Tool {id: r.src, build: $build})
MATCH (b:Tool {id: r.dst, build: $build})
MERGE (a)-[e:SIMILAR]->(b)
SET e.score = r.score, e.build = $build
