// Can the graph serve retrieval? Tools, tools without the analyzed BM25 text, and the embedding size.
MATCH (t:Tool)
RETURN count(t) AS tools, sum(CASE WHEN t.search_text IS NULL THEN 1 ELSE 0 END) AS without_text,
       max(size(t.embedding)) AS dim
