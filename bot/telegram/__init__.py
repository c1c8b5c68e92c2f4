"""Stage 5: the Telegram front end (handlers, wiring, resilience, webhook, serving)."""
