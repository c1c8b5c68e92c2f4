"""Stage 1: files in the corpus directory become documents (title, sections, paragraphs)."""

from bot.corpus.files import corpus_files
from bot.corpus.model import SUPPORTED_SUFFIXES, CorpusProblem, Document, Paragraph, Section
from bot.corpus.read import read_corpus, read_document

__all__ = [
    "SUPPORTED_SUFFIXES",
    "CorpusProblem",
    "Document",
    "Paragraph",
    "Section",
    "corpus_files",
    "read_corpus",
    "read_document",
]
