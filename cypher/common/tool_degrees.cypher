// Degree over the composition edges (FEEDS, SHARES_INPUT), both directions.
MATCH (t:Tool)
OPTIONAL MATCH (t)-[r:FEEDS|SHARES_INPUT]-(:Tool)
RETURN t.id AS id, t.name AS name, t.category AS category, count(r) AS degree
