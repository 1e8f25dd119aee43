// Tools with at least one edge of the walk's types (either direction): the pool walks start and jump from.
MATCH (t:Tool)-[r:FEEDS|SHARES_INPUT|SIMILAR]-(:Tool)
WHERE label(r) IN $types
RETURN DISTINCT t.id AS id
