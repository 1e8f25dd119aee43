// The current build's id: the key under which readers cache what they derive from the whole graph (the
// walk's adjacency). Every build gets a new id and reads see only the current one (see schema.cypher).
MATCH (g:GraphBuild {state: 'current'})
RETURN g.id AS version
