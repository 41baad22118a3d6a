"""Expert routing and the bindings a question gives a tool chain."""

from __future__ import annotations

import pytest

from hygeia.agents.engine import normalise_mode, retrieval_query
from hygeia.agents.entities import bind_inputs, find_drug, find_event, find_smiles, question_context
from hygeia.agents.experts import EXPERTS, get_expert
from hygeia.agents.router import route
from hygeia.core.errors import InputError


@pytest.mark.parametrize(
    ("question", "expert"),
    [
        ("Is the EBGM for this drug-event pair above the signalling threshold in FAERS?", "regulatory"),
        ("Which adverse events must be reported within 15 days to the FDA?", "regulatory"),
        ("What is the mechanism of statin-induced myopathy and how is it treated?", "medical"),
        ("Does this dermatoscopic lesion look like melanoma?", "medical"),
        ("What sample size does a randomised phase III trial need?", "clinical_research"),
        ("Summarise the cohort studies and meta-analysis on this intervention", "clinical_research"),
    ],
)
def test_router_picks_the_expert_and_names_the_deciding_terms(question, expert):
    chosen = route(question)
    assert chosen.expert.name == expert
    assert chosen.matched_terms and all(t in chosen.reason for t in chosen.matched_terms[:1])
    assert chosen.scores[expert] == max(chosen.scores.values())


def test_router_defaults_with_a_reason_when_nothing_matches():
    chosen = route("hello there")
    assert chosen.expert.name == "medical" and chosen.matched_terms == ()
    assert "defaulting to MedicalSpecialist" in chosen.reason
    # the question's form decides nothing: "does" is not the regulatory expert's vocabulary
    assert "does" not in route("Does metformin cause lactic acidosis?").matched_terms


def test_experts_by_name_or_title_and_permissions():
    assert get_expert("RegulatoryExpert") is get_expert("regulatory")
    with pytest.raises(InputError):
        get_expert("oracle")
    regulatory = EXPERTS["regulatory"]
    assert regulatory.may_call("signals.score_rows") and not regulatory.may_call("toxicity.predict")
    assert regulatory.may_call("lab.tool", ("lab.*",))


def test_modes_by_name_or_number():
    assert [normalise_mode(m) for m in ("1", "2", "3", "4")] == [
        "manual",
        "automatic",
        "autonomous-automatic",
        "autonomous-manual",
    ]
    assert normalise_mode("Autonomous_Manual") == "autonomous-manual"
    with pytest.raises(InputError):
        normalise_mode("5")


def test_smiles_are_found_only_when_rdkit_parses_them():
    assert find_smiles("toxicity of SMILES CCO?") == ["CCO"]
    assert find_smiles("is c1ccccc1O (phenol) toxic") == ["c1ccccc1O"]
    assert find_smiles("what about CNS effects of (R)-warfarin") == []


def test_drug_event_and_explicit_inputs():
    assert find_drug("Does atorvastatin cause rhabdomyolysis?") == "atorvastatin"
    assert find_event("Does atorvastatin cause rhabdomyolysis?") == "rhabdomyolysis"
    assert find_event("risk of acute kidney injury with ibuprofen") == "acute kidney injury"
    assert find_event("Is there a signal for atorvastatin and rhabdomyolysis?") is None  # a drug, no event
    context = question_context("compute with weight_kg=70 height_m=1.75 drug=metformin")
    assert context["weight_kg"] == 70 and context["height_m"] == 1.75 and context["drug"] == "metformin"


def test_bind_inputs_uses_aliases_limits_and_reports_missing():
    schema = {
        "properties": {
            "question": {"type": "string"},
            "k": {"type": "integer", "minimum": 1, "maximum": 3},
            "smiles": {"type": "array"},
            "rows": {"type": "array"},
        },
        "required": ["question", "rows"],
    }
    inputs, missing = bind_inputs(schema, {"query": "q", "smiles": "CCO"}, limit=10)
    assert inputs == {"question": "q", "k": 3, "smiles": ["CCO"]}
    assert missing == ["rows"]


