"""The JSON contract: answers and the table of contents as plain data, for any front end.

`footnote ask --json`, `footnote cite --json` and `footnote sections --json` print these
objects; a web API would return the same ones.  Keys and their order are part of the contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from bot.index.manifest import Manifest
    from bot.search.answer import Answer, Verdict


class ResultJSON(TypedDict):
    document: str
    section: str  # "" for the opening section before the first heading
    paragraph: int  # 1-based within its section
    quote: str
    context: str  # the whole paragraph the quote stands in
    score: float  # rounded to 4 places
    id: str


class AnswerJSON(TypedDict):
    query: str
    found: bool  # verdict != "absent", kept for the scripts written before verdicts
    results: list[ResultJSON]
    verdict: Verdict  # "answer", "closest" (the nearest passage, may not answer) or "absent"
    missing_terms: list[str]  # names and rare words of the question the essays never mention


class SectionJSON(TypedDict):
    title: str
    paragraphs: int
    passages: int
    has_text: bool


class DocumentJSON(TypedDict):
    document: str
    path: str
    dropped: dict[str, int]  # what the reader left out of quotes, by kind
    sections: list[SectionJSON]


def answer_json(answer: Answer) -> AnswerJSON:
    return {
        "query": answer.query,
        "found": answer.found,
        "results": [
            {
                "document": hit.document.title,
                "section": hit.passage.section_title,
                "paragraph": hit.passage.paragraph_no,
                "quote": hit.quote,
                "context": hit.context,
                "score": round(hit.score, 4),
                "id": hit.passage.id,
            }
            for hit in answer.hits
        ],
        "verdict": answer.verdict,
        "missing_terms": list(answer.missing_terms),
    }


def toc_json(manifest: Manifest) -> list[DocumentJSON]:
    """The table of contents: every document with its sections, in reading order."""
    return [
        {
            "document": doc.title,
            "path": doc.path,
            "dropped": dict(doc.dropped),
            "sections": [
                {
                    "title": s.title,
                    "paragraphs": s.paragraphs,
                    "passages": s.passages,
                    "has_text": not s.empty,
                }
                for s in doc.sections
            ],
        }
        for doc in manifest.documents
    ]
