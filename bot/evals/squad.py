"""SQuAD-format question files (v1.1 and v2.0): each article becomes one essay of a corpus."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bot.errors import EvalSetError
from bot.text import collapse_whitespace


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[str, ...]  # empty for a v2.0 question the article cannot answer
    article: int  # index into SquadSet.articles
    paragraph: int  # index into that article's paragraphs

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class SquadArticle:
    title: str
    paragraphs: tuple[str, ...]  # whitespace-collapsed, as the essay file holds them

    @property
    def file_name(self) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.title).strip("-").lower() or "article"
        return f"{slug}.txt"

    @property
    def essay(self) -> str:
        """The essay file's text: the title line, then the paragraphs between blank lines."""
        return "\n\n".join((self.title.replace("_", " "), *self.paragraphs)) + "\n"


@dataclass(frozen=True)
class SquadSet:
    version: str
    articles: tuple[SquadArticle, ...]
    questions: tuple[SquadQuestion, ...]


def load_squad(path: Path) -> SquadSet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        articles: list[SquadArticle] = []
        questions: list[SquadQuestion] = []
        for number, article in enumerate(data["data"]):
            paragraphs = tuple(collapse_whitespace(p["context"]) for p in article["paragraphs"])
            articles.append(SquadArticle(str(article["title"]), paragraphs))
            for paragraph_no, paragraph in enumerate(article["paragraphs"]):
                for qa in paragraph["qas"]:
                    # v2.0 marks unanswerable questions; their "plausible_answers" are wrong.
                    impossible = bool(qa.get("is_impossible", False))
                    answers = () if impossible else tuple(a["text"] for a in qa["answers"])
                    questions.append(
                        SquadQuestion(str(qa["id"]), qa["question"], answers, number, paragraph_no)
                    )
        return SquadSet(str(data.get("version", "")), tuple(articles), tuple(questions))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EvalSetError(f"cannot read SQuAD file {path}: {exc}") from exc


def write_corpus(articles: list[SquadArticle], directory: Path) -> Path:
    """A corpus folder holding one essay per article."""
    directory.mkdir(parents=True, exist_ok=True)
    for article in articles:
        (directory / article.file_name).write_text(article.essay, encoding="utf-8")
    return directory