def test_follow_up_questions_search_with_the_previous_question():
    past = [
        {"role": "user", "content": "Is metformin safe in renal impairment?"},
        {"role": "assistant", "content": "..."},
    ]
    query, notes = retrieval_query("What about its dose?", past)
    assert query == "Is metformin safe in renal impairment? What about its dose?" and notes
    assert retrieval_query("What is the dose of metformin in children?", past) == (
        "What is the dose of metformin in children?",
        [],
    )


def test_an_elliptical_follow_up_of_a_follow_up_is_searched_back_to_the_question_it_follows():
    past = [
        {"role": "user", "content": "Is there a signal for simvastatin and rhabdomyolysis?"},
        {"role": "assistant", "content": "..."},
        {"role": "user", "content": "What about myopathy?"},
        {"role": "assistant", "content": "..."},
    ]
    query, notes = retrieval_query("And for atorvastatin?", past)
    assert (
        query
        == "Is there a signal for simvastatin and rhabdomyolysis? What about myopathy? And for atorvastatin?"
    )
    assert notes == ["follow-up question: the retrieval query includes the previous questions"]
    # the pair a signal lookup reads from that query is the one named last: atorvastatin-myopathy
    from hygeia.agents.signal_lookup import _mentioned

    assert (_mentioned(query, "drug"), _mentioned(query, "event")) == ("atorvastatin", "myopathy")
    # and routing reads the whole chain: the follow-up alone says nothing of signals
    from hygeia.agents.engine import Question, choose_expert

    follow_up = Question("What about myopathy?", mode="automatic")
    assert choose_expert(follow_up, " ".join(m["content"] for m in past[:1]) + " What about myopathy?")[
        0
    ].name == ("regulatory")


def test_side_effects_named_by_a_question_keep_their_direction_and_need_a_specific_word():
    from hygeia.agents.side_effects import covering, matching

    effects = ["Weight decreased", "Weight increased", "Hepatic failure", "Cardiac failure", "Rash"]
    assert matching(effects, "Does olanzapine cause weight gain?", ("olanzapine",)) == ["Weight increased"]
    assert matching(effects, "Does topiramate cause weight loss?", ("Topiramate",)) == ["Weight decreased"]
    assert matching(effects, "Is it associated with weight changes?", ("x",)) == effects[:2]
    assert matching(effects, "Is acetaminophen hepatotoxic?", ("acetaminophen",)) == ["Hepatic failure"]
    # "failure" alone names no effect; "liver" is read as the labels' "hepatic"
    liver = "Does paracetamol cause acute liver failure?"
    assert matching(effects, liver, ("paracetamol", "Acetaminophen")) == ["Hepatic failure"]
    # a "yes" needs an effect carrying every specific word asked, not one of them
    infarction = "Does sumatriptan cause acute myocardial infarction?"
    heart = ["Myocardial depression", "Myocardial infarction", "Cerebellar infarction"]
    assert matching(heart, infarction, ("sumatriptan",)) == heart
    assert covering(heart, infarction, ("sumatriptan",)) == ["Myocardial infarction"]
    # five-letter stems also join "angioedema" and "Angiopathy": an effect holding the question's own
    # word drops those spelling its stem otherwise; the labels' synonyms ("liver": hepatic) stay
    assert covering(["Angioedema", "Angiopathy"], "Can lisinopril cause angioedema?", ("lisinopril",)) == [
        "Angioedema"
    ]
    hepatic = ["Acute hepatic failure", "Hepatic failure", "Liver injury"]
    assert covering(hepatic, liver, ("paracetamol",)) == hepatic


