// Every tool id, as one list; starts, jumps and the random baseline draw from it (sorted in Python, so
// both stores agree on the order).
MATCH (t:Tool) RETURN collect(t.id) AS ids
