"""Graph build: fields, embeddings, kNN pairs, typed edges, stats."""
