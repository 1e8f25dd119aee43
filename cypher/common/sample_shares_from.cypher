// SHARES_INPUT edges touching the given tools (either end); the report keeps pairs inside one sample.
UNWIND $ids AS i
MATCH (a:Tool {id: i})-[:SHARES_INPUT]-(b:Tool)
RETURN a.id AS src, b.id AS dst