def test_short_and_plain_effect_words_are_read():
    """ "Can ibuprofen cause rash?" names an effect: a four-letter word a five-letter stem never reached,
    so the question read as asking for the whole list. Plurals and lay words reach the labels' terms."""
    from hygeia.agents.side_effects import asked_stems, covering, matching

    effects = ["Abdominal pain", "Back pain", "Gout", "Pruritus", "Rash", "Rash pustular", "Urticaria"]
    names = ("ibuprofen",)
    assert asked_stems("Can ibuprofen cause rash?", names) == {"rash"}
    assert matching(effects, "Can ibuprofen cause rashes?", names) == ["Rash", "Rash pustular"]
    assert matching(effects, "Does ibuprofen cause hives?", names) == ["Urticaria"]
    assert matching(effects, "Does ibuprofen make you itchy?", names) == ["Pruritus"]
    assert matching(effects, "Does ibuprofen cause gout?", names) == ["Gout"]
    abdominal = "Can ibuprofen cause abdominal pain?"
    assert covering(matching(effects, abdominal, names), abdominal, names) == ["Abdominal pain"]
    assert asked_stems("Can it cause a gasp or a fallen arch?", ()) == {"fallen"[:5]}  # only -s plurals


def test_plain_words_and_american_spelling_reach_the_labels_terms():
    """The labels are MedDRA terms in British spelling: "hyperglycemia" is their "Hyperglycaemia" (not
    every hyper- effect), "blood sugar" their glycaemia with its direction, "muscle pain" Myalgia."""
    from hygeia.agents.side_effects import covering, matching

    def basis(effects: list[str], question: str) -> list[str]:
        return covering(matching(effects, question, ("x",)), question, ("x",))

    sugar = ["Blood glucose increased", "Hyperglycaemia", "Hypertension", "Hypoglycaemia"]
    assert basis(sugar, "Does x cause hyperglycemia?") == ["Hyperglycaemia"]
    assert basis(sugar, "Does x cause high blood sugar?") == ["Blood glucose increased", "Hyperglycaemia"]
    assert basis(sugar, "Does x cause low blood sugar?") == ["Hypoglycaemia"]
    pains = ["Arthralgia", "Back pain", "Myalgia", "Myopathy"]
    assert basis(pains, "Does x cause muscle pain?") == ["Myalgia"]
    assert basis(pains, "Does x cause joint pain?") == ["Arthralgia"]
    assert basis(["Alopecia", "Hair disorder"], "Can x make you lose your hair?") == ["Alopecia"]
    assert matching(["Diarrhoea", "Oedema", "Haemorrhage", "Rash"], "Does x cause diarrhea?", ("x",)) == [
        "Diarrhoea"
    ]


def test_qt_wording_reaches_the_labels_qt_term():
    """ "Does erythromycin prolong the QT interval?" is a side-effect question about Electrocardiogram QT
    prolonged; "prolong survival" is none."""
    from hygeia.agents.side_effects import EFFECT_CUE, covering, matching

    labels = ["Electrocardiogram QT prolonged", "Electrocardiogram abnormal", "Interstitial lung disease"]
    for question in (
        "Does erythromycin prolong the QT interval?",
        "Can erythromycin cause QTc prolongation?",
    ):
        assert EFFECT_CUE.search(question)
        named = matching(labels, question, ("erythromycin",))
        assert covering(named, question, ("erythromycin",)) == ["Electrocardiogram QT prolonged"]
    assert not EFFECT_CUE.search("Does erythromycin prolong survival?")


