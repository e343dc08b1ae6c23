"""FAQ knowledge base and the Korean-aware fuzzy matcher."""
