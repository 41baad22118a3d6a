"""End to end with the real capabilities, not `agents_test.*` tools: a plain question naming a drug
reaches the toxicity model through the DrugBank structure lookup."""

from __future__ import annotations

import pytest

from tests.conftest import auth_header


@pytest.fixture
def real_toxicity(agent_env, monkeypatch):
    from hygeia.agents import assays, drugs, side_effects
    from hygeia.core import tools
    from hygeia.toxicity import service as toxicity_service
    from hygeia.toxicity import tested_records

    schema = {"type": "object", "properties": {"smiles": {"type": "string"}}, "required": ["smiles"]}
    real = tools.Tool(
        "toxicity.predict", "Tox21 probabilities for SMILES", toxicity_service.predict_tool, schema
    )
    monkeypatch.setitem(tools._TOOLS, "toxicity.predict", real)
    record_schema = {
        "type": "object",
        "properties": {"inchikey": {"type": "string"}},
        "required": ["inchikey"],
    }
    record = tools.Tool(
        "toxicity.tox21_record", "Tox21's record by InChIKey", tested_records.tox21_record, record_schema
    )
    monkeypatch.setitem(tools._TOOLS, "toxicity.tox21_record", record)
    drugs.register()
    assays.register()
    side_effects.register()
    monkeypatch.setenv("HYGEIA_AGENTS_TOOL_TIMEOUT_SECONDS", "60")
    from hygeia.settings import reset_settings

    reset_settings()


def ask(client, headers, question, **body):
    return client.post("/api/v1/agents/ask", json={"question": question, **body}, headers=headers).json()


def test_a_drug_name_question_reaches_the_toxicity_model(agents_client, make_key, real_toxicity):
    headers = auth_header(make_key("hospital-a", "analyst"))
    answer = ask(agents_client, headers, "Is acetaminophen hepatotoxic?", mode="automatic")
    assert answer["expert"]["name"] == "medical"
    calls = {c["tool"]: c for c in answer["tool_calls"]}
    lookup = calls["agents.toxicity_by_name"]
    assert lookup["status"] == "ok", lookup["error"]
    assert lookup["inputs"] == {"drug": "acetaminophen"} and lookup["output"]["drugbank_id"] == "DB00316"
    probabilities = lookup["output"]["prediction"]["probabilities"]
    assert set(probabilities) >= {"NR-AR", "SR-MMP"} and all(0 <= p <= 1 for p in probabilities.values())
    assert (
        "- Acetaminophen (DB00316, structure from DrugBank): highest Tox21 probabilities" in answer["answer"]
    )
    assert answer["confidence"]["tool_answered"] is True
    # the drug labels answer the question: their verdict leads, stated as a rule on SIDER, not a model
    verdict = answer["verdict"]
    assert verdict["label"] == "yes" and verdict["model"] == "rule: agents.side_effects"
    # "hepatotoxic" asks about harm: a label term naming injury or toxicity leads the basis
    assert verdict["probabilities"] is None and "hepatocellular injury" in verdict["basis"].lower()
    assert answer["answer"].splitlines()[1].startswith(f"Verdict: yes (from [{verdict['source']}], rule:")


def test_a_drug_tox21_measured_is_stated_as_measured(agents_client, make_key, real_toxicity, read_across_on):
    """Tamoxifen is a Tox21 training compound: the answer gives what the assays measured, before the
    model's probabilities, which were fitted on it."""
    headers = auth_header(make_key("hospital-a", "analyst"))
    answer = ask(agents_client, headers, "Is tamoxifen toxic?", mode="manual", expert="medical")
    lookup = next(c for c in answer["tool_calls"] if c["tool"] == "agents.toxicity_by_name")
    read_across = lookup["output"]["prediction"]["read_across"]
    assert read_across["in_training_set"] is True
    itself = read_across["neighbours"][0]
    active = [e for e, outcome in itself["measured"].items() if outcome == "active"]
    assert "NR-ER" in active  # tamoxifen is an oestrogen-receptor modulator
    stated = f"measured in Tox21 ({', '.join(itself['tox21_ids'])}): active in {', '.join(active)} ("
    assert stated in answer["answer"] and "not an independent prediction" in answer["answer"]


