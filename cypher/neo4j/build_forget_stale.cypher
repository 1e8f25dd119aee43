// After the stale nodes are gone: drop the records of retired and abandoned builds.
MATCH (g:GraphBuild)
WHERE g.id <> $build
DELETE g
RETURN count(*) AS deleted
