// Every tool id; starts and jumps are drawn in Python from this list (sorted there, so both stores agree).
MATCH (t:Tool) RETURN t.id AS id
