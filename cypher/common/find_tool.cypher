MATCH (t:Tool)
WHERE t.id = $q OR t.name = $q
RETURN t.id AS id, t.name AS name, t.category AS category
ORDER BY id
LIMIT 20
