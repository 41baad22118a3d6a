"""The Markdown pieces every model card is written with."""

from __future__ import annotations

from hygeia.core.card_markdown import bullets, number, table


def test_table_writes_header_rule_and_rows() -> None:
    lines = table(["endpoint", "ROC-AUC", "n"], [["NR-AR", "0.812", 7], ["SR-p53", "0.790", 0]])
    assert lines == [
        "| endpoint | ROC-AUC | n |",
        "|---|---|---|",
        "| NR-AR | 0.812 | 7 |",
        "| SR-p53 | 0.790 | 0 |",
    ]


def test_an_empty_cell_is_one_space_wide() -> None:
    assert table(["", "AUROC"], [["test CI", ""]]) == ["| | AUROC |", "|---|---|", "| test CI | |"]


def test_number_rounds_and_says_when_nothing_was_measured() -> None:
    assert number(0.12345) == "0.123"
    assert number(0.12345, 4) == "0.1235"
    assert number(None) == "-"
    assert number(None, missing="n/a") == "n/a"
    assert number(0.0) == "0.000"  # zero is a measurement, not a missing one


def test_bullets_are_one_item_a_line() -> None:
    assert bullets(["small test set", 3]) == ["- small test set", "- 3"]
    assert bullets([]) == []
