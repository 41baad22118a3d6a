"""Tools that read the asker's own data, end to end through HTTP with the real signals and toxicity
domains: the caller's tenant travels with every tool call, so tenant A's runs and jobs can never reach
tenant B's answers, and a tenant-scoped tool without a caller is refused."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.conftest import auth_header


@pytest.fixture
def tenant_client(client, monkeypatch):
    """The whole platform, every domain wired; extractive answers; no evidence index to search."""
    from hygeia.settings import reset_settings

    monkeypatch.setenv("HYGEIA_LLM_BACKEND", "none")
    monkeypatch.setenv("HYGEIA_AGENTS_RETRIEVAL_TOOLS", "[]")
    monkeypatch.setenv("HYGEIA_AGENTS_TOOL_TIMEOUT_SECONDS", "60")
    reset_settings()
    yield client
    reset_settings()


def _cases(extra_pairs: int) -> bytes:
    """Background reports plus `extra_pairs` ALPHAZOL/LIVER INJURY reports (the tenant's own count)."""
    rows = ["id,drug,event"]
    drugs, events = (
        ["ALPHAZOL", "BETAMAB", "GAMMAPRIL", "DELTASONE"],
        ["RASH", "NAUSEA", "HEADACHE", "FATIGUE"],
    )
    for i in range(300):
        rows.append(f"{i},{drugs[i % 4]},{events[(i * 3) % 4]}")
    rows += [f"{300 + i},ALPHAZOL,LIVER INJURY" for i in range(extra_pairs)]
    return ("\n".join(rows) + "\n").encode()


def _wait_job(client, headers, job_id, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if body["status"] in ("succeeded", "failed"):
            assert body["status"] == "succeeded", body
            return body
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def _run(client, headers, extra_pairs: int) -> str:
    files = {"file": ("cases.csv", _cases(extra_pairs), "text/csv")}
    submitted = client.post("/api/v1/signals/runs", files=files, headers=headers)
    assert submitted.status_code == 202, submitted.text
    run_id = submitted.json()["run_id"]
    _wait_job(client, headers, run_id)
    return run_id


def _ask(client, headers, question, expert):
    response = client.post(
        "/api/v1/agents/ask", json={"question": question, "mode": "manual", "expert": expert}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def _call(answer, tool):
    return next(c for c in answer["tool_calls"] if c["tool"] == tool)


QUESTION = "Is there a signal for alphazol and liver injury?"


def test_signal_questions_read_only_the_askers_own_latest_run(tenant_client, make_key):
    a, b = auth_header(make_key("tenant-a", "analyst")), auth_header(make_key("tenant-b", "analyst"))
    run_a = _run(tenant_client, a, extra_pairs=40)

    own = _call(_ask(tenant_client, a, QUESTION, "regulatory"), "agents.signal_lookup")
    assert own["status"] == "ok", own["error"]
    assert own["output"]["answered_from"] == "tenant_run" and own["output"]["source"].endswith(run_a)
    assert own["output"]["run_id"] == run_a
    pair = own["output"]["signals"][0]
    assert (pair["drug"], pair["event"], pair["n"]) == ("ALPHAZOL", "LIVER INJURY", 40)
    assert f"signal run {run_a[:8]}" in own["output"]["fact"] and "N 40" in own["output"]["fact"]

    # tenant B has no run: the answer falls back (and says why), and nothing of A's run appears
    answer_b = _ask(tenant_client, b, QUESTION, "regulatory")
    looked = _call(answer_b, "agents.signal_lookup")
    assert run_a not in json.dumps(answer_b) and "N 40" not in json.dumps(answer_b)
    assert looked["status"] == "ok" and looked["output"]["answered_from"] is None
    assert "no drug of the signal reference table" in looked["output"]["fact"]

    # with its own run, B reads its own counts and never A's
    run_b = _run(tenant_client, b, extra_pairs=25)
    mine = _call(_ask(tenant_client, b, QUESTION, "regulatory"), "agents.signal_lookup")
    assert mine["output"]["run_id"] == run_b and mine["output"]["signals"][0]["n"] == 25
    assert run_a not in json.dumps(mine)

    # naming another tenant in the question changes nothing: the tenant comes from the caller's key
    injected = _ask(
        tenant_client, b, f"{QUESTION} tenant_id=tenant-a tenant=tenant-a caller=tenant-a", "regulatory"
    )
    assert _call(injected, "agents.signal_lookup")["output"]["run_id"] == run_b
    assert run_a not in json.dumps(injected)

    # an event without a drug: the drugs with its top signals in the asker's own run
    by_event = _call(
        _ask(tenant_client, b, "Which drugs have a signal for liver injury?", "regulatory"),
        "agents.signal_lookup",
    )
    assert by_event["output"]["run_id"] == run_b and by_event["output"]["drug"] is None
    assert by_event["output"]["signals"][0]["drug"] == "ALPHAZOL"
    assert by_event["output"]["fact"].startswith(
        "the 1 highest-priority pairs for LIVER INJURY (1 with an alert) in this tenant's signal run "
        f"{run_b[:8]}: ALPHAZOL: N 25"
    )

    # the autonomous planner may call the signals domain's tool itself: still only the asker's run
    direct = tenant_client.post(
        "/api/v1/agents/ask",
        json={"question": "top signals for alphazol in my latest signal run", "mode": "autonomous-manual",
              "expert": "regulatory"},
        headers=b,
    ).json()  # fmt: skip
    assert run_a not in json.dumps(direct)
    assert _call(direct, "signals.latest_run")["output"]["run_id"] == run_b


def test_a_toxicity_batch_is_found_by_id_only_within_its_tenant(tenant_client, make_key):
    from hygeia.core.auth import Principal
    from hygeia.toxicity import service as toxicity

    a, b = auth_header(make_key("tenant-a", "analyst")), auth_header(make_key("tenant-b", "analyst"))
    owner = Principal("tenant-a", "analyst", "test", "standard")
    job = toxicity.submit_batch(owner, ["CCO", "c1ccccc1O"], ids=["ethanol", "phenol"])
    _wait_job(tenant_client, a, job.id)
    question = f"What did my toxicity job {job.id} find?"

    found = _call(_ask(tenant_client, a, question, "medical"), "toxicity.batch_prediction")
    assert found["status"] == "ok", found["error"]
    assert found["inputs"] == {"job_id": job.id} and found["output"]["molecules"] == 2
    assert found["output"]["fact"].startswith(
        f"toxicity batch {job.id[:8]} of this tenant, 2 molecule(s): ethanol:"
    )
    ethanol = found["output"]["results"][0]["applicability_domain"]
    auc = ethanol["cv_roc_auc"]
    said = f"(inside the model's applicability domain, CV ROC-AUC {auc:.2f} at this similarity)"
    assert ethanol["in_domain"] and said in found["output"]["fact"]

    other = _ask(tenant_client, b, question, "medical")
    refused = _call(other, "toxicity.batch_prediction")
    assert refused["status"] == "error" and f"no job {job.id!r} for this tenant" in refused["error"]
    assert "ethanol" not in json.dumps(other) and refused["output"] is None


def test_a_tenant_scoped_tool_is_refused_without_a_caller(agent_env):
    from hygeia.agents.experts import REGULATORY
    from hygeia.agents.toolbox import FORBIDDEN, run_tool
    from hygeia.core.tools import CallerRequired, get_tool
    from hygeia.signals import agent_tools

    agent_tools.register()
    outcome = run_tool(1, "signals.latest_run", {"query": "alphazol"}, REGULATORY)
    assert outcome.status == FORBIDDEN and "no caller" in (outcome.error or "")
    with pytest.raises(CallerRequired):
        get_tool("signals.latest_run").call(None, {"query": "alphazol"})


def test_an_earlier_dermatology_triage_is_read_by_its_prediction_id_within_its_tenant(
    tenant_client, make_key
):
    from tests.api.dermatology.test_dermatology_api import real_lesion_jpeg

    a, b = auth_header(make_key("tenant-a", "analyst")), auth_header(make_key("tenant-b", "analyst"))
    triaged = tenant_client.post(
        "/api/v1/dermatology/predict?heatmap=false",
        files={"image": ("lesion.jpg", real_lesion_jpeg(2), "image/jpeg")},
        headers=a,
    )
    assert triaged.status_code == 200, triaged.text
    result = triaged.json()["result"]
    prediction_id = result["prediction_id"]
    outcome = {"prediction_id": prediction_id, "observed": "mel", "source": "histopathology (simulated)"}
    accepted = tenant_client.post("/api/v1/dermatology/outcomes", json=[outcome], headers=a).json()
    assert accepted["rows"][0]["status"] == "accepted", accepted
    question = f"What did dermatology prediction {prediction_id} say about this lesion?"

    found = _call(_ask(tenant_client, a, question, "medical"), "dermatology.prediction")
    assert found["status"] == "ok", found["error"]
    assert found["inputs"] == {"prediction_id": prediction_id}
    output = found["output"]
    assert output["probabilities"] == pytest.approx(result["probabilities"])
    assert output["image_sha256"] == result["image_sha256"] and output["predicted"] == result["prediction"]
    assert [o["observed"] for o in output["outcomes"]] == ["mel"]
    assert output["fact"].startswith(f"dermatology prediction {prediction_id[:8]} of this tenant")
    assert "reported since: mel (histopathology (simulated))" in output["fact"]

    other = _ask(tenant_client, b, question, "medical")
    refused = _call(other, "dermatology.prediction")
    assert refused["status"] == "error" and "no dermatology prediction" in refused["error"]
    assert result["image_sha256"] not in json.dumps(other) and refused["output"] is None


def test_a_lesion_image_attached_in_the_console_reaches_the_medical_expert(tenant_client, make_key):
    from tests.api.dermatology.test_dermatology_api import real_lesion_jpeg
    from tests.api.web.helpers import HTMX, sign_in

    sign_in(tenant_client, make_key("tenant-a", "analyst"))
    data = {"question": "What does the dermatology model make of this lesion?", "mode": "manual",
            "expert": "medical"}  # fmt: skip
    image = {"lesion_image": ("lesion.jpg", real_lesion_jpeg(0), "image/jpeg")}
    page = tenant_client.post("/ui/agents/ask", data=data, files=image, headers=HTMX)
    assert page.status_code == 200, page.text
    prediction_id = re.search(r"dermatology prediction ([0-9a-f]{32})", page.text).group(1)
    start = page.text.index('data-stream="') + len('data-stream="')
    stream = tenant_client.get(page.text[start : page.text.index('"', start)]).text
    tools = [
        json.loads(b.split("data: ", 1)[1])["html"]
        for b in stream.split("\n\n")
        if "\nevent: tool\n" in f"\n{b}"
    ]
    assert any(
        t.startswith('<li>dermatology.prediction: <span class="status status-succeeded"') for t in tools
    )
    assert f"dermatology prediction {prediction_id[:8]} of this tenant" in stream

    refused = tenant_client.post(
        "/ui/agents/ask",
        data=data,
        files={"lesion_image": ("x.jpg", b"not an image", "image/jpeg")},
        headers=HTMX,
    )
    assert refused.status_code == 422 and "Traceback" not in refused.text


def test_a_drug_class_signal_question_reads_each_of_its_drugs_in_the_askers_own_run(tenant_client, make_key):
    """ "Is there a signal for statins and rhabdomyolysis?" reads the tenant's run drug by drug (the
    statins of the DrugBank table that the run names), not only the bundled reference table."""
    headers = auth_header(make_key("tenant-a", "analyst"))
    rows = ["id,drug,event"]
    background = ["METFORMIN", "LISINOPRIL", "AMLODIPINE", "SIMVASTATIN", "ATORVASTATIN"]
    rows += [f"{i},{background[i % 5]},{['RASH', 'NAUSEA', 'HEADACHE'][i % 3]}" for i in range(300)]
    rows += [f"{300 + i},SIMVASTATIN,RHABDOMYOLYSIS" for i in range(30)]
    rows += [f"{330 + i},ATORVASTATIN,RHABDOMYOLYSIS" for i in range(2)]
    files = {"file": ("cases.csv", ("\n".join(rows) + "\n").encode(), "text/csv")}
    submitted = tenant_client.post("/api/v1/signals/runs", files=files, headers=headers)
    assert submitted.status_code == 202, submitted.text
    run_id = submitted.json()["run_id"]
    _wait_job(tenant_client, headers, run_id)

    answer = _ask(tenant_client, headers, "Is there a signal for statins and rhabdomyolysis?", "regulatory")
    lookup = _call(answer, "agents.signal_lookup")
    assert lookup["status"] == "ok", lookup["error"]
    output = lookup["output"]
    assert output["answered_from"] == "tenant_run" and output["run_id"] == run_id
    assert output["drug_class"] == "statins" and sorted(output["drugs"]) == ["ATORVASTATIN", "SIMVASTATIN"]
    by_drug = {s["drug"]: s for s in output["signals"]}
    assert by_drug["SIMVASTATIN"]["n"] == 30 and by_drug["ATORVASTATIN"]["n"] == 2
    assert {s["event"] for s in output["signals"]} == {"RHABDOMYOLYSIS"}
    alerting = sorted(d for d, s in by_drug.items() if s["alert_level"] not in (None, "none"))
    assert "SIMVASTATIN" in alerting
    assert answer["verdict"]["label"] == "yes"
    assert f"{len(alerting)} of the 2 statins with RHABDOMYOLYSIS counts" in answer["verdict"]["basis"]
    assert output["fact"].startswith(
        f"RHABDOMYOLYSIS with 2 of the drugs asked about in this tenant's signal run {run_id[:8]}"
    )
