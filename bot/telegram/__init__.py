"""Stage 5: the Telegram front end (wiring, handlers, state, limits, resilience, serving)."""
