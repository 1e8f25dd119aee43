// Nodes of any build but $build (the one just made current): the previous graph and killed builds.
MATCH (n)
WHERE (n:Tool OR n:Field OR n:Category) AND (n.build IS NULL OR n.build <> $build)
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
