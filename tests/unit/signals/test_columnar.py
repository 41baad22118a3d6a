"""Arrow writing and reading of signal tables: spreadsheet-safe CSV, empty cells for NaN, Parquet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from hygeia.signals.columnar import output_format, read_text_csv, write_table


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "drug": ["=HYPERLINK(1)", "ASPIRIN", None],
            "event": ["@RASH", "-1.5", "NAUSEA"],
            "n": [3, 4, 5],
            "ebgm": [1.25, np.nan, np.inf],
        }
    )


def test_csv_neutralises_formulas_and_writes_nan_as_empty(tmp_path):
    path = write_table(_table(), tmp_path / "out.csv")
    lines = path.read_text().splitlines()
    assert lines[1].startswith('"\'=HYPERLINK(1)","\'@RASH",3,1.25')
    assert lines[2] == '"ASPIRIN","-1.5",4,'  # a number written as text stays a number; NaN is empty
    assert lines[3].startswith(',"NAUSEA",5,')  # a missing name stays missing
    back = read_text_csv(path)
    assert back["drug"].tolist()[:2] == ["'=HYPERLINK(1)", "ASPIRIN"] and pd.isna(back["drug"][2])


def test_parquet_keeps_types_and_values_unchanged(tmp_path):
    assert output_format(tmp_path / "x.PARQUET") == ".parquet" and output_format("x.csv.gz") == ".csv.gz"
    path = write_table(_table(), tmp_path / "out.parquet", ["drug", "n", "ebgm"])
    table = pq.read_table(path).to_pandas()
    assert table["drug"].tolist()[:2] == ["=HYPERLINK(1)", "ASPIRIN"]  # typed data, not a spreadsheet
    assert table["drug"].isna()[2]  # missing, not the text "None"
    assert table["n"].dtype == np.int64
    assert table["ebgm"][0] == 1.25 and pd.isna(table["ebgm"][1]) and table["ebgm"][2] == np.inf


def test_chunked_write_with_extra_columns_equals_one_write(tmp_path):
    frame = pd.DataFrame({"drug": [f"=D{i}" for i in range(25)], "n": range(25), "x": [0.5] * 25})
    whole = frame.assign(label=[f"row {i}" for i in range(25)])
    for suffix in (".csv", ".csv.gz", ".parquet"):
        one, chunked = tmp_path / f"one{suffix}", tmp_path / f"chunked{suffix}"
        write_table(whole, one)
        write_table(frame, chunked, extra=lambda c: {"label": [f"row {i}" for i in c["n"]]}, chunk_rows=7)
        read = pd.read_parquet if suffix == ".parquet" else pd.read_csv
        pd.testing.assert_frame_equal(read(chunked), read(one))
        if suffix == ".csv":
            assert chunked.read_bytes() == one.read_bytes()
