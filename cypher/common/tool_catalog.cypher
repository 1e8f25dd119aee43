// Every tool's id and names: resolves relevant tools in eval files and names in retrieval results.
MATCH (t:Tool)
RETURN t.id AS id, t.name AS name, t.original_name AS original_name
ORDER BY id
