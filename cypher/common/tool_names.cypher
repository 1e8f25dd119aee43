// Every tool's id and function name (graph eval resolves labelled tool names with it).
MATCH (t:Tool)
RETURN t.id AS id, t.name AS name
ORDER BY id
