"""Stage 1: files in the corpus directory become documents (title, sections, paragraphs)."""
