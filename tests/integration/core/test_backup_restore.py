"""scripts/backup.sh + scripts/restore.sh against the real PostgreSQL: the restored service answers the same.

Each test creates its own databases on the local server (hygeia_bk_<random>) and drops them at the end.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from tests.conftest import REPO_ROOT, _base_env, auth_header, reset_caches
from tests.integration.conftest import POSTGRES_URL

pytestmark = pytest.mark.integration

SCRIPTS = REPO_ROOT / "scripts"


def _create_app() -> Any:
    from hygeia.app import create_app

    return create_app()


def _server() -> Any:
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture
def new_database() -> Iterator[Any]:
    """A factory of fresh, uniquely named databases; every one is dropped afterwards."""
    created: list[str] = []

    def factory() -> str:
        name = f"hygeia_bk_{secrets.token_hex(6)}"
        server = _server()
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()
        created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    yield factory
    reset_caches()
    from hygeia.core.db import engine_for

    engine_for.cache_clear()
    server = _server()
    with server.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def _use(monkeypatch: pytest.MonkeyPatch, var_dir: Path, database_url: str) -> None:
    _base_env(monkeypatch, var_dir)
    monkeypatch.setenv("HYGEIA_DATABASE_URL", database_url)
    monkeypatch.setenv("HYGEIA_DOMAINS", '["signals"]')  # the platform plus one domain with files in var/
    reset_caches()


def _script(name: str, argument: Path, var_dir: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HYGEIA_DATABASE_URL": database_url,
        "HYGEIA_VAR_DIR": str(var_dir),
        "HYGEIA_MODELS_DIR": str(REPO_ROOT / "models"),
        "HYGEIA_PYTHON": sys.executable,
        "HYGEIA_LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        ["bash", str(SCRIPTS / name), str(argument)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO_ROOT,
    )


def _table_rows(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order (JSON columns cannot be ORDER BY'd in SQL)."""
    engine = create_engine(database_url)
    try:
        tables = sorted(inspect(engine).get_table_names())
        with engine.connect() as connection:
            return {
                table: sorted(
                    (tuple(row) for row in connection.execute(text(f'SELECT * FROM "{table}"'))), key=repr
                )
                for table in tables
            }
    finally:
        engine.dispose()


