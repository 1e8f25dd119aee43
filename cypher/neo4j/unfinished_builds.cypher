// Builds started and not finished: in progress now, or killed (the next build removes what they wrote).
MATCH (g:GraphBuild {state: 'building'})
RETURN g.id AS id, toString(g.started) AS started
ORDER BY started
