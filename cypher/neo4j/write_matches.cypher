UNWIND $rows AS r
MATCH (a:Field {id: r.src, build: $build})
MATCH (b:Field {id: r.dst, build: $build})
MERGE (a)-[e:MATCHES]->(b)
SET e.score = r.score, e.kind = r.kind, e.build = $build
