// Can the graph serve retrieval? Tools, tools without the analyzed BM25 text, and the embedding size.
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
MATCH (t:Tool {build: cur})
RETURN count(t) AS tools, sum(CASE WHEN t.search_text IS NULL THEN 1 ELSE 0 END) AS without_text,
       max(size(t.embedding)) AS dim