def test_a_question_listing_effects_asks_about_each():
    """ "rash or hives": one of them labelled is a "yes"; "nausea and vomiting": both must be; a
    comparison's "ibuprofen or naproxen" lists drugs, not effects."""
    from hygeia.agents.side_effects import listed_basis, matching

    def basis(effects: list[str], question: str, names: tuple[str, ...] = ("x",)) -> list[str]:
        return listed_basis(matching(effects, question, names), question, names)

    labels = ["Nausea", "Rash", "Hepatic failure"]
    assert basis(labels, "Does x cause rash or hives?") == ["Rash"]
    assert basis(labels, "Does x cause nausea and vomiting?") == []  # vomiting is not labelled
    assert basis([*labels, "Vomiting"], "Does x cause nausea, vomiting and rash?") == [
        "Nausea",
        "Vomiting",
        "Rash",
    ]
    question = "Which is more likely to cause liver injury, ibuprofen or naproxen?"
    assert basis(labels, question, ("ibuprofen", "naproxen")) == ["Hepatic failure"]


def test_a_question_naming_no_effect_gets_the_labels_listed_grave_outcomes_first():
    """ "What are the side effects of X?" asks for the list: grave outcomes, then lesions, lead it."""
    from hygeia.agents.side_effects import EFFECT_CUE, LISTING, _listing, asked_stems

    for question in ("What are the side effects of ibuprofen?", "What adverse events does ibuprofen have?"):
        assert EFFECT_CUE.search(question) and LISTING.search(question)
        assert asked_stems(question, ("ibuprofen",)) == set()
    effects = [
        "Abdominal pain",
        "Failure to thrive",
        "Gastritis",
        "Hepatic failure",
        "Liver function test normal",
    ]
    fact = _listing("Ibuprofen", effects)
    assert "lists 5 labelled side effects for Ibuprofen" in fact
    assert (
        "2 name a grave outcome or a lesion (a word rule), first: Hepatic failure, Gastritis, Abdominal pain"
        in fact
    )
    assert "test normal" not in fact  # a normal test result is no effect
    assert _listing("X", ["Nausea", "Rash"]).endswith("e.g. Nausea, Rash; the full list is in this result")


def test_labels_naming_part_of_what_was_asked_say_which_word_they_lack():
    """Metformin's labels list Acidosis, not lactic acidosis: listed, but no "yes" to the question."""
    from hygeia.agents.side_effects import _unnamed, covering, matching

    question, names = "Does metformin cause lactic acidosis?", ("metformin",)
    named = matching(["Acidosis", "Diarrhoea"], question, names)
    assert named == ["Acidosis"] and covering(named, question, names) == []
    assert _unnamed(named, question, names) == ", none naming 'lactic' as asked"
    assert _unnamed(["Lactic acidosis"], question, names) == ""
    liver = "Does paracetamol cause acute liver necrosis?"  # the question's word, not the labels' stem
    assert _unnamed(["Hepatic failure"], liver, ("paracetamol",)) == ", none naming 'necrosis' as asked"


def test_association_wording_cues_the_labels_lookup():
    """ "Is pioglitazone associated with bladder cancer?" asks what "does it cause" asks."""
    from hygeia.agents.side_effects import EFFECT_CUE, covering

    for question in ("Is pioglitazone associated with bladder cancer?", "Is it linked to bladder cancer?"):
        assert EFFECT_CUE.search(question)
        labels = ["Bladder cancer", "Bladder neoplasm", "Neoplasm"]
        assert covering(labels, question, ("pioglitazone",)) == ["Bladder cancer"]
    assert not EFFECT_CUE.search("Which drugs are approved for bladder cancer?")


def test_comparative_wording_names_no_effect():
    """ "Which is more likely to cause liver injury, ibuprofen or naproxen?" asks about the liver only."""
    from hygeia.agents.side_effects import EFFECT_CUE, covering

    labels = ["Hepatic failure", "Gastrointestinal haemorrhage", "Renal failure"]
    names = ("ibuprofen", "naproxen")
    for question, effect in (
        ("Which is more likely to cause liver injury, ibuprofen or naproxen?", "Hepatic failure"),
        ("Is ibuprofen more likely than naproxen to cause GI bleeding?", "Gastrointestinal haemorrhage"),
        ("Which drug has a higher risk of renal toxicity, ibuprofen or naproxen?", "Renal failure"),
    ):
        assert EFFECT_CUE.search(question)
        assert covering(labels, question, names) == [effect]


