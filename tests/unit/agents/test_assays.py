"""Questions about a Tox21 assay's target: which assays a question names, and the stated rule that
turns a toxicity result into a verdict (on results this file builds, shaped as `toxicity.predict`'s)."""

from __future__ import annotations

from typing import Any

import pytest

from hygeia.agents.assays import assay_fact, assay_outcomes, assay_verdict, named_assays, record_outcomes


@pytest.mark.parametrize(
    ("question", "assays"),
    [
        ("Does tamoxifen activate the estrogen receptor?", ["NR-ER", "NR-ER-LBD"]),
        ("Is it oestrogenic?", ["NR-ER", "NR-ER-LBD"]),
        ("Is it an ER-alpha agonist?", ["NR-ER", "NR-ER-LBD"]),
        ("Is letrozole an aromatase inhibitor?", ["NR-Aromatase"]),
        ("Does it activate the AhR?", ["NR-AhR"]),
        ("Is rosiglitazone a PPAR gamma agonist?", ["NR-PPAR-gamma"]),
        ("Is DDT genotoxic?", ["SR-ATAD5", "SR-p53"]),
        ("Does it disrupt the mitochondrial membrane potential?", ["SR-MMP"]),
        ("What did sr-mmp and NR-AR-LBD show?", ["NR-AR-LBD", "SR-MMP"]),
        ("Is it androgenic or does it induce the heat shock response?", ["NR-AR", "NR-AR-LBD", "SR-HSE"]),
        # "are", "er" and "her" are English words, not the ARE or ER assays
        ("Are statins hepatotoxic? Er, and is her liver at risk?", []),
        ("Is acetaminophen hepatotoxic?", []),
        (
            "Is bisphenol A an endocrine disruptor?",
            ["NR-AR", "NR-AR-LBD", "NR-Aromatase", "NR-ER", "NR-ER-LBD"],
        ),
    ],
)
def test_a_question_names_the_assays_that_read_its_target(question, assays):
    assert named_assays(question) == assays


def result(
    measured: dict[str, str] | None = None,
    probabilities: dict[str, float] | None = None,
    sets: dict[str, str] | None = None,
) -> dict[str, Any]:
    probabilities = probabilities or {"NR-ER": 0.2, "NR-ER-LBD": 0.1}
    neighbours = [{"tox21_ids": ["TOX1"], "measured": measured, "similarity": 1.0}] if measured else []
    return {
        "probabilities": probabilities,
        "prediction_sets": sets or {},
        "conformal_significance": 0.2,
        "overall": {"active_assays": [e for e, p in probabilities.items() if p >= 0.5]},
        "applicability_domain": {"in_domain": True},
        "read_across": {"status": "ready", "in_training_set": measured is not None, "neighbours": neighbours},
    }


ER = ["NR-ER", "NR-ER-LBD"]


def verdict_of(found: dict[str, Any], question: str = "Does it activate the estrogen receptor?") -> Any:
    outcomes, _ = assay_outcomes(found, named_assays(question))
    return assay_verdict("X", outcomes, found, antagonism="block" in question)


def test_what_tox21_measured_outweighs_the_model():
    measured = {"NR-ER": "active", "NR-ER-LBD": "inactive"}
    found = result(measured, {"NR-ER": 0.1, "NR-ER-LBD": 0.9}, {"NR-ER": "inactive", "NR-ER-LBD": "active"})
    verdict = verdict_of(found)
    assert verdict["label"] == "yes"
    assert (
        "NR-ER (oestrogen receptor alpha agonism, full-length receptor): measured active" in verdict["basis"]
    )
    assert "NR-ER-LBD" not in verdict["basis"] and "Predicted calls" not in verdict["basis"]
    tested_inactive = verdict_of(result({"NR-ER": "inactive", "NR-ER-LBD": "inactive"}, {"NR-ER": 0.9}))
    assert tested_inactive["label"] == "no" and "in-vitro" in tested_inactive["basis"]
    outcomes, ids = assay_outcomes(found, ER)
    assert ids == ["TOX1"] and assay_fact("X", outcomes, ids, found).startswith("X (Tox21 TOX1): NR-ER (")


def test_an_untested_assay_falls_back_on_the_prediction_and_says_so():
    measured = {"NR-ER": "inactive", "NR-ER-LBD": "not tested"}
    verdict = verdict_of(result(measured, {"NR-ER": 0.1, "NR-ER-LBD": 0.7}, {"NR-ER-LBD": "active"}))
    assert verdict["label"] == "yes" and "NR-ER-LBD" in verdict["basis"]
    assert "predicted active, p 0.70" in verdict["basis"] and "Predicted calls" in verdict["basis"]
    undecided = result(measured, {"NR-ER": 0.1, "NR-ER-LBD": 0.2}, {"NR-ER-LBD": "uncertain"})
    assert verdict_of(undecided) is None  # one assay inactive, the other undecided: no verdict


