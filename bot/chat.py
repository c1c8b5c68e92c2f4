"""The terminal chat: a front end like the Telegram one, over the same replies and buttons.

A view: it asks and cites through the retriever and navigates through `retriever.library`,
never the index itself; a numbered line presses that button under the last reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from bot.errors import CallbackDataError
from bot.render.callbacks import decode
from bot.render.presses import render_press
from bot.render.reply import Reply, about_reply, answer_reply, toc_reply
from bot.render.terminal import render_terminal

if TYPE_CHECKING:
    from bot.search.retriever import Retriever

GREETING = "Footnote — ask about the essay. /help for commands, /quit to leave."
CHAT_HELP = """Type a question, or paste a phrase to find where it stands.
  /cite PHRASE   find where a phrase stands
  /sections      the table of contents
  /about         the documents
  1, 2, ...      press the numbered button under the last answer
  /quit          leave (or Ctrl-D)"""
QUIT = frozenset({"/quit", "/exit", "quit", "exit"})
RESULTS = 4


def chat_loop(retriever: Retriever, stdin: TextIO, out: TextIO) -> int:
    """Answer each line of `stdin` on `out` until /quit or the end of input."""
    interactive = stdin.isatty()
    out.write(GREETING + "\n")
    last: Reply | None = None
    while True:
        if interactive:
            out.write("› ")
            out.flush()
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        reply: Reply | None
        if text in QUIT:
            break
        if text == "/help":
            out.write(CHAT_HELP + "\n")
            continue
        if text == "/sections":
            reply = toc_reply(retriever.library.sections())
        elif text == "/about":
            reply = about_reply(retriever.library)
        elif text.startswith("/cite"):
            phrase = text[len("/cite") :].strip()
            if not phrase:
                out.write("Usage: /cite PHRASE\n")
                continue
            reply = answer_reply(retriever.cite(phrase, RESULTS))
        elif text.isdigit() and last is not None:
            labels = [b for row in last.buttons for b in row]
            number = int(text)
            if not 1 <= number <= len(labels):
                out.write(f"There is no button {number}.\n")
                continue
            try:
                reply = render_press(retriever.library, decode(labels[number - 1].callback_data))
            except CallbackDataError:
                reply = None
            if reply is None:
                out.write("That passage is no longer in the index.\n")
                continue
        else:
            reply = answer_reply(retriever.ask(text, RESULTS))
        last = reply
        out.write(render_terminal(reply, out) + "\n\n")
        out.flush()
    return 0