def test_a_synonym_resolves_and_an_unknown_name_says_so(agents_client, make_key, real_toxicity):
    headers = auth_header(make_key("hospital-a", "analyst"))
    answer = ask(agents_client, headers, "Is paracetamol toxic?", mode="manual", expert="medical")
    lookup = next(c for c in answer["tool_calls"] if c["tool"] == "agents.toxicity_by_name")
    assert lookup["status"] == "ok" and lookup["output"]["drug"] == "Acetaminophen"

    unknown = ask(agents_client, headers, "Is drug=zorblaxine toxic?", mode="manual", expert="medical")
    lookup = next(c for c in unknown["tool_calls"] if c["tool"] == "agents.toxicity_by_name")
    assert lookup["status"] == "error" and "no structure known for 'zorblaxine'" in lookup["error"]
    assert "no structure known for 'zorblaxine'" in unknown["answer"]
    assert unknown["confidence"]["tool_answered"] is False


def test_a_question_on_an_assay_target_is_answered_from_what_tox21_measured(
    agents_client, make_key, real_toxicity, read_across_on
):
    headers = auth_header(make_key("hospital-a", "analyst"))
    answer = ask(agents_client, headers, "Does tamoxifen activate the estrogen receptor?", mode="automatic")
    tools = [c["tool"] for c in answer["tool_calls"]]
    assert "agents.toxicity_by_name" not in tools  # one toxicity call for the compound, not two
    lookup = next(c for c in answer["tool_calls"] if c["tool"] == "agents.tox21_assay")
    assert lookup["status"] == "ok", lookup["error"]
    assert (
        lookup["output"]["assays"] == ["NR-ER", "NR-ER-LBD"] and lookup["output"]["drugbank_id"] == "DB00675"
    )
    verdict = answer["verdict"]
    assert (verdict["label"], verdict["model"]) == ("yes", "rule: agents.tox21_assay")
    assert (
        "NR-ER (oestrogen receptor alpha agonism, full-length receptor): measured active" in verdict["basis"]
    )
    assert "not effects in patients" in verdict["basis"] and answer["confidence"]["tool_answered"] is True

    # the planner may run the name lookup first and pass its structure on: the drug keeps its name
    planned = ask(agents_client, headers, "Does tamoxifen activate the estrogen receptor?", mode="3")
    lookup = next(c for c in planned["tool_calls"] if c["tool"] == "agents.tox21_assay")
    assert lookup["output"]["compound"] == "Tamoxifen" and planned["verdict"]["label"] == "yes"

    # a structure in the question is scored as given; Tox21 tested bisphenol A in both ER assays
    bpa = ask(agents_client, headers, "Does CC(C)(c1ccc(O)cc1)c1ccc(O)cc1 activate the estrogen receptor?")
    lookup = next(c for c in bpa["tool_calls"] if c["tool"] == "agents.tox21_assay")
    assert lookup["inputs"]["smiles"] == "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1"
    assert bpa["verdict"]["label"] == "yes" and "measured active" in bpa["verdict"]["basis"]


def test_an_untested_compound_gets_the_models_call_and_blocking_gets_no_verdict(
    agents_client, make_key, real_toxicity, read_across_on
):
    headers = auth_header(make_key("hospital-a", "analyst"))
    question = "Does sitagliptin activate the aryl hydrocarbon receptor?"
    answer = ask(agents_client, headers, question, mode="manual", expert="medical")
    lookup = next(c for c in answer["tool_calls"] if c["tool"] == "agents.tox21_assay")
    prediction = lookup["output"]["prediction"]
    assert prediction["read_across"]["in_training_set"] is False
    assert (
        prediction["prediction_sets"]["NR-AhR"] == "inactive" and prediction["probabilities"]["NR-AhR"] < 0.5
    )
    assert answer["verdict"]["label"] == "no"
    assert "not measured; predicted inactive" in answer["verdict"]["basis"]
    assert "about 0.2 of tested actives" in answer["verdict"]["basis"]

    # Tox21's androgen assays read agonism: flutamide's inactive result does not answer "block"
    blocked = ask(agents_client, headers, "Does flutamide block the androgen receptor?", mode="automatic")
    lookup = next(c for c in blocked["tool_calls"] if c["tool"] == "agents.tox21_assay")
    assert "measured inactive" in lookup["output"]["fact"] and "read agonism" in lookup["output"]["fact"]
    assert "verdict" not in lookup["output"] and not blocked["answer"].splitlines()[1].startswith("Verdict")


