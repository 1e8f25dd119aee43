// Nearest tools by Tool.embedding; the cosine index reports (1 + cos) / 2, turned back into cos here.
// Reads see only the build marked current (a build in progress or killed is invisible): see schema.cypher.
MATCH (g:GraphBuild {state: 'current'})
WITH g.id AS cur
CALL db.index.vector.queryNodes('tool_embedding', $limit, $vector) YIELD node, score
WITH node, score, cur WHERE node.build = cur
RETURN node.id AS id, 2.0 * score - 1.0 AS score
