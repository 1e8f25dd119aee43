// Tool ids per category, for the category baseline (tools without a category are left out).
MATCH (t:Tool) WHERE t.category IS NOT NULL RETURN t.category AS category, collect(t.id) AS ids
