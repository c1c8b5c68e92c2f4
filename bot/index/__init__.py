"""Stage 2: documents become passages, vectors and a self-describing index directory."""
