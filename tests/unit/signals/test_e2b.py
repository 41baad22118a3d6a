"""FAERS XML (E2B) ingest on small messages written here: versions, roles, flags, hostile XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from hygeia.signals.e2b import ingest_e2b, is_e2b
from hygeia.signals.errors import SignalDataError


def _drug(name: str, characterization: str = "1", active: str = "") -> str:
    substance = f"<activesubstance><activesubstancename>{active}</activesubstancename></activesubstance>"
    return (
        f"<drug><drugcharacterization>{characterization}</drugcharacterization>"
        f"<medicinalproduct>{name}</medicinalproduct>{substance if active else ''}</drug>"
    )


def _report(caseid: str, version: str, drugs: str, events: list[str], *, death: bool = False) -> str:
    reactions = "".join(f"<reaction><reactionmeddrapt>{e}</reactionmeddrapt></reaction>" for e in events)
    return (
        f"<safetyreport><safetyreportversion>{version}</safetyreportversion>"
        f"<safetyreportid>{caseid}</safetyreportid><serious>{1 if death else 2}</serious>"
        f"<seriousnessdeath>{1 if death else 2}</seriousnessdeath><receiptdate>20220215</receiptdate>"
        f"<patient><patientonsetage>70</patientonsetage><patientonsetageunit>801</patientonsetageunit>"
        f"<patientsex>2</patientsex>{reactions}{drugs}</patient></safetyreport>"
    )


def _message(path: Path, *reports: str, prolog: str = "") -> Path:
    path.write_text(f'<?xml version="1.0"?>{prolog}<ichicsr lang="en">{"".join(reports)}</ichicsr>')
    return path


def test_latest_version_roles_and_flags(tmp_path: Path) -> None:
    metformin = _drug("Glucophage", active="METFORMIN HYDROCHLORIDE")
    xml = _message(
        tmp_path / "ADR22Q1.xml",
        _report("100", "1", _drug("OLDNAME"), ["Nausea"]),
        _report("100", "2", metformin, ["Lactic acidosis"], death=True),
        _report("200", "1", _drug("ASPIRIN") + _drug("OMEPRAZOLE", "2"), ["Headache", "Rash"]),
    )
    cases, report = ingest_e2b(xml)
    assert report.demo_rows == 3 and report.cases == 2 and report.superseded_versions == 1
    assert report.drug_rows_other_roles == 1  # the concomitant omeprazole, counted, not silently gone
    assert sorted(zip(cases["id"], cases["drug"], cases["event"], strict=True)) == [
        ("1002", "METFORMIN", "LACTIC ACIDOSIS"),
        ("2001", "ASPIRIN", "HEADACHE"),
        ("2001", "ASPIRIN", "RASH"),
    ]
    case_100 = cases[cases["caseid"] == "100"].iloc[0]
    assert (case_100["quarter"], case_100["sex"], case_100["age_group"]) == ("2022Q1", "F", "65-74")
    assert case_100["serious"] and case_100["death"] and not case_100["hospitalisation"]
    with_concomitants, _ = ingest_e2b(xml, ["PS", "SS", "C"])
    assert "OMEPRAZOLE" in set(with_concomitants["drug"])


def test_malformed_xml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?>\n<ichicsr>\n<safetyreport>\n</ichicsr>\n')
    with pytest.raises(SignalDataError, match=r"bad\.xml: malformed XML at line 4"):
        ingest_e2b(bad)


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE ichicsr [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        '<!DOCTYPE ichicsr [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
    ],
)
def test_entity_expansion_and_external_entities_are_refused(tmp_path: Path, prolog: str) -> None:
    xml = _message(tmp_path / "hostile.xml", _report("1", "1", _drug("ASPIRIN"), ["Rash"]), prolog=prolog)
    with pytest.raises(SignalDataError, match="entities are not allowed"):
        ingest_e2b(xml)


def test_what_counts_as_e2b(tmp_path: Path) -> None:
    (tmp_path / "xml").mkdir()
    _message(tmp_path / "xml" / "a.xml", _report("1", "1", _drug("ASPIRIN"), ["Rash"]))
    (tmp_path / "ascii").mkdir()
    (tmp_path / "ascii" / "DEMO22Q4.txt").write_text("primaryid$caseid\n")
    assert is_e2b(tmp_path / "xml") and is_e2b(tmp_path / "xml" / "a.xml")
    assert not is_e2b(tmp_path / "ascii")
    with pytest.raises(SignalDataError, match="no <safetyreport>"):
        ingest_e2b(_message(tmp_path / "empty.xml"))