def test_a_metal_complex_is_answered_from_its_own_tox21_record_not_its_ligands(
    agents_client, make_key, real_toxicity, read_across_on
):
    """DrugBank's cisplatin keeps platinum apart from its ammonia ligands; stripping the metal once made
    "Is cisplatin genotoxic?" read ammonium nitrate's Tox21 record (TOX9668) as cisplatin's. The model
    does not score metal complexes, but Tox21 tested cisplatin and oxaliplatin as such."""
    headers = auth_header(make_key("hospital-a", "analyst"))
    answer = ask(agents_client, headers, "Is cisplatin genotoxic?", mode="automatic")
    lookup = next(c for c in answer["tool_calls"] if c["tool"] == "agents.tox21_assay")
    assert lookup["output"]["drugbank_id"] == "DB00515" and "probabilities" not in str(
        lookup["output"]["fact"]
    )
    assert "outside the model's chemistry: contains Pt" in lookup["output"]["fact"]
    assert lookup["output"]["fact"].startswith("Cisplatin (Tox21 TOX4983, Tox21's own record): SR-ATAD5")
    assert "TOX9668" not in answer["answer"]

    oxaliplatin = ask(agents_client, headers, "Is oxaliplatin genotoxic?", mode="automatic")
    verdict = oxaliplatin["verdict"]
    assert (verdict["label"], verdict["model"]) == ("yes", "rule: agents.tox21_assay")
    assert "SR-p53 (p53 activation, a DNA-damage reporter): measured active" in verdict["basis"]


def test_an_industrial_chemical_drugbank_names_by_inchikey_reaches_its_tox21_record(
    agents_client, make_key, real_toxicity, read_across_on
):
    """Bisphenol A has no structure in DrugBank's table, only an InChIKey in its vocabulary: Tox21's
    record gives it one, and "endocrine disruptor" reads the androgen, oestrogen and aromatase assays."""
    headers = auth_header(make_key("hospital-a", "analyst"))
    answer = ask(agents_client, headers, "Is bisphenol A an endocrine disruptor?", mode="automatic")
    lookup = next(c for c in answer["tool_calls"] if c["tool"] == "agents.tox21_assay")
    assert lookup["output"]["drugbank_id"] == "DB06973" and len(lookup["output"]["assays"]) == 5
    verdict = answer["verdict"]
    assert verdict["label"] == "yes" and "NR-ER (oestrogen receptor alpha agonism, full-length receptor): " \
        "measured active" in verdict["basis"]  # fmt: skip

    # a compound measured inactive across the panel still gets no "no": antagonism is not read
    untested = ask(agents_client, headers, "Is sitagliptin an endocrine disruptor?", mode="automatic")
    lookup = next(c for c in untested["tool_calls"] if c["tool"] == "agents.tox21_assay")
    assert "verdict" not in lookup["output"] and "not antagonism" in lookup["output"]["fact"]


def test_a_drugs_structure_reaches_its_labels_and_an_assay_by_name_is_described(
    agents_client, make_key, real_toxicity
):
    headers = auth_header(make_key("hospital-a", "analyst"))
    answer = ask(agents_client, headers, "Is CC(=O)Nc1ccc(O)cc1 hepatotoxic?", mode="automatic")
    calls = {c["tool"]: c for c in answer["tool_calls"]}
    assert calls["toxicity.predict"]["inputs"] == {"smiles": "CC(=O)Nc1ccc(O)cc1"}
    assert "agents.toxicity_by_name" not in calls  # the structure given is scored, once
    assert calls["agents.side_effects"]["inputs"]["drug"] == "acetaminophen"  # found by its InChIKey
    assert (answer["verdict"]["label"], answer["verdict"]["model"]) == ("yes", "rule: agents.side_effects")

    described = ask(agents_client, headers, "What does SR-MMP measure?", mode="automatic")
    lookup = next(c for c in described["tool_calls"] if c["tool"] == "agents.tox21_assay")
    assert lookup["output"]["assays"] == ["SR-MMP"] and "toxicity.predict" not in lookup["output"]
    assert (
        "- SR-MMP (Tox21): a cell-based quantitative high-throughput reporter assay of mitochondrial"
        in (described["answer"])
    )
    assert described["confidence"]["tool_answered"] is True


