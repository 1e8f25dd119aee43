UNWIND $rows AS r
MATCH (a:Field {id: r.src})
MATCH (b:Field {id: r.dst})
MERGE (a)-[e:MATCHES]->(b)
SET e.score = r.score, e.kind = r.kind, e.build = $build
