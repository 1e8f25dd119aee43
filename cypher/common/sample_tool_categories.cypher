// Tool id and category, for the category baseline (tools without a category are left out).
MATCH (t:Tool) WHERE t.category IS NOT NULL RETURN t.id AS id, t.category AS category