def test_a_prediction_says_yes_only_at_the_card_threshold_and_no_only_when_conformal_excludes_active():
    assert verdict_of(result(None, {"NR-ER": 0.6, "NR-ER-LBD": 0.1}))["label"] == "yes"
    # a {active} conformal set at 20 % is no "yes": most such sets belong to inactive compounds
    assert verdict_of(result(None, {"NR-ER": 0.3, "NR-ER-LBD": 0.1}, dict.fromkeys(ER, "active"))) is None
    no = verdict_of(result(None, {"NR-ER": 0.02, "NR-ER-LBD": 0.01}, dict.fromkeys(ER, "inactive")))
    assert no["label"] == "no" and "about 0.2 of tested actives" in no["basis"]
    # without conformal sets (models before 2.0) a low probability alone is not a "no"
    assert verdict_of(result(None, {"NR-ER": 0.02, "NR-ER-LBD": 0.01})) is None


def test_agonist_assays_give_no_verdict_on_blocking_but_aromatase_inhibition_is_what_they_read():
    blocked = result({"NR-ER": "inactive", "NR-ER-LBD": "inactive"})
    assert verdict_of(blocked, "Does it block the estrogen receptor?") is None
    aromatase = result({"NR-Aromatase": "active"}, {"NR-Aromatase": 0.8})
    outcomes, _ = assay_outcomes(aromatase, ["NR-Aromatase"])
    assert assay_verdict("letrozole", outcomes, aromatase, antagonism=True)["label"] == "yes"


def test_side_effect_harm_words_name_no_effect_alone_and_organ_words_read_as_the_labels_terms():
    from hygeia.agents.side_effects import covering, matching

    effects = ["Liver function test normal", "Liver injury", "Pulmonary fibrosis", "Pulmonary toxicity",
               "Renal failure", "Toxic epidermal necrolysis"]  # fmt: skip
    assert (
        matching(effects, "Is amiodarone toxic?", ("amiodarone",)) == []
    )  # not "Toxic epidermal necrolysis"
    lungs = "Is amiodarone toxic to the lungs?"
    assert matching(effects, lungs, ("amiodarone",)) == ["Pulmonary fibrosis", "Pulmonary toxicity"]
    assert (
        covering(matching(effects, lungs, ("amiodarone",)), lungs, ("amiodarone",))[0] == "Pulmonary toxicity"
    )
    # a normal test result is no adverse effect; "kidney damage" is read as the labels' renal terms
    assert matching(effects, "Is valproate toxic to the liver?", ("valproate",)) == ["Liver injury"]
    assert covering(effects, "Does ibuprofen cause kidney damage?", ("ibuprofen",)) == ["Renal failure"]


@pytest.mark.parametrize(
    ("question", "context", "wanted"),
    [
        ("Does tamoxifen activate the estrogen receptor?", {"drug": "tamoxifen"}, True),
        ("What does SR-MMP measure?", {}, True),
        ("Which Tox21 assay reads aromatase inhibition?", {}, True),
        # a clinical question that mentions oestrogen names no compound and no assay: no lookup
        ("What are the risks of estrogen therapy after menopause?", {}, False),
        ("Is acetaminophen hepatotoxic?", {"drug": "acetaminophen"}, False),
    ],
)
def test_the_assay_lookup_runs_for_a_compound_and_target_or_an_assay_by_name(question, context, wanted):
    from hygeia.agents.assays import wants_assay_lookup

    assert wants_assay_lookup(question, {"query": question, **context}) is wanted


def test_an_assay_asked_about_by_name_is_described_without_a_compound():
    from hygeia.agents.assays import tox21_assay

    described = tox21_assay("What does SR-MMP measure?")
    assert described["assays"] == ["SR-MMP"] and described["answers"] is True
    assert described["fact"].startswith("SR-MMP (Tox21): a cell-based")
    assert "mitochondrial membrane potential disruption" in described["fact"]
    assert tox21_assay("Tell me about SR-MMP and NR-AhR")["answers"] is False  # described, not asked


def test_a_toxicity_result_for_a_training_compound_says_what_tox21_measured_first():
    from hygeia.agents.facts import fact_line

    found = result({"NR-ER": "active", "NR-ER-LBD": "inactive"})
    found["read_across"]["measured"] = "measured in Tox21 (TOX1): active in NR-ER (inactive 1, not tested 10)"
    line = fact_line("toxicity.predict", {"results": [found]})
    assert line.startswith("toxicity model, measured in Tox21 (TOX1): active in NR-ER (")
    assert line.index("not an independent prediction") < line.index("highest Tox21 probabilities")


