"""Drug classes named in questions, resolved by ATC code to DrugBank drugs (real table in the data dir)."""

from __future__ import annotations

import pytest

from hygeia.agents.drug_classes import CLASSES, drug_class, members, named_class
from hygeia.agents.entities import find_drug, find_event


@pytest.mark.parametrize(
    ("question", "group", "said"),
    [
        ("Do fluoroquinolones cause tendon rupture?", "fluoroquinolones", "fluoroquinolones"),
        ("Is there a signal for statins and rhabdomyolysis?", "statins", "statins"),
        ("Can beta-blockers mask hypoglycaemia?", "beta blockers", "beta-blockers"),
        ("Do NSAIDs cause kidney damage?", "NSAIDs", "NSAIDs"),
        ("Are ACE inhibitors linked to angioedema?", "ACE inhibitors", "ACE inhibitors"),
        ("Do SSRIs cause hyponatraemia?", "SSRIs", "SSRIs"),
    ],
)
def test_a_question_names_a_class_by_its_usual_words(question, group, said):
    found = named_class(question)
    assert found is not None and found[0].name == group and found[1] == said
    assert drug_class(said) == found[0] == drug_class(group)


def test_words_that_only_look_like_a_class_name_none():
    assert named_class("Is nystatin hepatotoxic?") is None  # a drug, not "statin"
    assert named_class("Does the TCA cycle slow down?") is None
    assert drug_class("atorvastatin") is None


def test_members_are_drugs_with_the_class_code_not_a_name_stem():
    statins = members(drug_class("statins"))
    assert [d.name for d in statins] == [
        "Atorvastatin", "Fluvastatin", "Lovastatin", "Pitavastatin", "Pravastatin", "Rosuvastatin",
        "Simvastatin",
    ]  # fmt: skip
    ace = {d.name for d in members(drug_class("ACE inhibitors"))}
    assert "Enalapril" in ace and "Loratadine" not in ace  # DrugBank 4.2 files lisinopril's code under it
    penicillins = {d.name for d in members(drug_class("penicillins"))}
    assert "Amoxicillin" in penicillins and not penicillins & {"Procaine", "Tazobactam"}
    assert all(members(group) for group in CLASSES)  # every class reaches drugs of this table


def test_a_named_drug_wins_over_a_class_and_a_class_is_no_event():
    assert find_drug("Do fluoroquinolones cause tendon rupture?") == "fluoroquinolones"
    assert find_drug("Does atorvastatin, a statin, cause myopathy?") == "atorvastatin"
    assert find_event("Is there a signal for statins and rhabdomyolysis?") is None


def test_a_class_question_reads_each_drugs_labels():
    from hygeia.agents.side_effects import side_effect_lookup

    found = side_effect_lookup("fluoroquinolones", "Do fluoroquinolones cause tendon rupture?")
    assert found["drug_class"] == "fluoroquinolones" and found["asks_about_effect"]
    labelled = [
        name for name, effects in found["side_effects_by_drug"].items() if "Tendon rupture" in effects
    ]
    assert len(labelled) >= 3 and "Tendon rupture" in found["named_in_question"]
    verdict = found["verdict"]
    assert verdict["label"] == "yes" and "Tendon rupture" in verdict["basis"]
    assert (
        f"the drug labels of {len(labelled)} of " in verdict["basis"]
    )  # the word "fluoroquinolones" is no effect
    assert "fluoroquinolones (ATC J01MA) with a SIDER entry" in found["fact"]
    assert "not a rate or proof of causation" in found["fact"] and found["answers"] is True
    none = side_effect_lookup("statins", "Do statins cause tendon rupture?")
    assert (
        "verdict" not in none
        and none["answers"] is False
        and "list an effect the question names" in none["fact"]
    )
    listing = side_effect_lookup("statins", "What are the side effects of statins?")
    assert not listing["asks_about_effect"] and listing["answers"] is True
    # among effects on all six labels, grave outcomes and lesions first, as for one drug's list
    assert "those on most of their labels (number of drugs): Hepatic failure (6), " in listing["fact"]


def test_a_class_gets_no_toxicity_score_but_its_drugs_names():
    from hygeia.agents.drugs import toxicity_by_name

    found = toxicity_by_name("statins")
    assert found["answers"] is False and "Atorvastatin" in found["fact"] and "ask about one" in found["fact"]


def test_a_class_signal_question_reads_each_covered_drugs_pair():
    from hygeia.agents.signal_lookup import class_lookup, class_verdict

    group = drug_class("statins")
    found = class_lookup(group, "Is there a signal for statins and rhabdomyolysis?", None)
    assert found["event"] == "rhabdomyolysis" and {p["event"] for p in found["pairs"]} == {"rhabdomyolysis"}
    drugs = {p["drug"] for p in found["pairs"]}
    assert {"atorvastatin", "simvastatin"} <= drugs and not drugs & {"metoprolol", "atenolol"}
    assert found["fact"].startswith("rhabdomyolysis with the ")
    verdict = class_verdict(group, found["event"], found["pairs"])["verdict"]
    assert (
        verdict["label"] == "yes"
        and f"of the {len(drugs)} statins with rhabdomyolysis counts" in verdict["basis"]
    )
    top = class_lookup(drug_class("beta blockers"), "top signals for beta blockers", None)
    assert top["event"] is None and class_verdict(drug_class("beta blockers"), None, top["pairs"]) == {}
    covered = {"acebutolol", "atenolol", "bisoprolol", "carvedilol", "metoprolol", "nadolol", "propranolol"}
    assert {p["drug"] for p in top["pairs"]} <= covered | {"timolol"}


@pytest.mark.parametrize(
    ("question", "effect"),
    [  # class effects every pharmacology textbook names, asked as a clinician would
        ("Do bisphosphonates cause osteonecrosis of the jaw?", "Osteonecrosis of jaw"),
        ("Do glitazones cause heart failure?", "Cardiac failure"),
        ("Do gliptins cause pancreatitis?", "Pancreatitis"),
        ("Are aminoglycosides ototoxic?", "Ototoxicity"),
        ("Do NSAIDs cause gastrointestinal bleeding?", "Gastrointestinal haemorrhage"),
        ("Do antipsychotics cause tardive dyskinesia?", "Tardive dyskinesia"),
        ("Do macrolides prolong the QT interval?", "Electrocardiogram QT prolonged"),
        ("Do PPIs cause hypomagnesemia?", "Hypomagnesaemia"),
    ],
)
def test_textbook_class_effects_are_labelled_yes(question, effect):
    from hygeia.agents.side_effects import EFFECT_CUE, side_effect_lookup

    group = named_class(question)
    assert group is not None and EFFECT_CUE.search(question)
    found = side_effect_lookup(group[0].name, question)
    assert found["verdict"]["label"] == "yes" and effect in found["verdict"]["basis"]


def test_lithium_is_not_called_an_antipsychotic():
    names = {d.name for d in members(drug_class("antipsychotics"))}
    assert "Haloperidol" in names and "Lithium" not in names  # ATC files it under N05AN
    assert drug_class("antipsychotics").phrase() == "antipsychotics (ATC N05A)"
