CREATE CONSTRAINT tool_id IF NOT EXISTS FOR (t:Tool) REQUIRE t.id IS UNIQUE;
CREATE CONSTRAINT field_id IF NOT EXISTS FOR (f:Field) REQUIRE f.id IS UNIQUE;
CREATE CONSTRAINT category_name IF NOT EXISTS FOR (c:Category) REQUIRE c.name IS UNIQUE;
// No quantization: int8 vectors moved cosines by up to 0.005 (vs FAISS on the same vectors) and reordered near ties.
CREATE VECTOR INDEX tool_embedding IF NOT EXISTS FOR (t:Tool) ON t.embedding OPTIONS {indexConfig: {`vector.dimensions`: 384, `vector.similarity_function`: 'cosine', `vector.quantization.enabled`: false}};
// BM25 over the analyzed tool text (engine/retrieval/text.py analyzes; Lucene only splits on spaces).
CREATE FULLTEXT INDEX tool_search_text IF NOT EXISTS FOR (t:Tool) ON EACH [t.search_text] OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace', `fulltext.eventually_consistent`: false}}
