MATCH ()-[r:FEEDS|SHARES_INPUT|SIMILAR|MATCHES]->() RETURN type(r) AS type, count(*) AS n
