"""Screens over HTTP: a molecule file scored in chunk jobs, merged in input order, downloaded as CSV or
Parquet; a chunk delivered again (its worker died) changes nothing; chunks are not the caller's jobs."""

from __future__ import annotations

import csv
import io
import time

import pyarrow.parquet as pq
import pytest

from hygeia.core.auth import Principal
from hygeia.core.blobs import get_blob_store
from hygeia.core.errors import ProblemError
from hygeia.core.jobs import RUNNING, child_job_id, execute_job, submit_job
from hygeia.core.tables import Job
from hygeia.toxicity.screen import split_input
from tests.conftest import auth_header

BPA = "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1"
ROWS = [  # compound id, smiles: a comma inside a quoted name, an unparseable row, a metal
    ("c1", "CCO", "ethanol"),
    ("c2", "C1CC", "broken, on purpose"),
    ("c3", BPA, "bisphenol A"),
    ("c4", "CCCC[Sn](CCCC)(CCCC)Cl", "tributyltin chloride"),
    ("c5", "c1ccccc1", "benzene"),
    ("c6", "=HYPERLINK(1)", "formula"),
    ("c7", "CCN", "ethylamine"),
]


@pytest.fixture
def analyst(client, make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return auth_header(make_key("acme", "analyst"))


def _csv_upload() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["compound_id", "smiles", "name"])
    writer.writerow([])  # a blank line is no molecule
    writer.writerows(ROWS)
    return out.getvalue().encode()


def _finished(client, poll: str, headers: dict[str, str]) -> dict:  # type: ignore[no-untyped-def,type-arg]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job = client.get(poll, headers=headers).json()
        if job["status"] in ("succeeded", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"screen still {job['status']}: {job}")


def _submit(client, headers, fmt: str = "csv", chunk_size: int = 3) -> dict:  # type: ignore[no-untyped-def,type-arg]
    response = client.post(
        "/api/v1/toxicity/screens",
        params={"format": fmt, "chunk_size": chunk_size},
        files={"file": ("library.csv", _csv_upload(), "text/csv")},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def test_screen_in_chunks_keeps_order_ids_and_errors(client, analyst) -> None:  # type: ignore[no-untyped-def]
    accepted = _submit(client, analyst)
    job = _finished(client, accepted["poll"], analyst)
    assert job["status"] == "succeeded", job
    assert job["result"]["chunks"] == 3 and job["result"]["n_rows"] == 7 and job["result"]["n_errors"] == 3
    assert job["progress"] == 1.0 and job["message"] == "scored 3 of 3 chunks"
    response = client.get(accepted["download"], headers=analyst)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["compound_id"] for r in rows] == [r[0] for r in ROWS]
    assert rows[1]["name"] == "broken, on purpose" and rows[1]["error"].startswith("unparseable")
    assert rows[3]["error"].startswith("disallowed_element") and rows[3]["NR-AR"] == ""
    assert rows[5]["smiles"] == "'=HYPERLINK(1)"  # a spreadsheet does not run it
    assert 0.0 <= float(rows[2]["NR-ER"]) <= 1.0 and rows[2]["in_domain"] == "true"
    listed = client.get("/api/v1/jobs", headers=analyst).json()
    assert [j["kind"] for j in listed if j["id"] == accepted["job_id"]] == ["toxicity.screen"]
    assert all(j["kind"] != "toxicity.screen_chunk" for j in listed)  # the chunks are the screen's


def test_screen_as_parquet_equals_the_csv(client, analyst) -> None:  # type: ignore[no-untyped-def]
    as_csv = _submit(client, analyst, "csv", 7)
    as_parquet = _submit(client, analyst, "parquet", 2)
    for accepted in (as_csv, as_parquet):
        assert _finished(client, accepted["poll"], analyst)["status"] == "succeeded"
    text = client.get(as_csv["download"], headers=analyst).text
    table = pq.read_table(io.BytesIO(client.get(as_parquet["download"], headers=analyst).content))
    from_csv = list(csv.DictReader(io.StringIO(text)))
    from_parquet = [{k: v or "" for k, v in row.items()} for row in table.to_pylist()]
    for row in from_csv:  # the CSV neutralises formulas; Parquet keeps the text as given
        row["smiles"] = row["smiles"].removeprefix("'")
    assert from_parquet == from_csv


def test_a_chunk_delivered_again_duplicates_nothing(client, analyst) -> None:  # type: ignore[no-untyped-def]
    """The last chunk's worker died after writing its part, before the screen was merged: the broker
    redelivers that chunk, which runs again, rewrites the same part and merges the screen once."""
    from hygeia.core.db import system_session

    accepted = _submit(client, analyst, "csv", 3)
    first = _finished(client, accepted["poll"], analyst)
    again = child_job_id(accepted["job_id"], 1)
    with system_session() as session:  # back to the moment of the kill
        screen = session.get(Job, accepted["job_id"])
        screen.status, screen.result, screen.finished_at = RUNNING, None, None
        session.get(Job, again).status = RUNNING
    get_blob_store().delete(first["result"]["output"]["key"])
    assert execute_job(again) == "succeeded"
    later = client.get(accepted["poll"], headers=analyst).json()
    assert later["status"] == "succeeded" and later["result"] == first["result"]
    rows = list(csv.DictReader(io.StringIO(client.get(accepted["download"], headers=analyst).text)))
    assert [r["compound_id"] for r in rows] == [r[0] for r in ROWS]


