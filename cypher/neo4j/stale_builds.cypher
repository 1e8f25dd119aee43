// Builds other than $build (the one just made current): the previous graph, and builds that were killed.
MATCH (g:GraphBuild)
WHERE g.id <> $build
RETURN g.id AS id