def test_follow_up_questions_ask_about_the_compound_named_before(agents_client, make_key, real_toxicity):
    headers = auth_header(make_key("hospital-a", "analyst"))
    first = ask(agents_client, headers, "Does tamoxifen activate the estrogen receptor?", mode="automatic")
    conversation = {"mode": "automatic", "conversation_id": first["conversation_id"]}
    second = ask(agents_client, headers, "Does it activate the androgen receptor?", **conversation)
    lookup = next(c for c in second["tool_calls"] if c["tool"] == "agents.tox21_assay")
    assert lookup["inputs"] == {"query": "Does it activate the androgen receptor?", "drug": "tamoxifen"}
    assert lookup["output"]["assays"] == ["NR-AR", "NR-AR-LBD"]  # not the oestrogen assays again
    third = ask(agents_client, headers, "Does it cause hot flushes?", **conversation)
    labels = next(c for c in third["tool_calls"] if c["tool"] == "agents.side_effects")
    assert labels["inputs"]["drug"] == "tamoxifen" and "Hot flush" in labels["output"]["named_in_question"]
    assert third["verdict"]["label"] == "yes"


def test_a_question_for_a_drugs_side_effects_is_answered_by_its_label_list(
    agents_client, make_key, real_toxicity
):
    """No effect named: the labels' list answers it (grave outcomes first), with no verdict, and two
    drugs' lists are not read as "labels do not list it"."""
    headers = auth_header(make_key("hospital-a", "analyst"))
    answer = ask(
        agents_client, headers, "What are the side effects of ibuprofen?", mode="manual", expert="medical"
    )
    labels = next(c for c in answer["tool_calls"] if c["tool"] == "agents.side_effects")["output"]
    assert (
        labels["answers"] is True
        and labels["asks_about_effect"] is False
        and labels["named_in_question"] == []
    )
    assert labels["n_side_effects"] == len(labels["side_effects"]) > 100
    assert "labelled side effects for Ibuprofen" in labels["fact"] and "none matches" not in labels["fact"]
    assert "a grave outcome or a lesion (a word rule), first: Agranulocytosis" in labels["fact"]
    assert answer["verdict"] is None and answer["confidence"]["tool_answered"] is True
    assert "not answered" not in answer["confidence"]["label"]
    both = ask(
        agents_client,
        headers,
        "What are the side effects of ibuprofen and naproxen?",
        mode="manual",
        expert="medical",
    )
    assert [c["inputs"]["drug"] for c in both["tool_calls"] if c["tool"] == "agents.side_effects"] == [
        "ibuprofen",
        "naproxen",
    ]
    assert "do not list it" not in both["answer"]