def _wait_job(client: TestClient, headers: dict[str, str], url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(url, headers=headers).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{url} did not finish")


def _cases_csv() -> bytes:
    rows = ["id,drug,event,serious,death,quarter"]
    for i in range(400):
        drug = ["ALPHA", "BETA", "GAMMA", "DELTA"][i % 4]
        event = ["RASH", "NAUSEA", "HEADACHE", "FATIGUE", "DIZZINESS"][(i * 3) % 5]
        rows.append(f"{i},{drug},{event},{i % 3 == 0},{i % 50 == 0},2022Q{1 + i % 4}")
    rows += [f"{i},ALPHA,LIVER INJURY,True,False,2022Q4" for i in range(400, 430)]
    return ("\n".join(rows) + "\n").encode()


def _tiny_model(folder: Path) -> Path:
    from hygeia.core.registry import write_card

    folder.mkdir(parents=True)
    (folder / "weights.json").write_text('{"w": [0.25, -1.5]}\n')
    write_card(folder, {"name": "bk-probe", "version": "1.0.0", "task": "backup test"})
    return folder


def _answers(client: TestClient, keys: dict[str, str], job_id: str, run_id: str) -> dict[str, Any]:
    """What the service says about the state we care about, through its public API."""
    admin, analyst = auth_header(keys["platform_admin"]), auth_header(keys["acme_analyst"])
    run = f"/api/v1/signals/runs/{run_id}"
    return {
        "whoami_platform": client.get("/api/v1/auth/whoami", headers=admin).json(),
        "whoami_acme_admin": client.get(
            "/api/v1/auth/whoami", headers=auth_header(keys["acme_admin"])
        ).json(),
        "whoami_acme_analyst": client.get("/api/v1/auth/whoami", headers=analyst).json(),
        "revoked_key": client.get("/api/v1/auth/whoami", headers=auth_header(keys["revoked"])).status_code,
        "job": client.get(f"/api/v1/jobs/{job_id}", headers=admin).json(),
        "run": client.get(run, headers=analyst).json(),
        "signals": client.get(f"{run}/signals", params={"limit": 20}, headers=analyst).json(),
        "models": client.get("/api/v1/admin/models", headers=admin).json(),
    }


def _audit(client: TestClient, keys: dict[str, str]) -> dict[str, Any]:
    """Both tenants' audit trails (reading flushes the writer); a denied request adds a row, so read
    these last before the backup and first after the restore."""
    return {
        f"audit_{who}": client.get(
            "/api/v1/admin/audit", params={"limit": 1000}, headers=auth_header(keys[key])
        ).json()
        for who, key in (("platform", "platform_admin"), ("acme", "acme_admin"))
    }


def test_backup_then_restore_into_fresh_database_and_var_answers_the_same(
    new_database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from hygeia.core.bootstrap import bootstrap
    from hygeia.core.registry import get_registry

    source_url, source_var = new_database(), tmp_path / "source-var"
    _use(monkeypatch, source_var, source_url)
    platform_admin = bootstrap().admin_key
    assert platform_admin
    probe = _tiny_model(tmp_path / "incoming" / "bk-probe")
    get_registry().register(probe, copy=True)  # a model whose only copy lives in var/registry
    shutil.rmtree(probe.parent)

    keys = {"platform_admin": platform_admin}
    with TestClient(_create_app()) as client:
        admin = auth_header(platform_admin)
        created = client.post("/api/v1/admin/tenants", json={"id": "acme", "name": "Acme"}, headers=admin)
        assert created.status_code == 201, created.text
        for role in ("admin", "analyst"):
            made = client.post(
                "/api/v1/admin/keys", json={"tenant_id": "acme", "role": role, "name": role}, headers=admin
            )
            assert made.status_code == 201, made.text
            keys[f"acme_{role}"] = made.json()["key"]
        made = client.post(
            "/api/v1/admin/keys", json={"tenant_id": "acme", "role": "viewer", "name": "gone"}, headers=admin
        ).json()
        keys["revoked"] = made["key"]
        acme_admin = auth_header(keys["acme_admin"])
        assert client.delete(f"/api/v1/admin/keys/{made['id']}", headers=acme_admin).status_code == 204

        submitted = client.post("/api/v1/jobs", json={"kind": "registry.verify"}, headers=admin)
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["id"]
        job = _wait_job(client, admin, f"/api/v1/jobs/{job_id}")
        assert job["status"] == "succeeded" and job["result"]["all_ok"] is True
        assert {"name": "bk-probe", "version": "1.0.0", "ok": True} in job["result"]["models"]

        files = {"file": ("cases.csv", _cases_csv(), "text/csv")}
        run = client.post("/api/v1/signals/runs", files=files, headers=auth_header(keys["acme_analyst"]))
        assert run.status_code == 202, run.text
        run_id = run.json()["run_id"]
        finished = _wait_job(client, auth_header(keys["acme_analyst"]), f"/api/v1/signals/runs/{run_id}")
        assert finished["status"] == "succeeded", finished

        before = _answers(client, keys, job_id, run_id)
        before |= _audit(client, keys)
    assert before["whoami_acme_analyst"]["role"] == "analyst" and before["revoked_key"] == 401
    assert before["signals"]["total"] > 0 and before["audit_acme"] and before["audit_platform"]
    reset_caches()

    backup = tmp_path / "backup"
    made = _script("backup.sh", backup, source_var, source_url)
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in backup.iterdir()) == [
        "blobs.tar",
        "database.dump",
        "manifest.json",
        "registry.tar",
    ]
    assert make_url(source_url).password is None or make_url(source_url).password not in made.stdout
    source_rows = _table_rows(source_url)
    shutil.rmtree(source_var)  # the restored service must not lean on the old var dir

    target_url, target_var = new_database(), tmp_path / "restored-var"
    restored = _script("restore.sh", backup, target_var, target_url)
    assert restored.returncode == 0, restored.stderr

    # the database, row by row: tenants, hashed keys (and the revoked one), jobs and results, the whole
    # audit trail, registry rows (only the copied model's folder moved, to the new var dir)
    target_rows = _table_rows(target_url)
    assert set(target_rows) == set(source_rows) and source_rows["audit_events"]
    path_column = [c["name"] for c in inspect(create_engine(target_url)).get_columns("model_versions")].index(
        "path"
    )
    for table, rows in source_rows.items():
        if table == "model_versions":
            moved = []
            for row in rows:
                values = list(row)
                values[path_column] = values[path_column].replace(
                    str(source_var.resolve()), str(target_var.resolve())
                )
                moved.append(tuple(values))
            assert target_rows[table] == sorted(moved, key=repr)
        else:
            assert target_rows[table] == rows, table
    assert (target_var / "registry" / "bk-probe" / "1.0.0" / "weights.json").is_file()
    assert (target_var / "blobs" / "tenants" / "acme" / "jobs" / run_id / "ranked.csv.gz").is_file()

    _use(monkeypatch, target_var, target_url)
    from hygeia.core.db import get_engine

    with get_engine().begin() as connection, pytest.raises(DatabaseError, match="append-only"):
        connection.execute(text("DELETE FROM audit_events"))  # the trigger came back with the dump

    with TestClient(_create_app()) as client:
        after = _audit(client, keys)
        after |= _answers(client, keys, job_id, run_id)
        for name in before:
            assert after[name] == before[name], name
        # the registry still verifies every artifact, the copied model from its new home
        again = client.post(
            "/api/v1/jobs", json={"kind": "registry.verify"}, headers=auth_header(platform_admin)
        )
        verified = _wait_job(client, auth_header(platform_admin), f"/api/v1/jobs/{again.json()['id']}")
        assert verified["result"]["all_ok"] is True
        assert verified["result"]["models"] == job["result"]["models"]
    assert (
        get_registry().load("bk-probe", "1.0.0").path
        == target_var.resolve() / "registry" / "bk-probe" / "1.0.0"
    )

    listed = subprocess.run(
        [sys.executable, "-m", "hygeia.cli", "models", "list"],
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert f"{target_var.resolve()}/registry/bk-probe/1.0.0" in listed


@pytest.mark.parametrize("damage", ["tampered", "missing"])
def test_restore_refuses_a_tampered_or_missing_part(
    damage: str, new_database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from hygeia.core.bootstrap import bootstrap

    source_url, source_var = new_database(), tmp_path / "source-var"
    _use(monkeypatch, source_var, source_url)
    bootstrap(register_models=False)
    reset_caches()
    backup = tmp_path / "backup"
    assert _script("backup.sh", backup, source_var, source_url).returncode == 0

    dump = backup / "database.dump"
    if damage == "tampered":
        content = bytearray(dump.read_bytes())
        content[len(content) // 2] ^= 0xFF
        dump.write_bytes(bytes(content))
    else:
        dump.unlink()
    target_url, target_var = new_database(), tmp_path / "restored-var"
    refused = _script("restore.sh", backup, target_var, target_url)

    assert refused.returncode != 0
    message = refused.stderr.strip()
    assert len(message.splitlines()) == 1 and "database.dump" in message and "refusing" in message
    assert ("sha256" in message) if damage == "tampered" else ("missing" in message)
    engine = create_engine(target_url)
    assert inspect(engine).get_table_names() == []  # nothing was restored
    engine.dispose()
    assert not target_var.exists()
