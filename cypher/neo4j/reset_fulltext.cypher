// Rebuild the BM25 index from the live graph. Lucene keeps counting deleted and replaced documents in its
// term statistics until segments merge, so after a rebuild the idf of every term drifts (measured: a BM25
// score of 4.31 on Neo4j vs 2.68 from the same 13 documents in bm25s, after a 4,076-tool graph had been
// replaced). Recreating the index after each build keeps Neo4j's BM25 equal to the embedded store's.
DROP INDEX tool_search_text IF EXISTS;
CREATE FULLTEXT INDEX tool_search_text IF NOT EXISTS FOR (t:Tool) ON EACH [t.search_text] OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace', `fulltext.eventually_consistent`: false}};
CALL db.awaitIndexes(600)