def test_where_the_labels_are_silent_the_spontaneous_reports_are_a_fact_not_a_verdict(
    agents_client, make_key, real_toxicity
):
    """SIDER has no entry for atorvastatin: "Does atorvastatin cause rhabdomyolysis?" gets the pair's
    FAERS statistics, without a "yes" (an alert is an association in reports); a drug no report table
    covers leaves a note instead of a failed step; "Can ibuprofen cause rash?" is a labelled "yes"."""
    from hygeia.agents import signal_lookup

    signal_lookup.register()
    headers = auth_header(make_key("hospital-a", "analyst"))
    answer = ask(
        agents_client, headers, "Does atorvastatin cause rhabdomyolysis?", mode="manual", expert="medical"
    )
    calls = {c["tool"]: c for c in answer["tool_calls"]}
    assert calls["agents.side_effects"]["output"]["n_side_effects"] == 0
    reports = calls["agents.signal_lookup"]
    assert reports["status"] == "ok" and "verdict" not in reports["output"]
    assert reports["output"]["drug"] == "atorvastatin" and reports["output"]["event"] == "rhabdomyolysis"
    assert "EB05 24" in answer["answer"] and answer["verdict"] is None
    uncovered = ask(agents_client, headers, "Does warfarin cause bleeding?", mode="manual", expert="medical")
    labels = next(c for c in uncovered["tool_calls"] if c["tool"] == "agents.side_effects")["output"]
    assert labels["n_side_effects"] == 0  # SIDER lacks warfarin, and no report table covers it
    assert all(c["tool"] != "agents.signal_lookup" for c in uncovered["tool_calls"])
    assert any("tried because the labels have no entry" in n for n in uncovered["notes"])
    rash = ask(agents_client, headers, "Can ibuprofen cause rash?", mode="manual", expert="medical")
    assert rash["verdict"]["label"] == "yes" and "lists Rash" in rash["answer"]
    assert all(c["tool"] != "agents.signal_lookup" for c in rash["tool_calls"])


def test_a_comparison_looks_up_each_drug_it_names(agents_client, make_key, real_toxicity):
    """Each drug gets its own labels (the other's name is no effect asked about); each verdict is its
    drug's line, and the answer as a whole states none."""
    headers = auth_header(make_key("hospital-a", "analyst"))
    question = "Do ibuprofen and naproxen cause liver injury?"
    answer = ask(agents_client, headers, question, mode="manual", expert="medical")
    labels = [c for c in answer["tool_calls"] if c["tool"] == "agents.side_effects"]
    assert [c["inputs"]["drug"] for c in labels] == ["ibuprofen", "naproxen"]
    assert [c["output"]["verdict"]["label"] for c in labels] == ["yes", "yes"]
    lines = answer["answer"].splitlines()
    assert lines[1].startswith("Verdict: yes") and "Ibuprofen's drug labels list" in lines[1]
    assert lines[2].startswith("Verdict: yes") and "Naproxen's drug labels list" in lines[2]
    assert answer["verdict"] is None
    assert "Side by side: Ibuprofen [" in answer["answer"] and "does not tell which" not in answer["answer"]
    which = "Which is more likely to cause liver injury, ibuprofen or naproxen?"
    compared = ask(agents_client, headers, which, mode="manual", expert="medical")
    side_by_side = next(line for line in compared["answer"].splitlines() if line.startswith("Side by side"))
    assert (
        "Ibuprofen [" in side_by_side and "Naproxen [" in side_by_side and ": labels list it." in side_by_side
    )
    assert "not how often it occurs, so this does not tell which drug is more likely" in side_by_side
    planned = ask(agents_client, headers, question, mode="autonomous-manual", expert="medical")
    looked_up = [c["inputs"]["drug"] for c in planned["tool_calls"] if c["tool"] == "agents.side_effects"]
    assert looked_up == ["ibuprofen", "naproxen"] and planned["verdict"] is None
    one = ask(agents_client, headers, "Does ibuprofen cause liver injury?", mode="manual", expert="medical")
    assert [c["inputs"]["drug"] for c in one["tool_calls"] if c["tool"] == "agents.side_effects"] == [
        "ibuprofen"
    ]
    assert one["verdict"]["label"] == "yes"
    follow_up = {"mode": "manual", "expert": "medical", "conversation_id": one["conversation_id"]}
    naproxen = ask(
        agents_client, headers, "And for naproxen?", **follow_up
    )  # searched with the question before
    assert (
        naproxen["verdict"]["label"] == "yes"
        and "Naproxen's drug labels list" in naproxen["verdict"]["basis"]
    )


def test_the_regulatory_expert_may_not_call_toxicity_by_name(agents_client, make_key, real_toxicity):
    headers = auth_header(make_key("hospital-a", "analyst"))
    answer = ask(agents_client, headers, "Is acetaminophen hepatotoxic?", mode="manual", expert="regulatory")
    assert "agents.toxicity_by_name" not in {c["tool"] for c in answer["tool_calls"]}


