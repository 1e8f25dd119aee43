// FEEDS edges leaving the given tools; the report keeps those that stay inside one sample.
UNWIND $ids AS i
MATCH (a:Tool {id: i})-[:FEEDS]->(b:Tool)
RETURN a.id AS src, b.id AS dst
