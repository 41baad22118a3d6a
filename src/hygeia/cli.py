"""`hygeia` command line: serve, worker, bootstrap, admin, models, and each domain's commands."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hygeia.core import tools
from hygeia.core.cli import ProblemExits, fail
from hygeia.core.structured_logs import configure_logging
from hygeia.settings import get_settings

app = typer.Typer(
    cls=ProblemExits, help="Hygeia: trustworthy medical and drug-safety AI.", no_args_is_help=True
)


def wire_domains() -> list[str]:
    """The composition root (hygeia.app), imported only by the commands that run jobs or serve: it
    loads the web stack, over a second of CPU that a one-off `hygeia signals score` must not pay."""
    from hygeia.app import wire_domains as wire

    return list(wire())


tools.set_domain_loader(wire_domains)  # agents' tools wire the domains on first use, as in the API
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
admin_app = typer.Typer(help="Tenants and API keys.", no_args_is_help=True)
models_app = typer.Typer(
    help="Model registry: list, register, verify, promote, rollback.", no_args_is_help=True
)
train_app = typer.Typer(help="Train a domain's model from the real data sets.", no_args_is_help=True)
maintenance_app = typer.Typer(help="Retention purge and other upkeep.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(models_app, name="models")
app.add_typer(train_app, name="train")
app.add_typer(maintenance_app, name="maintenance")


@app.callback()
def main() -> None:
    """Hygeia: trustworthy medical and drug-safety AI."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)  # audit and job logs to stderr


@app.command()
def bootstrap() -> None:
    """Migrate the database, register bundled models, create the first admin key (printed once)."""
    from hygeia.core.bootstrap import bootstrap as run_bootstrap

    result = run_bootstrap()
    for model in result.models:
        typer.echo(f"model registered: {model}")
    if result.supplied_key_prefix:
        typer.echo(
            f"first admin key registered from HYGEIA_BOOTSTRAP_ADMIN_KEY ({result.supplied_key_prefix}...)"
        )
    if result.admin_key:
        typer.secho("First admin API key (shown once, store it now):", fg=typer.colors.YELLOW)
        typer.echo(result.admin_key)


@app.command()
def serve(
    host: str = typer.Option(None, help="default: HYGEIA_HOST or 127.0.0.1"),
    port: int = typer.Option(None, help="default: HYGEIA_PORT or 8000"),
    workers: int = typer.Option(1, min=1, max=16),
    run_bootstrap: bool = typer.Option(
        True, "--bootstrap/--no-bootstrap", help="--no-bootstrap where a one-off `hygeia bootstrap` Job ran"
    ),
) -> None:
    """Bootstrap (unless told not to), then serve the API and console."""
    import uvicorn

    if run_bootstrap:
        bootstrap()
    settings = get_settings()
    if workers > 1 and not settings.redis_url:
        typer.secho(
            f"warning: {workers} workers without HYGEIA_REDIS_URL: each worker process keeps its own "
            f"rate-limit counters and cache, so a caller may get up to {workers}x the stated limits",
            err=True,
            fg=typer.colors.YELLOW,
        )
    uvicorn.run(
        "hygeia.app:create_served_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="warning",
        access_log=False,  # Hygeia logs every request itself, with its request id and tenant
    )


@app.command()
def beat() -> None:
    """Run Celery Beat: schedules the daily retention purge and the retraining check (run exactly one)."""
    if not get_settings().celery_broker:
        fail("Celery Beat needs HYGEIA_REDIS_URL or HYGEIA_BROKER_URL")
    from hygeia.core.celery_app import run_beat

    wire_domains()  # domains register their retention purgers
    run_beat()


@maintenance_app.command("purge")
def maintenance_purge() -> None:
    """Apply every tenant's retention now (the embedded setup's stand-in for Celery Beat)."""
    from hygeia.core.retention import purge_expired

    wire_domains()
    for tenant, counts in purge_expired().items():
        typer.echo(f"{tenant}: " + ", ".join(f"{kind} {count}" for kind, count in counts.items()))


@maintenance_app.command("retrain-check")
def maintenance_retrain_check() -> None:
    """Check drift and live performance against HYGEIA_RETRAIN_* now (the embedded setup's stand-in
    for Celery Beat); submits retraining jobs where crossed, never promotes."""
    from hygeia.core.retraining import check

    wire_domains()  # domains register their retrainers, outcome kinds and job handlers
    for d in check():
        state = f"job {d.job_id}" if d.job_id else (f"held back: {d.held_back}" if d.held_back else "ok")
        typer.echo(
            f"{d.tenant_id} {d.model_name} {d.version}: {state}" + "".join(f"\n  {r}" for r in d.reasons)
        )