def test_bad_screens_are_refused_clearly(client, analyst, make_key) -> None:  # type: ignore[no-untyped-def]
    wrong_type = client.post(
        "/api/v1/toxicity/screens",
        files={"file": ("library.xlsx", b"PK", "application/zip")},
        headers=analyst,
    )
    assert wrong_type.status_code == 422 and "unsupported input" in wrong_type.json()["detail"]
    no_column = client.post(
        "/api/v1/toxicity/screens", files={"file": ("x.csv", b"id,name\n1,a\n", "text/csv")}, headers=analyst
    )
    job = _finished(client, no_column.json()["poll"], analyst)
    assert job["status"] == "failed" and "no 'smiles' column" in job["error"] and "/" not in job["error"]
    running = client.get(no_column.json()["download"], headers=analyst)
    assert running.status_code == 409
    with pytest.raises(ProblemError, match="parts of another job") as refused:  # any caller, any route
        submit_job(Principal("acme", "admin", "someone", "standard"), "toxicity.screen_chunk", {})
    assert refused.value.status == 403
    other = auth_header(make_key("globex", "analyst"))
    assert client.get(no_column.json()["download"], headers=other).status_code == 404


def test_a_screen_delivered_again_reuses_its_chunks(client, analyst) -> None:  # type: ignore[no-untyped-def]
    """The screen's own worker died after handing out the chunks: running it again makes no new ones."""
    from sqlalchemy import func, select

    from hygeia.core.db import system_session

    accepted = _submit(client, analyst, "csv", 3)
    assert _finished(client, accepted["poll"], analyst)["status"] == "succeeded"
    with system_session() as session:
        session.get(Job, accepted["job_id"]).status = RUNNING
    assert execute_job(accepted["job_id"]) == RUNNING  # handed off again, to the same three chunks
    with system_session() as session:
        chunks = session.scalar(select(func.count()).where(Job.kind == "toxicity.screen_chunk"))
        ids = set(session.scalars(select(Job.id).where(Job.kind == "toxicity.screen_chunk")))
    assert chunks == 3 and ids == {child_job_id(accepted["job_id"], n) for n in range(3)}


def test_split_keeps_records_whole() -> None:
    """SMILES files keep a header per chunk and lose only blank and `#` comment lines; SDF blocks keep their
    fields, a last block without $$$$ too."""
    chunks: dict[int, bytes] = {}
    smi = b"smiles\nCCO ethanol\n\nc1ccccc1\n# a comment, as the Tox21 challenge's files open\nCCN amine"
    split = split_input(io.BytesIO(smi), ".smi", 2, chunks.__setitem__)
    assert (split.records, split.chunks) == (3, 2)
    assert chunks[0] == b"smiles\nCCO ethanol\nc1ccccc1\n" and chunks[1] == b"smiles\nCCN amine\n"
    block = "ethanol\n  RDKit\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n>  <id>\nE1\n\n"
    chunks.clear()
    split = split_input(io.BytesIO((block + "$$$$\n" + block).encode()), ".sdf", 1, chunks.__setitem__)
    assert (split.records, split.chunks) == (2, 2)
    assert chunks[0].decode() == chunks[1].decode() == block + "$$$$\n"


def test_sdf_screen_names_the_broken_record_of_the_whole_file(client, analyst) -> None:  # type: ignore[no-untyped-def]
    from rdkit import Chem

    def record(smiles: str, compound_id: str) -> str:
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("_Name", compound_id)
        mol.SetProp("id", compound_id)
        return Chem.MolToMolBlock(mol) + f">  <id>\n{compound_id}\n\n$$$$\n"

    broken = "broken\n  junk\n\nnot a counts line\nM  END\n>  <id>\nX4\n\n$$$$\n"
    sdf = record("CCO", "X1") + record(BPA, "X2") + record("c1ccccc1", "X3") + broken + record("CCN", "X5")
    response = client.post(
        "/api/v1/toxicity/screens",
        params={"chunk_size": 2},
        files={"file": ("library.sdf", sdf.encode(), "chemical/x-mdl-sdfile")},
        headers=analyst,
    )
    job = _finished(client, response.json()["poll"], analyst)
    assert job["status"] == "succeeded" and job["result"]["chunks"] == 3, job
    rows = list(csv.DictReader(io.StringIO(client.get(response.json()["download"], headers=analyst).text)))
    assert [r["id"] for r in rows] == ["X1", "X2", "X3", "X4", "X5"]
    assert "SDF record 4:" in rows[3]["error"] and rows[1]["name"] == "X2" and not rows[1]["error"]


def test_deleting_a_screen_takes_its_upload_files_and_chunks(client, analyst) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from hygeia.core.db import system_session

    accepted = _submit(client, analyst, "csv", 3)
    done = _finished(client, accepted["poll"], analyst)
    with system_session() as session:
        upload = session.get(Job, accepted["job_id"]).payload["input"]
    store = get_blob_store()
    assert store.stat(upload) is not None and store.stat(done["result"]["output"]["key"]) is not None
    assert client.delete(f"/api/v1/jobs/{accepted['job_id']}", headers=analyst).status_code == 204
    with system_session() as session:
        assert session.scalar(select(func.count()).where(Job.kind == "toxicity.screen_chunk")) == 0
    assert store.stat(upload) is None and store.stat(done["result"]["output"]["key"]) is None
    assert client.get(accepted["download"], headers=analyst).status_code == 404
