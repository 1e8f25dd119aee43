// The analyzed BM25 documents (engine/graph/search_text.py); the embedded store indexes them with bm25s.
MATCH (t:Tool)
RETURN t.id AS id, t.search_text AS search_text
ORDER BY id
