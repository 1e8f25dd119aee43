// BM25 (Lucene) over Tool.search_text; $q holds analyzed terms separated by spaces (an OR query).
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
CALL db.index.fulltext.queryNodes('tool_search_text', $q, {limit: $limit}) YIELD node, score
WITH node, score, cur WHERE node.build = cur
RETURN node.id AS id, score
