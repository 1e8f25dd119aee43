UNWIND $rows AS r
MATCH (a:Tool {id: r.src, build: $build})
MATCH (b:Tool {id: r.dst, build: $build})
MERGE (a)-[e:SHARES_INPUT]->(b)
SET e.score = r.score, e.param_a = r.param_a, e.param_b = r.param_b, e.build = $build