def test_a_signal_question_gets_the_reference_statistics_and_names_the_source(agents_client, make_key):
    from hygeia.agents import signal_lookup

    signal_lookup.register()
    headers = auth_header(make_key("hospital-a", "analyst"))
    question = "Is there a signal for atorvastatin and rhabdomyolysis?"
    answer = ask(agents_client, headers, question, mode="automatic")
    assert answer["expert"]["name"] == "regulatory"
    lookup = next(c for c in answer["tool_calls"] if c["tool"] == "agents.signal_lookup")
    assert lookup["status"] == "ok", lookup["error"]
    pairs = {p["table"]: p for p in lookup["output"]["pairs"]}
    assert set(pairs) == {"statin49.csv", "statin101.csv"}
    assert lookup["output"]["answered_from"] == "reference_table"
    recent = pairs["statin101.csv"]
    assert recent["n"] > 5 * recent["expected"] and recent["eb05"] > 2 and recent["alert_level"] == "high"
    assert "bundled MDDC FAERS reference table, not this tenant's runs" in answer["answer"]
    # this app wires the agents alone: the answer says why no tenant run was read
    assert "[the signals capability is not installed, so no tenant run was consulted]" in answer["answer"]
    assert f"N {recent['n']:.0f}" in answer["answer"]
    verdict = answer["verdict"]
    assert (verdict["label"], verdict["model"]) == ("yes", "rule: agents.signal_lookup")
    assert "high in statin101.csv" in verdict["basis"] and "not proof of causation" in verdict["basis"]

    unknown = ask(agents_client, headers, "Is there a signal for zorblaxine and rash?", mode="automatic")
    lookup = next(c for c in unknown["tool_calls"] if c["tool"] == "agents.signal_lookup")
    assert lookup["status"] == "ok" and lookup["output"]["answers"] is False  # no statistics: stated
    assert "no signal statistics: no drug of the signal reference table is named" in unknown["answer"]
    assert "Tool failure" not in unknown["answer"]


def test_a_signal_question_naming_two_drugs_gets_each_drugs_statistics(agents_client, make_key):
    from hygeia.agents import signal_lookup

    signal_lookup.register()
    headers = auth_header(make_key("hospital-a", "analyst"))
    question = "Do simvastatin and atorvastatin have a signal for rhabdomyolysis?"
    answer = ask(agents_client, headers, question, mode="automatic")
    lookups = [c for c in answer["tool_calls"] if c["tool"] == "agents.signal_lookup"]
    assert [(c["output"]["drug"], c["output"]["event"]) for c in lookups] == [
        ("simvastatin", "rhabdomyolysis"),
        ("atorvastatin", "rhabdomyolysis"),
    ]
    verdict_lines = [line for line in answer["answer"].splitlines() if line.startswith("Verdict: yes")]
    assert [("simvastatin-" in line, "atorvastatin-" in line) for line in verdict_lines] == [
        (True, False),
        (False, True),
    ]
    assert answer["verdict"] is None  # one verdict per drug, none for the question as a whole


def test_elliptical_signal_follow_ups_keep_the_expert_and_ask_about_the_pair_named_last(
    agents_client, make_key
):
    """ "What about myopathy?" then "And for atorvastatin?": the regulatory expert looks up
    simvastatin-myopathy, then atorvastatin-myopathy, each with the first question's yes/no verdict."""
    from hygeia.agents import signal_lookup

    signal_lookup.register()
    headers = auth_header(make_key("hospital-a", "analyst"))
    first = ask(
        agents_client, headers, "Is there a signal for simvastatin and rhabdomyolysis?", mode="automatic"
    )
    conversation = {"mode": "automatic", "conversation_id": first["conversation_id"]}
    asked = []
    for follow_up in ("What about myopathy?", "And for atorvastatin?"):
        answer = ask(agents_client, headers, follow_up, **conversation)
        assert answer["expert"]["name"] == "regulatory"
        lookup = next(c for c in answer["tool_calls"] if c["tool"] == "agents.signal_lookup")
        asked.append((lookup["output"]["drug"], lookup["output"]["event"]))
        assert (
            answer["verdict"]["label"] == "yes" and answer["verdict"]["model"] == "rule: agents.signal_lookup"
        )
    assert asked == [("simvastatin", "myopathy"), ("atorvastatin", "myopathy")]


