UNWIND $ids AS i
MATCH (t:Tool {id: i})
RETURN t.id AS id, t.embedding AS embedding
