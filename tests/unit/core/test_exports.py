import io

import pytest

from hygeia.core.exports import spreadsheet_safe, write_safe_csv


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-OC(=O)C", "'-OC(=O)C"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("CCO", "CCO"),
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        (0.25, 0.25),
        (None, None),
    ],
)
def test_formula_cells_become_text_and_numbers_stay_numbers(cell, expected):
    assert spreadsheet_safe(cell) == expected


def test_write_safe_csv_neutralises_every_text_cell():
    buffer = io.StringIO()
    rows = [{"name": "=1+1", "score": -2.0}, {"name": "a", "score": 1}]
    written = write_safe_csv(buffer, ["name", "score"], rows)
    assert written == 2
    assert buffer.getvalue().splitlines() == ["name,score", "'=1+1,-2.0", "a,1"]
