MATCH (f:Field) RETURN count(f) AS n
