"""Edited questions: the answer Footnote gave is edited to answer the new wording.

Telegram sends an ``edited_message`` update when a user edits a message (ALLOWED_UPDATES asks
for them).  Footnote remembers, for the most recent questions it answered, which message
answered each (BotState.remember_answer, bounded memory); an edit of one of those is asked
again -- as the handlers would ask it (questions.question_of) -- and the answer message is
edited in place (unless the new wording gets the same answer).  An edit of anything else (a
message that asked nothing, or a question too old to be remembered) is ignored, and so is an
edit over its user's rate limit.
"""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest

from bot.render.reply import answer_reply
from bot.telegram.handlers import RESULTS_PER_QUESTION
from bot.telegram.questions import question_of
from bot.telegram.send import is_private, keyboard
from bot.telegram.state import Context


async def edited_question(update: Update, context: Context) -> None:
    message = update.edited_message
    if message is None:
        return
    state = context.bot_data
    chat_id = message.chat.id
    remembered = state.answers.get((chat_id, message.message_id))
    if remembered is None:
        return
    answer_id, answered = remembered
    asked = question_of(message, context.bot)
    if asked is None:
        return
    user = message.from_user
    if user is not None and not state.limiter.allow(user.id):
        return
    how, text = asked
    engine = state.engine
    if how == "ask":
        answer = await engine.ask(text, RESULTS_PER_QUESTION)
    elif how == "cite":
        answer = await engine.cite(text, RESULTS_PER_QUESTION)
    else:
        answer = await engine.cite_or_ask(text, RESULTS_PER_QUESTION)
    reply = answer_reply(answer, reader_url=state.reader_url)
    if hash(reply) == answered:
        return  # the new wording gets the same answer: it stands (as the reader left it)
    state.remember_answer(chat_id, message.message_id, answer_id, reply)
    state.shown.pop((chat_id, answer_id), None)  # its buttons start over
    try:
        await context.bot.edit_message_text(
            reply.html,
            chat_id=chat_id,
            message_id=answer_id,
            reply_markup=keyboard(reply, is_private(message)),
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():  # the same answer: nothing to change
            raise
