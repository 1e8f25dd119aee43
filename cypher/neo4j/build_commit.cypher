// The swap, in one transaction: the finished build becomes current, the previous one retired.
MATCH (n:GraphBuild {id: $build})
OPTIONAL MATCH (o:GraphBuild {state: 'current'})
WHERE o.id <> $build
SET o.state = 'retired'
WITH DISTINCT n
SET n.state = 'current', n.finished = datetime()
RETURN n.id AS id
