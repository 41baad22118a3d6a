"""Retraining with consented outcome images (`hygeia train dermatology --with-outcomes`, or the
scheduled `dermatology.retrain` job): production's network fine-tuned on production's own lesion
split plus the tenants' consented outcome images, registered as a staging candidate whose card
compares it with production twice, both models scored by the same served-path code (ONNX Runtime, 8
views, each model's own temperature and decision rule):

1. on the same lesion-grouped held-out test split (production's split.csv);
2. on a held-out share of the outcome images (drawn per image hash, never trained on).

Nothing is promoted: a platform admin runs the candidate as a shadow or canary and promotes from the
release report. torch is imported only when training starts (the serving image has none).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from hygeia.core.errors import CapabilityUnavailable, InputError
from hygeia.core.jobs import JobContext, register_job_handler
from hygeia.core.retraining import (
    Retrainer,
    TrainingOutcome,
    held_out_group,
    nothing_to_train,
    outcome_ids_sha256,
    register_retrainer,
    run_staged,
    training_outcomes,
)
from hygeia.dermatology.dataset import CLASSES, LesionImage
from hygeia.dermatology.outcome_images import read_image, stored_images
from hygeia.dermatology.service import MODEL_NAME
from hygeia.settings import get_settings

RETRAIN_JOB = "dermatology.retrain"
DEFAULT_HOLDOUT = 0.3
DEFAULT_SEED = 20240605  # production's lesion-split seed
TINY_PER_CLASS = 5
GROUPING = "sha256 of the image (the same image is never on both sides)"
Log = Callable[[str], None]


@dataclass(frozen=True)
class RetrainRecipe:
    """`tiny`: 5 images a class per split, 2 epochs of batch 16 (a few steps), to check the pipeline on a CPU
    in minutes; not a model to ship. Otherwise 10 epochs from production's weights at a tenth of the
    from-ImageNet learning rate (a GPU job)."""

    tenants: tuple[str, ...]
    data_dir: Path
    holdout: float = DEFAULT_HOLDOUT
    seed: int = DEFAULT_SEED
    tiny: bool = False
    epochs: int = 10
    lr: float = 6e-5
    batch_size: int = 64
    max_minutes: float = 60.0

    def effective(self) -> RetrainRecipe:
        if not self.tiny:
            return self
        return RetrainRecipe(self.tenants, self.data_dir, self.holdout, self.seed, True, 2, 1e-4, 16, 10.0)

    @property
    def per_class(self) -> int | None:
        """Tiny: the first 5 images of each class in each split, so every class has a prior."""
        return TINY_PER_CLASS if self.tiny else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "data_dir": str(self.data_dir), "tenants": list(self.tenants)}


@dataclass
class OutcomeImage:
    outcome: TrainingOutcome
    data: bytes

    @property
    def sha256(self) -> str:
        return self.outcome.input_key


@dataclass
class OutcomeImages:
    training: list[OutcomeImage]
    held_out: list[OutcomeImage]
    provenance: dict[str, Any]


def _counts(images: Sequence[OutcomeImage]) -> dict[str, int]:
    return {c: n for c in CLASSES if (n := sum(i.outcome.observed == c for i in images))}


def split_outcome_images(outcomes: Sequence[TrainingOutcome], holdout: float, seed: int) -> OutcomeImages:
    """The tenants' newest diagnosis per image, with its consented image where one is stored, split
    into training and held-out sides by image hash."""
    sides: dict[bool, list[OutcomeImage]] = {True: [], False: []}
    unusable = {"without_consented_image": 0, "image_no_longer_stored": 0}
    for outcome in outcomes:
        data = read_image(outcome)
        if data is None:
            unusable["without_consented_image" if not outcome.input_text else "image_no_longer_stored"] += 1
            continue
        sides[held_out_group(outcome.input_key, holdout, seed)].append(OutcomeImage(outcome, data))
    provenance = {
        "outcomes": len(outcomes),
        "tenants": dict(sorted(Counter(o.tenant_id for o in outcomes).items())),
        "outcome_ids_sha256": outcome_ids_sha256(outcomes),
        "not_usable": unusable,
        "images": {"training": len(sides[False]), "held_out": len(sides[True])},
        "per_class": {"training": _counts(sides[False]), "held_out": _counts(sides[True])},
        "holdout": {"fraction": holdout, "seed": seed, "grouping": GROUPING},
    }
    return OutcomeImages(sides[False], sides[True], provenance)


def tenant_outcome_images(tenants: Sequence[str], holdout: float, seed: int) -> OutcomeImages:
    """Refuses, before any training, when no consented image can be trained on."""
    if not tenants:
        raise InputError("name the tenant(s) whose consented outcome images may train the candidate")
    images = split_outcome_images(training_outcomes(tenants, MODEL_NAME), holdout, seed)
    if not images.training:
        raise nothing_to_train(
            "consented outcome image", tenants, images.provenance, len(images.held_out), "images",
            "send diagnoses with their images to /api/v1/dermatology/outcomes/images "
            "with consent_for_training",
        )  # fmt: skip
    return images


def cannot_retrain(tenant_id: str) -> str | None:
    """For the scheduled check: why this tenant's outcomes cannot train a candidate, or None. Reads
    the store's listing, not the images."""
    outcomes = training_outcomes((tenant_id,), MODEL_NAME)
    stored = {key.rsplit("/", 1)[-1] for key in stored_images(tenant_id)}
    kept = [o for o in outcomes if o.input_text and o.input_text.rsplit("/", 1)[-1] in stored]
    trainable = [o for o in kept if not held_out_group(o.input_key, DEFAULT_HOLDOUT, DEFAULT_SEED)]
    if trainable:
        return None
    return (
        f"no consented outcome image to train on ({len(outcomes)} dermatology outcomes, {len(kept)} with a "
        f"stored image, all of them in the held-out share): send diagnoses with their images to "
        "/api/v1/dermatology/outcomes/images with consent_for_training"
    )


