"""Verdicts, missing names, per-corpus calibration and the evaluation plumbing, with the fake
embedder (fast; tests/test_quality.py and tests/test_squad.py measure with the real model)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.evals import KOREAN_CRISIS_SETS
from bot.evals.evaluation import EvalSet, evaluate, load_eval_set
from bot.evals.squad import load_squad, write_corpus
from bot.evals.squad_eval import in_tune_half, run_squad, select
from bot.evals.table import essay_line, squad_lines
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.manifest import read_manifest
from bot.index.store import IndexStore, load_index
from bot.search.answer import Answer
from bot.search.calibration import calibrate, fit_thresholds, off_topic_questions, pseudo_questions
from bot.search.missing import missing_terms, salient_runs
from bot.search.ranking import RetrievalConfig
from bot.search.retriever import Retriever
from bot.search.thresholds import UNCALIBRATED, Thresholds
from tests.helpers.essay import copy_essay


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    root = tmp_path_factory.mktemp("verdicts")
    embedder = HashingEmbedder()
    build_index(copy_essay(root / "corpus"), root / "index", embedder, calibrate=calibrate)
    return Retriever(load_index(root / "index"), embedder)


# ------------------------------------------------------------------------- missing names


@pytest.mark.parametrize(
    ("question", "runs"),
    [
        ("What does the author say about Japan?", ["Japan"]),
        ("Did Kim Jong Il approve the Agreed Framework?", ["Kim Jong Il", "Agreed Framework"]),
        ("Did Barack Obama's strategic patience work?", ["Barack Obama"]),
        ("What does the essay say about Moon Jae-in?", ["Moon Jae-in"]),
        ("What did Bill Clinton do in 1994?", ["Bill Clinton", "1994"]),
        ("What does the author think of THAAD?", ["THAAD"]),
        ("Japan? And Russia.", ["Russia"]),  # a question's first word is capitalised anyway
        ("how about 42 and 2017", ["2017"]),  # short numbers are not names
        ("What is the double suspension?", []),
    ],
)
def test_salient_runs(question: str, runs: list[str]) -> None:
    assert salient_runs(question) == runs


def test_missing_terms_checks_every_word_of_a_name() -> None:
    corpus = {"kim", "jong", "un", "korea", "united", "state", "chinese"}
    assert missing_terms("Did Kim Jong Il agree?", corpus.__contains__) == ("Kim Jong Il",)
    # A corpus that never says "south" never says "South Korea" (tests/test_missing_phrases.py
    # judges names against the text, as phrases).
    assert missing_terms("What about South Korea?", corpus.__contains__) == ("South Korea",)
    assert missing_terms("And the United States?", corpus.__contains__) == ()


def test_corpus_words_match_across_accents_and_endings(retriever: Retriever) -> None:
    ranker = retriever._ranker
    assert ranker.words.knows("china")  # the essay says "Chinese"
    assert ranker.words.knows("pyongyang")
    assert not ranker.words.knows("japan")
    assert not ranker.words.knows("guam")


def test_a_name_the_essay_never_mentions_is_absent_by_name(retriever: Retriever) -> None:
    answer = retriever.ask("What did Donald Trump say about the double suspension?")
    assert answer.verdict == "absent" and not answer.found
    assert answer.missing_terms == ("Donald Trump",)
    assert answer.reason == "missing-terms"
    assert answer.suggestions


def test_verdicts_follow_the_calibrated_thresholds(retriever: Retriever) -> None:
    question = "What is the double suspension?"
    score = retriever.ask(question).scores["verdict"]
    for thresholds, verdict in [
        (Thresholds(score - 0.2, score - 0.1), "answer"),
        (Thresholds(score - 0.1, score + 0.1), "closest"),
        (Thresholds(score + 0.1, score + 0.2), "absent"),
    ]:
        ranked = retriever.with_config(RetrievalConfig(thresholds=thresholds))
        answer = ranked.ask(question)
        assert answer.verdict == verdict
        assert answer.found == (verdict != "absent")
        assert answer.hits  # the closest passages are kept even when absent


# ---------------------------------------------------------------------------------- Answer


def test_answer_verdict_defaults_follow_found() -> None:
    assert Answer("q", True).verdict == "answer"
    assert Answer("q", False).verdict == "absent"
    assert Answer("q", True, verdict="closest").verdict == "closest"
    with pytest.raises(ValueError, match="cannot be 'closest'"):
        Answer("q", False, verdict="closest")
    with pytest.raises(ValueError, match="absent answer cannot be found"):
        Answer("q", True, verdict="absent")


# ------------------------------------------------------------------------------ calibration


def test_index_stores_its_calibration(retriever: Retriever, tmp_path: Path) -> None:
    calibration = retriever.store.manifest.calibration
    assert set(calibration) == {"hybrid", "dense", "lexical"}
    for mode, cuts in calibration.items():
        assert 0 <= cuts["absent_below"] <= cuts["answer_from"], mode
    assert retriever.thresholds == Thresholds(**calibration["hybrid"])
    # It survives the round trip through manifest.json.
    build_index(copy_essay(tmp_path / "c"), tmp_path / "i", HashingEmbedder(), calibrate=calibrate)
    assert read_manifest(tmp_path / "i").calibration.keys() == calibration.keys()


def test_fit_thresholds_places_cuts_in_the_gap() -> None:
    cuts = fit_thresholds([0.1, 0.2, 0.25], [0.6, 0.7, 0.8])
    assert 0.2 < cuts.absent_below < cuts.answer_from < 0.7
    # Overlapping scores: one cut in the middle, never an inverted pair.
    tangled = fit_thresholds([0.5, 0.6], [0.4, 0.5])
    assert tangled.absent_below == tangled.answer_from


def test_pseudo_questions_are_short_and_off_topic_set_is_generic(retriever: Retriever) -> None:
    pseudo = pseudo_questions(retriever.store)
    assert 4 <= len(pseudo) <= 64
    assert all(1 <= len(q.split()) <= 4 for q in pseudo)
    generic = off_topic_questions()
    assert len(generic) >= 50
    evaluation = EvalSet.merge(load_eval_set(path) for path in KOREAN_CRISIS_SETS)
    assert not set(generic) & set(evaluation.off_topic)  # calibration never sees test questions


def test_an_index_without_calibration_uses_the_defaults(retriever: Retriever) -> None:
    store = retriever.store
    bare = IndexStore(
        replace(store.manifest, calibration={}), store.passages, store.paragraphs, store.vectors
    )
    assert Retriever(bare, retriever.embedder).thresholds == UNCALIBRATED["hybrid"]


# ------------------------------------------------------------------------------ evaluation


def test_shipped_question_sets() -> None:
    sets = {path.name: load_eval_set(path) for path in KOREAN_CRISIS_SETS}
    reader = sets["korean_crisis_reader.json"]
    assert len(reader.questions) >= 40
    # 230 tune questions, then 40 written afterwards by a reader who had not seen the ranking.
    held_out = reader.part("held-out").questions
    assert len(held_out) == 40 and len(reader.part("tune").questions) == 230
    assert reader.questions[-len(held_out) :] == held_out
    assert not reader.part("tune").off_topic
    absent = sets["korean_crisis_absent.json"]
    assert all(item.names for item in absent.refusals)
    assert len(absent.part("held-out").refusals) == 20
    off_topic = sets["korean_crisis_off_topic.json"]
    assert len(off_topic.part("held-out").off_topic) == 23
    assert len(off_topic.part("tune").off_topic) == 25
    assert not sets["korean_crisis.json"].part("held-out").questions  # all in-sample


def test_evaluate_counts_verdicts_and_names(retriever: Retriever) -> None:
    eval_set = EvalSet.merge(load_eval_set(path) for path in KOREAN_CRISIS_SETS).part("held-out")
    report = evaluate(retriever, eval_set)
    assert sum(report.verdicts.values()) == report.questions == 40
    assert report.naming == 20 and report.named <= report.naming
    assert report.summary()["naming"] == 20
    assert "top-1" in essay_line(report)


SQUAD_V2 = {
    "version": "v2.0",
    "data": [
        {
            "title": "Tea_Ceremony",
            "paragraphs": [
                {
                    "context": "The tea ceremony uses powdered green tea called matcha. "
                    "A host whisks it in a bowl.",
                    "qas": [
                        {
                            "id": f"tea{n}",
                            "question": question,
                            "answers": [{"text": answer, "answer_start": 0}] if answer else [],
                            "is_impossible": not answer,
                        }
                        for n, (question, answer) in enumerate(
                            [
                                ("What tea does the ceremony use?", "matcha"),
                                ("What does the host whisk the tea in?", "a bowl"),
                                ("Who invented the tea bag?", ""),
                            ]
                        )
                    ],
                }
            ],
        },
        {
            "title": "Glaciers",
            "paragraphs": [
                {
                    "context": "Glaciers move slowly downhill under their own weight. "
                    "Moraines are ridges of rock they leave behind.",
                    "qas": [
                        {
                            "id": "ice1",
                            "question": "What do glaciers leave behind?",
                            "answers": [{"text": "Moraines", "answer_start": 0}],
                        }
                    ],
                }
            ],
        },
    ],
}


def test_squad_files_become_corpora(tmp_path: Path) -> None:
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(SQUAD_V2), encoding="utf-8")
    squad = load_squad(path)
    assert [a.title for a in squad.articles] == ["Tea_Ceremony", "Glaciers"]
    assert sum(not q.answerable for q in squad.questions) == 1
    corpus = write_corpus(list(squad.articles), tmp_path / "corpus")
    essay = (corpus / "tea-ceremony.txt").read_text(encoding="utf-8")
    assert essay.startswith("Tea Ceremony\n\nThe tea ceremony uses powdered green tea")
    halves = select(list(squad.questions), "tune"), select(list(squad.questions), "held-out")
    assert sorted(q.id for q in halves[0] + halves[1]) == sorted(q.id for q in squad.questions)
    assert all(in_tune_half(q.id) for q in halves[0])


def test_run_squad_reports_every_ranking_and_transfer(tmp_path: Path) -> None:
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(SQUAD_V2), encoding="utf-8")
    report = run_squad(path, "fake:hashing", "all", embedder=HashingEmbedder())
    assert [f.mode for f in report.rankings] == ["hybrid", "lexical", "dense"]
    for figures in report.rankings:
        assert figures.questions == 3 and figures.unanswerable == 1
        assert sum(figures.verdicts.values()) == 3
        assert 0 <= figures.answer_at_1 <= figures.answer_at_3 <= 3
    assert [t.article for t in report.transfer] == ["Tea_Ceremony", "Glaciers"]
    assert report.transfer[0].own == 2 and report.transfer[0].others == 1
    text = "\n".join(squad_lines(report, verbose=True))
    assert "Footnote" in text and "BM25 alone" in text and "dense alone" in text
    assert "unanswerable flagged" in text and "transfer" in text
