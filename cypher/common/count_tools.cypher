MATCH (t:Tool) RETURN count(t) AS n
