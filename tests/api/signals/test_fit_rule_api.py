"""The MGPS fit rule through HTTP on openEBGM's CAERS data: default = openEBGM's answer, 'global' on
request, and both say which rule chose the prior, how many starts agreed and what else was found."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.api.signals.test_signals_api import _submit, _wait
from tests.api.web.helpers import HTMX, sign_in
from tests.conftest import auth_header

CAERS = Path(__file__).resolve().parents[2] / "fixtures" / "openebgm" / "caers.csv.gz"


def _caers_upload() -> bytes:
    text = gzip.decompress(CAERS.read_bytes()).decode()
    header, _, body = text.partition("\n")
    return (header.replace('"var1"', '"drug"').replace('"var2"', '"event"') + "\n" + body).encode()


def _run(client, headers, **params):
    submitted = _submit(client, headers, content=_caers_upload(), **params)
    assert submitted.status_code == 202, submitted.text
    status = _wait(client, headers, submitted.json()["run_id"], timeout=120)
    assert status["status"] == "succeeded", status
    return status


def test_default_fit_is_openebgms_and_reports_the_better_lonely_optimum(client, make_key):
    key = make_key("acme", "analyst")
    analyst = auth_header(key)
    status = _run(client, analyst)
    summary = status["summary"]
    h = summary["hyperparameters"]
    assert [round(h[k], 4) for k in ("alpha1", "beta1", "alpha2", "beta2", "p")] == [
        3.2560,
        0.4000,
        2.0238,
        1.9061,
        0.0653,
    ]
    fit = summary["fit"]
    assert fit["outcome"] == "accepted" and fit["rule"] == "consistent" and fit["num_close"] == 4
    lonely = [a for a in fit["alternatives"] if not a["chosen"]]
    assert lonely and lonely[0]["starts"] == 1
    assert lonely[0]["nll_minus_chosen"] == pytest.approx(-0.275, abs=0.005)
    assert "use fit rule 'global'" in fit["statement"]

    sign_in(client, key)
    fragment = client.get(f"/ui/signals/runs/{status['run_id']}", headers=HTMX)
    assert fragment.status_code == 200
    assert (
        'data-fit-outcome="accepted"' in fragment.text and "rule <strong>consistent</strong>" in fragment.text
    )
    assert "4 of 4 other starts agree" in fragment.text and "-0.27" in fragment.text


def test_global_fit_on_request(client, make_key):
    analyst = auth_header(make_key("acme", "analyst"))
    summary = _run(client, analyst, fit="global")["summary"]
    assert summary["fit"]["rule"] == "global" and summary["fit"]["num_close"] == 0
    assert summary["hyperparameters"]["alpha1"] == pytest.approx(20.96, abs=0.01)
    bad = _submit(client, analyst, fit="best")
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
