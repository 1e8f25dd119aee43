UNWIND $rows AS r
MATCH (a:Tool {id: r.src})
MATCH (b:Tool {id: r.dst})
MERGE (a)-[e:SIMILAR]->(b)
SET e.score = r.score, e.build = $build
