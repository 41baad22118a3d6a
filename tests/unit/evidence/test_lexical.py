"""BM25 ranking order on a corpus small enough to reason about."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hygeia.evidence.lexical import LexicalIndex, analyze

CORPUS = [
    "Metformin lowers blood glucose in type 2 diabetes.",
    "Aspirin reduces pain and fever.",
    "Metformin was studied in colorectal cancer; metformin metformin.",
    "A trial of sildenafil in heart failure was terminated.",
    "",
]


def test_analyzer_stems_and_drops_stop_words() -> None:
    assert analyze("The treatments treated") == analyze("treatment treat")
    assert "the" not in analyze("the phase 3 trial")
    assert "3" in analyze("the phase 3 trial")


def test_rare_term_match_ranks_first_and_term_frequency_counts() -> None:
    index = LexicalIndex.build(CORPUS)
    rows = [row for row, _ in index.search("metformin colorectal", 5)]
    assert rows[:2] == [2, 0]  # both terms (and repeated metformin) beat one term
    assert 1 not in rows and 4 not in rows  # no matching term -> not returned


def test_no_known_term_returns_nothing() -> None:
    assert LexicalIndex.build(CORPUS).search("zebrafish", 5) == []


def test_mask_restricts_and_save_load_round_trips(tmp_path: Path) -> None:
    index = LexicalIndex.build(CORPUS)
    mask = np.array([True, True, False, True, True])
    assert [row for row, _ in index.search("metformin", 5, mask)] == [0]
    index.save(tmp_path / "bm25")
    assert not list((tmp_path / "bm25").glob("*.pkl"))
    loaded = LexicalIndex.load(tmp_path / "bm25")
    assert loaded.search("sildenafil heart", 3) == index.search("sildenafil heart", 3)