def test_organs_the_labels_name_by_a_greek_root_are_found_from_plain_words():
    from hygeia.agents.side_effects import covering, matching

    muscle = ["Cramp muscle", "Myalgia", "Myopathy", "Rhabdomyolysis", "Neuropathy peripheral"]
    question = "Does simvastatin cause muscle damage?"
    named = matching(muscle, question, ("simvastatin",))
    assert named == muscle[:4]  # "muscle damage" is Myopathy and Rhabdomyolysis too, not the nerve
    assert covering(named, question, ("simvastatin",))[:2] == ["Myopathy", "Rhabdomyolysis"]  # lesions first
    # a named effect stays as specific as asked: rhabdomyolysis is not any muscle effect
    assert matching(muscle, "Does simvastatin cause rhabdomyolysis?", ("simvastatin",)) == ["Rhabdomyolysis"]
    assert matching(muscle, "Does it cause nerve damage?", ("x",)) == ["Neuropathy peripheral"]
    # "teratogenic" names the labels' teratogenicity and congenital malformations, and cues the lookup
    from hygeia.agents.side_effects import EFFECT_CUE

    labels = ["Congenital anomaly", "Teratogenicity", "Tremor", "Heart malformation"]
    question = "Is valproic acid teratogenic?"
    assert EFFECT_CUE.search(question) and matching(labels, question, ("valproic acid",)) == [
        "Congenital anomaly",
        "Teratogenicity",
        "Heart malformation",
    ]


def test_a_compound_tox21_did_not_test_names_its_nearest_tested_compound_as_another_compound():
    found = result(None, {"NR-ER": 0.9, "NR-ER-LBD": 0.2})
    nearest = {"tox21_ids": ["TOX9"], "similarity": 1.0, "measured": {"NR-ER": "active"}}
    found["read_across"]["neighbours"] = [nearest]
    outcomes, ids = assay_outcomes(found, ER)
    assert ids == [] and outcomes[0].how.startswith("not measured; predicted active, p 0.90")
    fact = assay_fact("X", outcomes, ids, found)
    assert "nearest tested compound TOX9 (ECFP4 Tanimoto 1.00, another compound): NR-ER active, " in fact
    assert "NR-ER-LBD not tested" in fact


def test_an_endocrine_disruption_question_can_be_answered_yes_but_never_no():
    """Tox21's receptor assays read agonism: an antiandrogen or a thyroid disruptor tests inactive."""
    question = "Is it an endocrine disruptor?"
    panel = named_assays(question)
    inactive = result(dict.fromkeys(panel, "inactive"), dict.fromkeys(panel, 0.01))
    outcomes, _ = assay_outcomes(inactive, panel)
    assert assay_verdict("X", outcomes, inactive, antagonism=False) is not None  # the plain rule says no
    assert assay_verdict("X", outcomes, inactive, antagonism=False, endocrine=True) is None
    oestrogenic = result({**dict.fromkeys(panel, "inactive"), "NR-ER": "active"}, dict.fromkeys(panel, 0.01))
    outcomes, _ = assay_outcomes(oestrogenic, panel)
    assert assay_verdict("X", outcomes, oestrogenic, antagonism=False, endocrine=True)["label"] == "yes"


def test_a_compound_the_model_refuses_is_answered_from_tox21s_own_record():
    """Cisplatin is outside the model's chemistry; Tox21 tested it, and its record is data."""
    record = {"tox21_ids": ["TOX4983"], "measured": {"SR-ATAD5": "inactive", "SR-p53": "not tested"}}
    outcomes = record_outcomes(record, ["SR-ATAD5", "SR-p53"])
    assert [(o.call, o.measured) for o in outcomes] == [("inactive", True), ("undecided", False)]
    refused = {"error": "outside the model's chemistry: contains Pt", "error_code": "disallowed_element"}
    assert assay_verdict("cisplatin", outcomes, refused, antagonism=False) is None  # one assay untested
    fact = assay_fact("cisplatin", outcomes, ["TOX4983"], refused)
    assert fact.startswith("cisplatin (Tox21 TOX4983, Tox21's own record): SR-ATAD5 (")
    assert "no prediction for cisplatin (outside the model's chemistry: contains Pt)" in fact
    tested = record_outcomes({**record, "measured": {"SR-ATAD5": "inactive", "SR-p53": "active"}}, ["SR-p53"])
    assert assay_verdict("oxaliplatin", tested, refused, antagonism=False)["label"] == "yes"
