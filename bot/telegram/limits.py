"""The per-user rate limit on questions: how many a user may ask, and the check.

Every question costs a search (and usually a model call), and every button press or /sections
walks the index, so each user may make at most ``FOOTNOTE_RATE_LIMIT`` of them in any
``FOOTNOTE_RATE_WINDOW`` seconds.  The check runs once, before any handler (handlers.rate_limit,
in handler group -1): an update over the limit gets the polite RATE_LIMITED notice (a toast
for a press) and goes no further.  What counts is bot/telegram/questions.costs_work; /help,
/start and inline queries (which have their own debounce) do not.
"""

from __future__ import annotations

from telegram import Bot, Update

from bot.ratelimit import RateLimiter
from bot.telegram.questions import costs_work

__all__ = ["RATE_LIMITED", "RateLimiter", "over_limit"]

RATE_LIMITED = "You're asking faster than I can quote. Give me a few seconds, then ask again."


def over_limit(update: Update, bot: Bot, limiter: RateLimiter) -> bool:
    """Whether ``update`` asks a question its asker may not ask now (asking counts)."""
    user = update.effective_user
    return user is not None and costs_work(update, bot) and not limiter.allow(user.id)