@maintenance_app.command("export-blobs")
def maintenance_export_blobs(target: Path) -> None:
    """Write every stored upload and job file (local or S3) into one tar, for backups."""
    from hygeia.core.blobs import BlobStoreError, export_archive, get_blob_store

    try:
        typer.echo(f"{export_archive(get_blob_store(), target)} files written to {target}")
    except (BlobStoreError, OSError) as exc:
        fail(str(exc))


@maintenance_app.command("import-blobs")
def maintenance_import_blobs(source: Path) -> None:
    """Restore a tar from export-blobs into the configured (empty) blob store."""
    import tarfile

    from hygeia.core.blobs import BlobStoreError, InvalidBlobKey, get_blob_store, import_archive

    try:
        typer.echo(f"{import_archive(get_blob_store(), source)} files restored from {source}")
    except (BlobStoreError, InvalidBlobKey, tarfile.TarError, OSError) as exc:
        fail(str(exc))


@app.command()
def worker(concurrency: int = typer.Option(2, min=1, max=32)) -> None:
    """Run a Celery worker (needs HYGEIA_REDIS_URL or HYGEIA_BROKER_URL)."""
    if not get_settings().celery_broker:
        fail("a Celery worker needs HYGEIA_REDIS_URL or HYGEIA_BROKER_URL")
    from hygeia.core.celery_app import run_worker

    wire_domains()  # the chosen domains' job handlers, before the first job arrives

    run_worker(concurrency)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    from hygeia.core import migrate

    migrate.upgrade(revision=revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="e.g. -1 or base")) -> None:
    from hygeia.core import migrate

    migrate.downgrade(revision=revision)
    typer.echo(f"database at {revision}")


@admin_app.command("create-tenant")
def create_tenant(tenant_id: str, name: str, tier: str = "standard") -> None:
    from hygeia.core import auth

    auth.create_tenant(tenant_id, name, tier)
    typer.echo(f"tenant {tenant_id} created ({tier})")


@admin_app.command("create-key")
def create_key(
    tenant_id: str, role: str = typer.Option(..., help="admin, analyst or viewer"), name: str = "cli"
) -> None:
    from hygeia.core import auth

    key, plaintext = auth.create_api_key(tenant_id, role, name)
    typer.echo(json.dumps({"id": key.id, "tenant_id": tenant_id, "role": role, "key": plaintext}))


@admin_app.command("revoke-key")
def revoke_key(tenant_id: str, key_id: str) -> None:
    from hygeia.core import auth

    auth.revoke_api_key(tenant_id, key_id)
    typer.echo(f"key {key_id} revoked")


@models_app.command("list")
def models_list() -> None:
    from hygeia.core.registry import get_registry

    for row in get_registry().versions():
        typer.echo(f"{row.name:14} {row.version:10} {row.stage:11} {row.sha256[:12]}  {row.path}")


@models_app.command("register")
def models_register(folder: Path, copy: bool = typer.Option(True, help="copy into var/registry")) -> None:
    from hygeia.core.registry import get_registry

    row = get_registry().register(folder, copy=copy)
    typer.echo(f"registered {row.name} {row.version} ({row.stage}) sha256 {row.sha256[:12]}")


@models_app.command("verify")
def models_verify(folder: Path) -> None:
    from hygeia.core.registry import verify_folder

    card = verify_folder(folder)
    typer.echo(f"ok: {card['name']} {card['version']} sha256 {card['sha256'][:12]}")


@models_app.command("promote")
def models_promote(name: str, version: str) -> None:
    from hygeia.core.registry import get_registry

    get_registry().promote(name, version)
    typer.echo(f"{name} {version} is now in production")


@models_app.command("rollback")
def models_rollback(name: str) -> None:
    from hygeia.core.registry import get_registry

    row = get_registry().rollback(name)
    typer.echo(f"{name} rolled back to {row.version}")


def _first_line(text: str | None) -> str | None:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else None


def _mount_domain_clis() -> None:
    from hygeia.agents import cli as agents_cli
    from hygeia.dermatology import cli as dermatology_cli
    from hygeia.evidence import cli as evidence_cli
    from hygeia.signals import cli as signals_cli
    from hygeia.toxicity import cli as toxicity_cli

    domain_clis = {
        "toxicity": toxicity_cli,
        "signals": signals_cli,
        "dermatology": dermatology_cli,
        "evidence": evidence_cli,
        "agents": agents_cli,
    }
    for domain, module in domain_clis.items():
        app.add_typer(module.app, name=domain, help=_first_line(module.__doc__))
        train = getattr(module, "train", None)
        if callable(train):
            train_app.command(name=domain, help=train.__doc__)(train)


_mount_domain_clis()

if __name__ == "__main__":
    app()
