"""Compounds DrugBank's vocabulary names by InChIKey only (bisphenol A) get Tox21's own record as their
structure, a name with neither says so, and a compound the model refuses is looked up as tested
(data files this test writes; the real `toxicity.tox21_record` tool behind core.tools)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hygeia.agents import drugs
from hygeia.core import tools
from hygeia.core.errors import InputError
from hygeia.settings import get_settings
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.tested_records import tox21_record

SLIM = [  # drugbank_id, name, InChI
    ("DB00316", "Acetaminophen", "InChI=1S/C8H9NO2/c1-6(10)9-7-2-4-8(11)5-3-7/h2-5,11H,1H3,(H,9,10)"),
    ("DB00515", "Cisplatin", "InChI=1S/2ClH.2H2N.Pt/h2*1H;2*1H2;/q;;2*-1;+4/p-2"),
]
VOCABULARY = [  # DrugBank ID, common name, InChIKey
    ("DB00316", "Acetaminophen", "RZVAJINKPMORJF-UHFFFAOYSA-N"),  # has a structure: the table's entry
    ("DB06973", "Bisphenol A", "IISBACLAFKSPIT-UHFFFAOYSA-N"),
    ("DB99998", "Unknownium", "AAAAAAAAAAAAAA-UHFFFAOYSA-N"),
    ("DB99990", "Twin name", "BBBBBBBBBBBBBB-UHFFFAOYSA-N"),
    ("DB99991", "Twin name", "CCCCCCCCCCCCCC-UHFFFAOYSA-N"),  # two compounds: the name says neither
]
TOX21 = [("TOX182", "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1"), ("TOX4983", "N[Pt](N)(Cl)Cl")]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    slim = data / drugs.TABLE
    slim.parent.mkdir(parents=True)
    slim.write_text("drugbank_id\tname\tinchi\n" + "".join(f"{i}\t{n}\t{c}\n" for i, n, c in SLIM))
    vocabulary = data / drugs.VOCABULARY
    vocabulary.parent.mkdir(parents=True)
    header = "DrugBank ID,Accession Numbers,Common name,CAS,UNII,Synonyms,Standard InChI Key\n"
    vocabulary.write_text(header + "".join(f'{i},"",{n},,,"",{k}\n' for i, n, k in VOCABULARY))
    tox21 = data / "tox21" / "tox21.csv"
    tox21.parent.mkdir(parents=True)
    labels = ",".join("0" for _ in ENDPOINTS)
    tox21.write_text(
        f"{','.join(ENDPOINTS)},mol_id,smiles\n" + "".join(f"{labels},{i},{s}\n" for i, s in TOX21)
    )
    monkeypatch.setenv("HYGEIA_DATA_DIR", str(data))
    schema = {"type": "object", "properties": {"inchikey": {"type": "string"}}, "required": ["inchikey"]}
    record_tool = tools.Tool("toxicity.tox21_record", "Tox21 record by InChIKey", tox21_record, schema)
    monkeypatch.setitem(tools._TOOLS, "toxicity.tox21_record", record_tool)
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def test_a_comparison_names_each_drug_once_in_order(data_dir: Path) -> None:
    assert drugs.find_named_drugs("Is cisplatin more toxic than paracetamol?") == ["cisplatin", "paracetamol"]
    assert drugs.find_named_drugs("Is paracetamol (acetaminophen) toxic?") == ["paracetamol"]  # one drug
    assert drugs.find_named_drugs("Is bisphenol A toxic?") == []  # the vocabulary names no drug compared


def test_a_vocabulary_compound_is_found_after_any_drug_with_a_structure(data_dir: Path) -> None:
    assert drugs.find_named_drug("Is bisphenol A an endocrine disruptor?") == "bisphenol a"
    assert drugs.find_named_drug("Is bisphenol A worse than acetaminophen?") == "acetaminophen"
    assert drugs.find_named_drug("Is twin name toxic?") is None  # ambiguous names are left out
    assert drugs.lookup("Acetaminophen").inchi  # a drug with a structure keeps DrugBank's InChI


def test_its_structure_is_tox21s_record_and_a_name_with_neither_says_so(data_dir: Path) -> None:
    entry, smiles = drugs.structure("bisphenol a")
    assert (entry.drugbank_id, smiles) == ("DB06973", "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1")
    with pytest.raises(InputError, match=r"DrugBank names it \(DB99998\) by InChIKey only, and Tox21 has no"):
        drugs.structure("unknownium")


def test_a_compound_the_model_refuses_is_looked_up_as_tox21_tested_it(data_dir: Path) -> None:
    cisplatin, _ = drugs.structure("cisplatin")
    refused = {"error_code": "disallowed_element", "error": "outside the model's chemistry: contains Pt"}
    assert drugs.record_of_refused(cisplatin, refused)["tox21_ids"] == ["TOX4983"]  # by DrugBank's InChIKey
    scored_as_given = refused | {"tox21_record": tox21_record(smiles="N[Pt](N)(Cl)Cl")}  # a SMILES, no drug
    assert drugs.record_of_refused(None, scored_as_given)["tox21_ids"] == ["TOX4983"]
    assert drugs.record_of_refused(None, refused) is None
    assert drugs.record_of_refused(cisplatin, {"error_code": "unparseable"}) is None


def test_the_vocabularys_synonyms_name_drugs_with_a_structure(data_dir: Path) -> None:
    """ "valproate" is DrugBank's synonym of Valproic acid: synonyms naming one entry resolve; all-capital
    abbreviations, short codes and names shared by two entries do not."""
    header = "DrugBank ID,Accession Numbers,Common name,CAS,UNII,Synonyms,Standard InChI Key\n"
    synonyms = {
        ("DB00316", "Acetaminophen", "RZVAJINKPMORJF-UHFFFAOYSA-N"): (
            "APAP | Acetaminofén | N-acetyl-p-aminophenol | Apap | Shared name"
        ),
        ("DB00515", "Cisplatin", "LXZZYRPGZAFOLE-UHFFFAOYSA-L"): "CDDP | Platinol | Shared name",
    }
    rows = [f'{i},"",{name},,,"{listed}",{key}' for (i, name, key), listed in synonyms.items()]
    (data_dir / drugs.VOCABULARY).write_text(header + "\n".join(rows) + "\n")
    assert drugs.lookup("n-acetyl-p-aminophenol").name == "Acetaminophen"
    assert drugs.lookup("Platinol").name == "Cisplatin"
    assert drugs.lookup("APAP") is None and drugs.lookup("cddp") is None  # abbreviations
    assert drugs.lookup("shared name") is None  # two entries: the name says neither
    assert drugs.lookup("acetaminofén") is None  # outside a-z: not matched from a question's words
    assert drugs.find_named_drugs("Is platinol more toxic than acetaminophen?") == [
        "platinol",
        "acetaminophen",
    ]


def test_brand_names_reach_their_drug_and_the_answer_says_so():
    from hygeia.agents.drugs import BRAND_NAMES, lookup
    from hygeia.agents.entities import question_context

    assert {brand: lookup(brand) is not None for brand in BRAND_NAMES} == dict.fromkeys(BRAND_NAMES, True)
    assert {lookup(brand).drugbank_id for brand in ("advil", "motrin", "ibuprofen")} == {"DB01050"}
    context = question_context("Does Lipitor cause muscle pain?")
    assert lookup(context["drug"]).name == "Atorvastatin"
    assert context["read_as"] == "read 'lipitor' as atorvastatin (its US brand name)"
