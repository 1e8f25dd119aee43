MATCH ()-[r:FEEDS|SHARES_INPUT|SIMILAR|MATCHES]->() RETURN label(r) AS type, count(*) AS n
