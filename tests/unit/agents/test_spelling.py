"""Misspelt drug names read by sound, never a real word read as a drug (real data in the data dir)."""

from __future__ import annotations

import gzip

import pytest

from hygeia.agents.drugs import lookup
from hygeia.agents.entities import find_drug, question_context
from hygeia.agents.spelling import misspelt_drug, spelling_key
from hygeia.settings import get_settings

# common misspellings of common drugs: foreign spellings DrugBank lists as synonyms, phonetic slips
# (ph/f, c/k, doubled letters, a final e, an unstressed vowel), and one dropped letter, not guessed
MISSPELT = {
    "acetaminaphen": "Acetaminophen", "ibuprophen": "Ibuprofen", "amoxicilin": "Amoxicillin",
    "metphormin": "Metformin", "atorvastatine": "Atorvastatin", "warfarine": "Warfarin",
    "omeprazol": "Omeprazole", "levothyroxin": "Levothyroxine", "prednisolon": "Prednisolone",
    "lisinipril": "Lisinopril", "gabapentine": "Gabapentin", "ciprofloxacine": "Ciprofloxacin",
    "metoprolole": "Metoprolol", "fluoxetin": "Fluoxetine", "sertralin": "Sertraline",
    "amlodipin": "Amlodipine", "tamoxifene": "Tamoxifen", "diclofenak": "Diclofenac",
    "hydrochlorothiazid": "Hydrochlorothiazide", "carbamazepin": "Carbamazepine",
    "allopurinole": "Allopurinol", "methotrexat": "Methotrexate", "simvastatn": None,
}  # fmt: skip


def test_spelling_keys_fold_what_sounds_alike():
    assert spelling_key("ibuprophen") == spelling_key("Ibuprofen")
    assert spelling_key("diclofenak") == spelling_key("diclofenac")
    assert spelling_key("amoxicilin") == spelling_key("amoxicillin")
    assert spelling_key("lisinipril") == spelling_key("lisinopril")
    assert spelling_key("simvastatn") != spelling_key("simvastatin")


@pytest.mark.parametrize(("written", "meant"), MISSPELT.items())
def test_common_misspellings_reach_the_drug_meant(written, meant):
    found = find_drug(f"Does {written} cause a rash?")
    assert (lookup(found).name if found else None) == meant


def test_a_misspelling_is_said_and_its_labels_are_read():
    from hygeia.agents.side_effects import side_effect_lookup

    question = "Does acetaminaphen cause liver damage?"
    context = question_context(question)
    assert context["drug"] == "acetaminophen"
    assert (
        context["read_as"] == "read 'acetaminaphen' as acetaminophen (the DrugBank name it spells by sound)"
    )
    found = side_effect_lookup(context["drug"], question)
    assert (
        found["verdict"]["label"] == "yes" and "Acetaminophen's drug labels list" in found["verdict"]["basis"]
    )
    assert "read_as" not in question_context("Does acetaminophen cause liver damage?")
    signal = question_context("Is there a signal for acetaminaphen and liver injury?")
    assert signal["drug"] == "acetaminophen" and "event" not in signal  # the misspelt drug is no event


def test_no_word_of_the_beir_biomedical_queries_is_read_as_a_misspelt_drug():
    """1,173 real biomedical questions (BioASQ, NFCorpus, SciFact, TREC-COVID), none asked with a
    misspelt drug: every reading there would be a real word taken for a drug (ProSavin for proflavine,
    dioxins for digoxin were, with a looser rule)."""
    folder = get_settings().data_dir / "evidence" / "beir-topics-qrels"
    queries: list[str] = []
    for name in ("bioasq", "nfcorpus", "scifact", "trec-covid"):
        path = folder / f"topics.beir-v1.0.0-{name}.test.tsv.gz"
        if path.is_file():
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                queries += [line.split("\t", 1)[-1] for line in handle.read().splitlines()]
    if not queries:
        pytest.skip("the BEIR topics are not in the data directory")
    assert len(queries) > 1000
    assert [(q, misspelt_drug(q)) for q in queries if misspelt_drug(q)] == []
