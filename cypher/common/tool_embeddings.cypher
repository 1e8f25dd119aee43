MATCH (t:Tool) RETURN t.id AS id, t.embedding AS embedding ORDER BY id
