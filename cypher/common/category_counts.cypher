MATCH (t:Tool)-[:IN_CATEGORY]->(c:Category)
RETURN c.name AS category, count(t) AS tools
ORDER BY tools DESC, category
