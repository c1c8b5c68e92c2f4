"""Footnote in a terminal: Telegram replies as text, answers, the table of contents, reports.

What the command line and the terminal chat print; the JSON they print is bot/render/contract.py.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from bot.render.reply import (
    Reply,
    answer_reply,
    format_hit,
    plain_text,
    section_label,
    verdict_lead,
)
from bot.text import printable

if TYPE_CHECKING:
    from bot.index.build import BuildReport, ProgressCallback
    from bot.index.manifest import Manifest
    from bot.search.answer import Answer


def render_terminal(html_text: str | Reply, out: TextIO, buttons: bool = True) -> str:
    """Show a Telegram reply in a terminal: quotes indented, bold kept when the terminal can."""
    reply = html_text if isinstance(html_text, Reply) else Reply(html_text)
    color = getattr(out, "isatty", lambda: False)() and not os.environ.get("NO_COLOR")
    text = reply.html
    text = re.sub(r"<blockquote[^>]*>(.*?)</blockquote>", _indent_quote, text, flags=re.S)
    bold_on, bold_off = ("\033[1m", "\033[0m") if color else ("", "")
    text = re.sub(
        r"</?(b|strong)>", lambda m: bold_off if m.group().startswith("</") else bold_on, text
    )
    text = printable(plain_text(text), keep="\n\033" if color else "\n")
    if buttons and reply.buttons:
        labels = [printable(b.text) for row in reply.buttons for b in row]
        text += "\n" + "  ".join(f"[{n}] {label}" for n, label in enumerate(labels, start=1))
    return text


def _indent_quote(match: re.Match[str]) -> str:
    return "\n".join("│ " + line for line in match.group(1).split("\n"))


def answer_text(answer: Answer, out: TextIO) -> str:
    """An answer as `footnote ask` prints it: the question, then each hit with its score and id."""
    text = f"Q: {printable(answer.query)}\n"
    shown = answer.hits if answer.found else ()
    if not shown:
        return text + render_terminal(answer_reply(answer), out) + "\n\n"
    for number, hit in enumerate(shown):
        # The first quote carries the verdict's caution ("may not answer this directly").
        text += render_terminal(
            format_hit(hit, lead=verdict_lead(answer) if not number else ""), out
        )
        text += f"   (score {hit.score:.3f}, id {hit.passage.id}, result {number + 1})\n\n"
    return text


def toc_lines(manifest: Manifest) -> list[str]:
    """The table of contents as `footnote sections` prints it, one line each."""
    lines: list[str] = []
    for doc in manifest.documents:
        lines.append(f"{printable(doc.title)}  ({printable(doc.path)})")
        labels = [printable(section_label(s.title)) for s in doc.sections]
        width = max((len(label) for label in labels), default=0)
        for section, label in zip(doc.sections, labels, strict=True):
            label = label.ljust(width)
            if section.empty:
                lines.append(f"  {label}  — no text in this copy")
            else:
                counts = f"{section.paragraphs:>3} ¶  {section.passages:>5} passages"
                lines.append(f"  {label}  {counts}")
    lines += [skipped_line(problem.path, problem.reason) for problem in manifest.problems]
    return lines


def build_summary(report: BuildReport, most: int | None = None) -> str:
    """What an index build did, as the CLI and Telegram's /reload say it: rebuilt (how long,
    why, the vectors) or up to date, then the skipped files and what readers left out.

    `most`: list at most that many skipped files, and documents with something left out,
    then how many more (a Telegram message must fit however many files were skipped)."""
    documents = f"{report.documents} document" + ("s" if report.documents != 1 else "")
    if report.rebuilt:
        lines = [
            f"Indexed {documents}, {report.passages} passages in {report.seconds:.1f} s "
            f"({report.reason}); vectors: {report.reused} reused, {report.embedded} embedded, "
            f"{report.removed} removed."
        ]
        lines += [f"{fit[:1].upper()}{fit[1:]}." for fit in report.fits]
    else:
        lines = [f"Index is up to date: {documents}, {report.passages} passages."]
    skipped = [skipped_line(p.path, p.reason) for p in report.problems]
    lines += _at_most(skipped, most, "skipped files")
    left_out = [printable(line) for line in report.dropped_lines()]  # the last is the total
    lines += _at_most(left_out[:-1], most, "documents with something left out") + left_out[-1:]
    return "\n".join(lines)


def _at_most(lines: list[str], most: int | None, more: str) -> list[str]:
    if most is None or len(lines) <= most:
        return lines
    return [*lines[:most], f"… and {len(lines) - most} more {more}"]


def skipped_line(path: str, reason: str) -> str:
    """One skipped file, on one line whatever its name holds."""
    return f"Skipped {printable(path)}: {printable(reason)}"


def progress_bar(enabled: bool) -> tuple[ProgressCallback | None, Callable[[], None]]:
    """A tqdm bar on stderr for an index build: its progress callback and a close function.

    It counts the passages that need the model (reused vectors cost nothing) and shows the
    rate and the time left."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(
                total=total,
                unit="passage",
                desc="Embedding new passages",
                file=sys.stderr,
                leave=False,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                "[{elapsed}, ETA {remaining}, {rate_fmt}]",
            )
        bar.update(done - bar.n)

    def close() -> None:
        if bar is not None:
            bar.close()

    return update, close
