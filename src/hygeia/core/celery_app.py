"""Celery application for `hygeia worker`: Redis (or another broker) carries job ids, the database the rest.

acks_late + reject_on_worker_lost: a worker killed mid-job leaves the message unacknowledged, so the
broker redelivers it and another worker runs the job again (execute_job stores the result once).
"""

from __future__ import annotations

from celery import Celery

from hygeia.core.jobs import execute_job
from hygeia.settings import get_settings

JOB_QUEUE = "hygeia"
CHUNK_QUEUE = "hygeia-chunks"  # chunks of larger jobs (screens); every worker consumes both queues
celery = Celery("hygeia")
celery.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue=JOB_QUEUE,
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
)


def configure_broker() -> Celery:
    """Read the broker from settings at use time, so the process environment decides, not import order."""
    broker = get_settings().celery_broker
    if not broker:
        raise RuntimeError("Celery needs HYGEIA_REDIS_URL or HYGEIA_BROKER_URL")
    if celery.conf.broker_url != broker:
        celery.conf.broker_url = broker
        celery.conf.broker_transport_options = redelivery_options(get_settings().celery_visibility_timeout)
    return celery


def redelivery_options(visibility_timeout: int) -> dict[str, int]:
    """Kombu's Redis transport sweeps for abandoned (unacknowledged, timed-out) messages only every
    interval x throttle seconds, 100 s by default; sweep at a third of the visibility timeout (at most
    once a minute) so a job lost with its worker comes back soon after the timeout, not minutes later."""
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": max(1, min(60, visibility_timeout // 3)),
        "unacked_restore_throttle": 1,
    }


PURGE_TASK = "hygeia.retention_purge"
RETRAIN_CHECK_TASK = "hygeia.retrain_check"
RETRAIN_CHECK_SECONDS = 6 * 3600.0  # drift and live metrics move over days; a check costs seconds
celery.conf.beat_schedule = {
    "retention-purge-daily": {"task": PURGE_TASK, "schedule": 24 * 3600.0},
    "retrain-check": {"task": RETRAIN_CHECK_TASK, "schedule": RETRAIN_CHECK_SECONDS},
}


@celery.task(name=PURGE_TASK)
def retention_purge() -> dict[str, dict[str, int]]:
    from hygeia.core.retention import purge_expired

    return purge_expired()


@celery.task(name=RETRAIN_CHECK_TASK)
def retrain_check() -> list[dict[str, object]]:
    """Drift and live performance against the thresholds; submits retraining jobs, never promotes."""
    from dataclasses import asdict

    from hygeia.core.retraining import check

    return [asdict(decision) for decision in check()]


def run_beat(loglevel: str = "INFO") -> None:
    """The one scheduler process (run exactly one): it enqueues the daily retention purge and the
    retraining check."""
    configure_broker().start(["beat", f"--loglevel={loglevel}"])


@celery.task(name="hygeia.run_job")
def run_job(job_id: str) -> str:
    return execute_job(job_id)


def run_worker(concurrency: int = 2, loglevel: str = "INFO") -> None:
    """Run the worker; the caller wired domains and plugins (`hygeia.app.wire_domains`) first."""
    configure_broker().worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel}",
            "-Q",
            f"{JOB_QUEUE},{CHUNK_QUEUE}",
        ]
    )
