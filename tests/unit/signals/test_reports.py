"""Case-level and count-table loading: aliases, strata, and errors that name the file and line."""

from __future__ import annotations

import pytest

from hygeia.signals.errors import SignalDataError
from hygeia.signals.reports import InputLimits, read_cases, read_counts


def write(tmp_path, text, name="in.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_text_values_verbatim(tmp_path):
    frame = read_cases(write(tmp_path, "id,drug,event,sex\n007,NA,Rash,F\n8,X,NULL,M\n"), ["sex"])
    assert frame.loc[0, "id"] == "007" and frame.loc[0, "drug"] == "NA" and frame.loc[1, "event"] == "NULL"


def test_aliases_from_other_tools(tmp_path):
    frame = read_cases(write(tmp_path, "report_id,var1,var2\n1,X,E\n"))
    assert list(frame.columns) == ["id", "drug", "event"]


def test_missing_column_and_delimiter_hint(tmp_path):
    with pytest.raises(SignalDataError, match=r"in\.csv, line 1: missing column\(s\) \['event'\]"):
        read_cases(write(tmp_path, "id,drug\n1,X\n"))
    with pytest.raises(SignalDataError, match="does not look comma-separated"):
        read_cases(write(tmp_path, "id$drug$event\n1$X$E\n"))


def test_semicolon_and_tab_separated_files_are_read_as_written(tmp_path):
    """Spreadsheets in many locales save CSV with semicolons (a comma is their decimal mark)."""
    text = 'id;drug;event;sex\n1;"ASPIRIN; LOW DOSE";Rash;F\n2;X;E;M\n'
    frame = read_cases(write(tmp_path, text), ["sex"])
    assert frame[["id", "drug", "event", "sex"]].values.tolist() == [
        ["1", "ASPIRIN; LOW DOSE", "Rash", "F"],
        ["2", "X", "E", "M"],
    ]
    tabbed = read_counts(write(tmp_path, "drug\tevent\tn\nX\tE\t3\n", "t.tsv"))
    assert tabbed.to_dict("records") == [{"drug": "X", "event": "E", "n": 3}]
    with pytest.raises(SignalDataError, match=r"line 3: empty 'event'"):
        read_cases(write(tmp_path, "id;drug;event\n1;X;E\n2;Y;\n", "blank.csv"))


def test_blank_value_line_number(tmp_path):
    with pytest.raises(SignalDataError, match=r"line 4: empty 'event'"):
        read_cases(write(tmp_path, "id,drug,event\n1,X,E\n2,Y,F\n3,Z,\n"))


def test_unknown_strata_and_ragged_rows(tmp_path):
    with pytest.raises(SignalDataError, match="strata column"):
        read_cases(write(tmp_path, "id,drug,event\n1,X,E\n"), ["age"])
    with pytest.raises(SignalDataError, match=r"malformed CSV.*line 3"):
        read_cases(write(tmp_path, "id,drug,event\n1,X,E\n2,Y,F,G,H\n"))


def test_size_limit(tmp_path):
    with pytest.raises(SignalDataError, match="above the configured limit"):
        read_cases(write(tmp_path, "id,drug,event\n1,X,E\n"), limits=InputLimits(max_bytes=5))


def test_long_and_wide_count_tables(tmp_path):
    long = read_counts(write(tmp_path, "drug,event,n\nX,E,3\nY,E,0\n"))
    assert long["n"].tolist() == [3, 0]
    wide = read_counts(write(tmp_path, '"","Atorvastatin","Other"\n"Rhabdomyolysis",2041,31707\n', "w.csv"))
    assert wide.to_dict("records") == [
        {"drug": "Atorvastatin", "event": "Rhabdomyolysis", "n": 2041},
        {"drug": "Other", "event": "Rhabdomyolysis", "n": 31707},
    ]
    with pytest.raises(SignalDataError, match=r"w2\.csv, line 3: column 'B'"):
        read_counts(write(tmp_path, ",A,B\nE1,1,2\nE2,3,x\n", "w2.csv"))


def test_counts_beyond_int64_are_refused_with_the_line(tmp_path):
    with pytest.raises(SignalDataError, match=r"line 3: column 'n': count 9223372036854775808 is larger"):
        read_counts(write(tmp_path, "drug,event,n\nX,E,3\nY,E,9223372036854775808\n"))
    exact = read_counts(write(tmp_path, "drug,event,n\nX,E,9223372036854775807\nY,E,4\n", "big.csv"))
    assert exact["n"].tolist() == [2**63 - 1, 4]  # the largest int64 survives exactly
