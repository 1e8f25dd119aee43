UNWIND $ids AS i
MATCH (t:Tool {id: i})
RETURN t.id AS id, t.name AS name, t.original_name AS original_name
