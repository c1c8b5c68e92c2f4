"""What a search returns: hits (a passage with its paragraph and document) and answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.index.manifest import DocumentInfo, SectionInfo
from bot.index.passages import ParagraphRecord, Passage
from bot.text import Span, sentence_in_window, sentence_index_in_window

# How many results a question gets unless the caller asks for another number.
DEFAULT_RESULTS = 3

# "answer": the quote answers; "closest": the nearest passage, which may not answer directly;
# "absent": the essays do not hold the answer (off-topic, or a name they never mention).
Verdict = Literal["answer", "closest", "absent"]
VERDICTS: tuple[Verdict, ...] = ("answer", "closest", "absent")


@dataclass(frozen=True)
class Hit:
    passage: Passage
    paragraph: ParagraphRecord
    document: DocumentInfo
    score: float
    # Span within `quote` to emphasise: the best sentence of a longer quote, or a cited phrase.
    highlight: Span | None = None

    @property
    def quote(self) -> str:
        return self.passage.text

    @property
    def context(self) -> str:
        return self.paragraph.text

    @property
    def section(self) -> SectionInfo:
        return self.document.sections[self.passage.section_no]

    def sentence_span(self, index: int) -> Span | None:
        """The span, within the quote, of the quote's `index`-th sentence (0 = its first)."""
        number = self.passage.first_sentence + index
        if not index >= 0 or number > self.passage.last_sentence:
            return None
        return sentence_in_window(self.paragraph.sentences, self.passage.first_sentence, number)

    def highlighted_sentence(self) -> int | None:
        """Which sentence of the quote the highlight is exactly, if it is one."""
        if self.highlight is None:
            return None
        return sentence_index_in_window(
            self.paragraph.sentences,
            self.passage.first_sentence,
            self.passage.last_sentence,
            self.highlight,
        )


@dataclass(frozen=True)
class Answer:
    query: str
    # Kept beside `verdict` for callers that only ask "is there a quote": verdict != "absent".
    found: bool
    hits: tuple[Hit, ...] = ()
    # When not found: why ("off-topic", "empty-query", "empty-section", "no-match") ...
    reason: str = ""
    # ... the nearest sections to offer instead, and a matching section that has no text.
    suggestions: tuple[SectionInfo, ...] = ()
    empty_section: SectionInfo | None = None
    scores: dict[str, float] = field(default_factory=dict, compare=False)
    # Only "closest" needs saying: an answer that is not found is "absent" whatever the
    # default, so Answer(query, False, ...) keeps meaning what it always meant.
    verdict: Verdict = "answer"
    # Salient words of the question (names, places, numbers, words rare in English) that no
    # essay ever uses.
    missing_terms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.found and self.verdict != "absent":
            if self.verdict != "answer":
                raise ValueError(f"an answer that is not found cannot be {self.verdict!r}")
            object.__setattr__(self, "verdict", "absent")
        if self.found and self.verdict == "absent":
            raise ValueError("an absent answer cannot be found")
