// BM25 (Lucene) over Tool.search_text; $q holds analyzed terms separated by spaces (an OR query).
CALL db.index.fulltext.queryNodes('tool_search_text', $q, {limit: $limit}) YIELD node, score
RETURN node.id AS id, score
