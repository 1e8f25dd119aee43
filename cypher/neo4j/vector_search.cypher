// Nearest tools by Tool.embedding; the cosine index reports (1 + cos) / 2, turned back into cos here.
CALL db.index.vector.queryNodes('tool_embedding', $limit, $vector) YIELD node, score
RETURN node.id AS id, 2.0 * score - 1.0 AS score