def test_a_named_pair_gets_a_signal_verdict_from_its_alert_levels():
    from hygeia.agents.signal_lookup import pair_verdict

    levels = {"statin101.csv": "high", "statin49.csv": "none"}
    alert = pair_verdict("atorvastatin", "rhabdomyolysis", levels)["verdict"]
    assert alert["label"] == "yes" and "high in statin101.csv" in alert["basis"]
    assert "statin49" not in alert["basis"] and "not proof of causation" in alert["basis"]
    quiet = pair_verdict("atorvastatin", "rash", {"statin101.csv": "none"})
    assert quiet["verdict"]["label"] == "no" and "not evidence of safety" in quiet["verdict"]["basis"]
    assert pair_verdict("atorvastatin", None, {"statin101.csv": "high"}) == {}  # top signals: no pair asked


def test_an_event_without_a_drug_brings_the_drugs_with_its_top_signals_and_says_which_drugs_are_covered():
    import pytest

    from hygeia.agents.signal_lookup import reference_lookup
    from hygeia.core.errors import InputError

    found = reference_lookup("Which drugs have a signal for pancreatitis?", event="pancreatitis")
    assert found["drug"] is None and found["event"] == "pancreatitis" and found["pairs"]
    assert {p["event"] for p in found["pairs"]} == {"pancreatitis"} and len(
        {p["drug"] for p in found["pairs"]}
    ) > 1
    priorities = [p.get("priority") or 0 for p in found["pairs"]]
    assert priorities == sorted(priorities, reverse=True)
    alerting = sum(p["alert_level"] != "none" for p in found["pairs"])
    assert alerting < len(found["pairs"])  # a ranked pair is not called a signal unless it alerts
    assert found["fact"].startswith(
        f"the {len(found['pairs'])} highest-priority pairs ({alerting} with an alert) for pancreatitis "
        "(bundled MDDC FAERS reference table, "
    )
    assert "which covers only " in found["fact"] and "atorvastatin" in found["fact"]
    # a drug the table lacks, named where the event cue looks, is not read as "any drug"
    with pytest.raises(InputError, match="no drug of the signal reference table is named"):
        reference_lookup("Is there a signal for zorblaxine and pancreatitis?", event="zorblaxine")


def test_an_event_the_table_names_otherwise_brings_its_related_terms_without_a_verdict():
    from hygeia.agents.signal_lookup import pair_verdict, reference_lookup

    found = reference_lookup("Is there a signal for simvastatin and hepatitis?")
    assert found["asked_event"] == "hepatitis" and found["event"] is None and found["answers"] is False
    assert "autoimmune hepatitis" in found["related_events"]
    assert {p["event"] for p in found["pairs"]} <= set(found["related_events"])
    assert found["fact"].startswith("no simvastatin-hepatitis term in the table; related terms of")
    levels = {p["table"]: p["alert_level"] for p in found["pairs"]}
    assert pair_verdict(found["drug"], found["event"], levels) == {}  # not the pair that was asked about


def test_a_follow_up_carries_the_compound_of_the_latest_question_that_named_one():
    from hygeia.agents.planner import initial_context

    earlier = ["Is it hepatotoxic?", "Does atorvastatin cause myopathy?"]  # newest first
    combined = "Is it hepatotoxic? Does it cause rash?"
    context = initial_context("Does it cause rash?", combined, earlier)
    assert context["drug"] == "atorvastatin" and context["question"] == "Does it cause rash?"
    assert context["query"] == combined  # retrieval still searches with the previous question
    # a question of its own keeps its own compound, and a new topic carries nothing
    assert initial_context("Does simvastatin cause rash?", combined, earlier)["drug"] == "simvastatin"
    assert "drug" not in initial_context("What is a cohort study?", "What is a cohort study?", earlier)
