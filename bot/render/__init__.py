"""Stage 4: answers become what a view shows (Telegram HTML, buttons, terminal text, JSON)."""