def test_a_question_about_an_event_gets_the_drugs_with_its_top_signals_from_any_expert(
    agents_client, make_key
):
    """ "Which statins have a signal for myopathy?" names no drug but a class; the router sends it to the
    medical expert, which may look signals up too, for the statins only."""
    from hygeia.agents import signal_lookup

    signal_lookup.register()
    headers = auth_header(make_key("hospital-a", "analyst"))
    answer = ask(agents_client, headers, "Which statins have a signal for myopathy?", mode="automatic")
    lookup = next(c for c in answer["tool_calls"] if c["tool"] == "agents.signal_lookup")
    assert lookup["status"] == "ok", lookup["error"]
    drugs = [p["drug"] for p in lookup["output"]["pairs"]]
    assert lookup["output"]["event"] == "myopathy" and "simvastatin" in drugs and len(set(drugs)) > 2
    assert all(drug.endswith("statin") for drug in drugs)
    covered = "myopathy with the 6 statins (ATC C10AA) the bundled MDDC FAERS reference table"
    assert covered in answer["answer"]


def test_a_drug_class_is_looked_up_drug_by_drug(agents_client, make_key, real_toxicity):
    """ "Do fluoroquinolones cause tendon rupture?" reads each fluoroquinolone's labels (ATC J01MA), "Is
    there a signal for statins and rhabdomyolysis?" each statin's reference counts; the toxicity model,
    which scores one structure, says so instead of failing."""
    from hygeia.agents import signal_lookup

    signal_lookup.register()
    headers = auth_header(make_key("hospital-a", "analyst"))
    tendon = ask(
        agents_client, headers, "Do fluoroquinolones cause tendon rupture?", mode="manual", expert="medical"
    )
    labels = next(c for c in tendon["tool_calls"] if c["tool"] == "agents.side_effects")
    assert labels["inputs"]["drug"] == "fluoroquinolones" and labels["status"] == "ok"
    assert (
        tendon["verdict"]["label"] == "yes" and "fluoroquinolones (ATC J01MA)" in tendon["verdict"]["basis"]
    )
    assert "Ciprofloxacin (Tendon rupture" in tendon["answer"]
    signal = ask(
        agents_client,
        headers,
        "Is there a signal for statins and rhabdomyolysis?",
        mode="manual",
        expert="regulatory",
    )
    reports = next(c for c in signal["tool_calls"] if c["tool"] == "agents.signal_lookup")
    assert reports["status"] == "ok" and reports["output"]["drug_class"] == "statins"
    assert (
        signal["verdict"]["label"] == "yes"
        and "statins with rhabdomyolysis counts" in signal["verdict"]["basis"]
    )
    liver = ask(agents_client, headers, "Are statins hepatotoxic?", mode="manual", expert="medical")
    calls = {c["tool"]: c for c in liver["tool_calls"]}
    scored = calls["agents.toxicity_by_name"]
    assert scored["status"] == "ok" and scored["output"]["answers"] is False
    assert "ask about one of them by name" in liver["answer"]
    assert calls["agents.side_effects"]["output"]["verdict"]["label"] == "yes"


def test_a_misspelt_drug_is_read_by_sound_and_the_answer_says_so(agents_client, make_key, real_toxicity):
    headers = auth_header(make_key("hospital-a", "analyst"))
    answer = ask(agents_client, headers, "Does diclofenak cause rash?", mode="manual", expert="medical")
    labels = next(c for c in answer["tool_calls"] if c["tool"] == "agents.side_effects")
    assert labels["inputs"]["drug"] == "diclofenac" and labels["output"]["verdict"]["label"] == "yes"
    assert "read 'diclofenak' as diclofenac (the DrugBank name it spells by sound)" in answer["notes"]
