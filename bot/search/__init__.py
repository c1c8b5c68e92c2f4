"""Stage 3: questions and pasted phrases become answers (ranked, cited passages)."""
