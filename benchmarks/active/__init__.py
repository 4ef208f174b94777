"""Active learning: which architectures are most worth measuring next (and its benchmark)."""
