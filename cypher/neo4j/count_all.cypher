// tools, fields and edges per type in one statement, so all three come from the same build (as separate
// queries, a reader during a swap saw 13 tools beside 3,016 fields of the next build).
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
CALL (cur) {
  MATCH (t:Tool {build: cur})
  RETURN count(t) AS tools
}
CALL (cur) {
  MATCH (f:Field {build: cur})
  RETURN count(f) AS fields
}
CALL (cur) {
  OPTIONAL MATCH ()-[r:FEEDS|SHARES_INPUT|SIMILAR|MATCHES]->()
  WHERE r.build = cur
  WITH type(r) AS type, count(r) AS n
  WHERE type IS NOT NULL
  RETURN collect({type: type, n: n}) AS edges
}
RETURN tools, fields, edges