def as_training_rows(images: Sequence[OutcomeImage], folder: Path) -> list[LesionImage]:
    """Outcome images as training rows (files in a temporary folder the trainer reads them from)."""
    rows = []
    for image in images:
        path = folder / f"{image.sha256}.img"
        path.write_bytes(image.data)
        lesion = f"outcome-{image.outcome.tenant_id}-{image.outcome.id}"
        rows.append(
            LesionImage(lesion, image.outcome.observed, lesion, "histo", None, "unknown", "unknown", path)
        )
    return rows


def retrain(
    recipe: RetrainRecipe,
    *,
    out: Path | None = None,
    version: str | None = None,
    reasons: Sequence[str] = (),
    log: Log = print,
) -> dict[str, Any]:
    """Train, compare, register in staging; returns the candidate's card."""
    images = tenant_outcome_images(recipe.tenants, recipe.holdout, recipe.seed)
    try:
        from hygeia.dermatology.retrain_run import train_candidate
    except ImportError as exc:  # the serving image has no torch
        raise CapabilityUnavailable(
            MODEL_NAME, f"retraining needs the train extra (pip install 'hygeia[train]'): {exc}"
        ) from exc
    with tempfile.TemporaryDirectory(prefix="hygeia-derm-outcomes-") as folder:
        extra = as_training_rows(images.training, Path(folder))
        return train_candidate(
            recipe.effective(),
            images,
            extra,
            Path(folder),
            out=out,
            version=version,
            reasons=reasons,
            log=log,
        )


def headline(card: dict[str, Any]) -> str:
    """One line for the log, the job result and the CLI."""
    info = card["retraining"]
    parts = []
    for name, what in (("held_out_split", "same test lesions"), ("outcome_set", "held-out outcome images")):
        scored = info[name]
        pair = scored.get("balanced_accuracy")
        if pair:
            parts.append(
                f"{what} balanced accuracy production {pair['production']} vs candidate {pair['candidate']}"
            )
        else:
            parts.append(f"{what}: {next(iter(scored['candidate'].values()))['status']}")
    return "; ".join(parts)


def run_retrain_job(payload: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """The scheduled job: the tenant's own consented images, the full recipe unless told `tiny`."""
    recipe = RetrainRecipe(
        tenants=(ctx.tenant_id,), data_dir=get_settings().data_dir / "derm", tiny=bool(payload.get("tiny"))
    )
    return run_staged(payload, ctx, partial(retrain, recipe), headline)


def register() -> None:
    register_job_handler(RETRAIN_JOB, run_retrain_job, scheduled_only=True)
    register_retrainer(
        Retrainer(model_name=MODEL_NAME, capability=MODEL_NAME, job_kind=RETRAIN_JOB, unable=cannot_retrain)
    )
