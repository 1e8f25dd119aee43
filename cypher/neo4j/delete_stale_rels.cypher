// Edges a rebuild did not touch belong to an older graph.
MATCH ()-[e:FEEDS|SHARES_INPUT|SIMILAR|MATCHES|HAS_PARAM|RETURNS|IN_CATEGORY]->()
WHERE e.build IS NULL OR e.build <> $build
WITH e LIMIT $limit
DELETE e
RETURN count(*) AS deleted
