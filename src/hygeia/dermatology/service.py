"""Dermatology use cases, shared by the API, the CLI and agents (no FastAPI here, no torch).

Images are analysed in memory and never stored; the audit trail keeps only their sha256.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from hygeia.core.errors import CapabilityUnavailable
from hygeia.core.observability import count_decisions, observe_scores
from hygeia.core.registry import LoadedModel, ModelNotFound, get_registry, verify_folder
from hygeia.core.schemas import ModelReference
from hygeia.dermatology.card import NOT_A_DIAGNOSIS
from hygeia.dermatology.deadline import (
    DEFAULT_DEADLINE_S,
    AnalysisBusy,
    AnalysisTimeout,
    Deadline,
    analysis_slot,
)
from hygeia.dermatology.images import DecodedImage, ImageRejected, decode_image
from hygeia.dermatology.inference import LesionClassifier, LesionPrediction, OutOfDistribution
from hygeia.dermatology.quality import ImageRefused, check_quality
from hygeia.dermatology.risk import advise
from hygeia.dermatology.schemas import LesionResult, Rejection, Risk, Uncertainty

__all__ = ["NOT_A_DIAGNOSIS"]

MODEL_NAME = "dermatology"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
MAX_BATCH = 32
CHUNK = 8  # files read per step of a CLI run; images go through the network one at a time
DEADLINE_S = DEFAULT_DEADLINE_S  # per image; read at call time so operators and tests can lower it
TRAIN_HINT = "no trained dermatology model is available: run `hygeia dermatology train` (see MODEL_CARD.md)"


@dataclass(frozen=True)
class ReadyClassifier:
    """A verified model folder and its loaded graph."""

    name: str
    version: str
    sha256: str
    folder: Path
    card: dict[str, Any]
    classifier: LesionClassifier
    registered: LoadedModel | None = None  # set when loaded through the registry (for the audit trail)

    def reference(self) -> ModelReference:
        return ModelReference(name=self.name, version=self.version, sha256=self.sha256[:12])


@lru_cache(maxsize=4)
def _load(folder: str, sha256: str) -> LesionClassifier:
    """One ONNX session per verified (folder, manifest hash); a changed file gets a new hash."""
    return LesionClassifier(Path(folder))


def classifier_from_folder(folder: Path) -> ReadyClassifier:
    """Load a model folder after checking every artifact's sha256 against its card."""
    if not (Path(folder) / "card.json").is_file():
        raise CapabilityUnavailable(MODEL_NAME, f"{folder} has no card.json. {TRAIN_HINT}")
    card = verify_folder(folder)
    classifier = _load(str(Path(folder).resolve()), card["sha256"])
    return ReadyClassifier(MODEL_NAME, str(card["version"]), card["sha256"], Path(folder), card, classifier)


def classifier_from_registry(version: str | None = None) -> ReadyClassifier:
    """The production version in the model registry, or a named one (hash-verified on load)."""
    try:
        model = get_registry().load(MODEL_NAME, version)
    except ModelNotFound as exc:
        raise CapabilityUnavailable(MODEL_NAME, f"{exc.detail}. {TRAIN_HINT}") from exc
    classifier = _load(str(model.path.resolve()), model.sha256)
    return ReadyClassifier(model.name, model.version, model.sha256, model.path, model.card, classifier, model)


def newest_bundled_folder(models_dir: Path | None = None) -> Path:
    """Newest `models/dermatology/<version>/` that has a card (PEP 440 order), for use without a database."""
    from hygeia.core.registry import newest_version_folder
    from hygeia.settings import get_settings

    root = (models_dir or get_settings().models_dir) / MODEL_NAME
    newest = newest_version_folder(root)
    if newest is None:
        raise CapabilityUnavailable(MODEL_NAME, f"no model folder under {root}. {TRAIN_HINT}")
    return newest


def unavailable_reason() -> str | None:
    """Capability check for /ready and the console: None when a model can be served."""
    try:
        classifier_from_registry()
    except CapabilityUnavailable as exc:
        return exc.detail
    return None


def _result(name: str, prediction: LesionPrediction, ready: ReadyClassifier) -> LesionResult:
    rule = ready.classifier.rule
    png = prediction.heatmap_png
    return LesionResult(
        image=name,
        prediction=prediction.prediction,
        probabilities=prediction.probabilities,
        uncertain=prediction.uncertain,
        uncertainty=Uncertainty(
            entropy=prediction.entropy,
            tta_spread=prediction.tta_spread,
            entropy_threshold=rule.entropy_threshold,
            spread_threshold=rule.spread_threshold,
        ),
        risk=Risk(**vars(advise(prediction.prediction, prediction.uncertain))),
        ood_distance=prediction.ood_distance,
        heatmap_png_base64=base64.b64encode(png).decode() if png else None,
    )


def rejected(name: str, check: str, reason: str, distance: float | None = None) -> LesionResult:
    return LesionResult(
        image=name, status="rejected", rejection=Rejection(check=check, reason=reason, ood_distance=distance)
    )


def _analyse_one(
    ready: ReadyClassifier, name: str, data: bytes, heatmaps: bool, seconds: float
) -> LesionResult:
    """Decode, quality gate, network (with the feature gate), in that order: each step refuses early.
    The whole of it holds one analysis slot and runs against one deadline."""
    deadline = Deadline(seconds)
    with analysis_slot(deadline):
        return _gate_and_classify(ready, name, data, heatmaps, deadline)


def _gate_and_classify(
    ready: ReadyClassifier, name: str, data: bytes, heatmaps: bool, deadline: Deadline
) -> LesionResult:
    try:
        image: DecodedImage = decode_image(data)
    except ImageRejected as exc:
        return LesionResult(image=name, status="error", error=str(exc))
    deadline.check("decoding")
    limits = ready.classifier.quality_limits
    if limits is not None:
        try:
            check_quality(image.rgb, limits)
        except ImageRefused as exc:
            return rejected(name, exc.check, exc.reason)
    [outcome] = ready.classifier.predict([image], heatmaps=heatmaps, deadline=deadline)
    if isinstance(outcome, OutOfDistribution):
        return rejected(name, "out_of_distribution", outcome.reason, outcome.ood_distance)
    return _result(name, outcome, ready)


def analyse(
    ready: ReadyClassifier,
    uploads: Sequence[tuple[str, bytes]],
    heatmaps: bool = True,
    seconds_per_image: float | None = None,
) -> list[LesionResult]:
    """One result per upload, in order. Images are decoded and classified one at a time, so a batch
    holds one decoded image in memory however many files it has; in a batch, an image past its
    deadline becomes an error row and the others are still answered."""
    seconds = seconds_per_image or DEADLINE_S
    results = []
    for name, data in uploads:
        try:
            results.append(_analyse_one(ready, name, data, heatmaps, seconds))
        except (AnalysisTimeout, AnalysisBusy) as exc:
            if len(uploads) == 1:
                raise  # a single upload answers with the problem itself (504/503)
            results.append(LesionResult(image=name, status="error", error=exc.detail))
    _observe(ready, results)
    return results


def _observe(ready: ReadyClassifier, results: Sequence[LesionResult]) -> None:
    """Class probabilities and accepted/rejected counts for the dermatology dashboard."""
    classified = [r.probabilities for r in results if r.status == "ok" and r.probabilities]
    classes = classified[0].keys() if classified else ()
    observe_scores(ready.name, ready.version, {c: [p[c] for p in classified] for c in classes})
    count_decisions("dermatology", ("accepted" if r.status == "ok" else r.status for r in results))


def audit_fingerprint(uploads: Iterable[tuple[str, bytes]]) -> bytes:
    """What the audit trail keeps of a request: the images' hashes, never the images."""
    return b"".join(hashlib.sha256(data).digest() for _, data in uploads)


@dataclass
class ImagePaths:
    images: list[Path]  # what gets a row: named files, and the folders' .jpg/.jpeg/.png files
    skipped: list[Path]  # other files inside the folders, named to the user rather than passed over


def collect_image_paths(paths: Iterable[Path]) -> ImagePaths:
    """Files as given (any suffix, so a mislabelled file gets an error row) and images inside folders."""
    found = ImagePaths([], [])
    for path in paths:
        if not path.is_dir():
            found.images.append(path)
            continue
        for inside in sorted(p for p in path.rglob("*") if p.is_file()):
            (found.images if inside.suffix.lower() in IMAGE_SUFFIXES else found.skipped).append(inside)
    named = set(found.images)
    found.skipped = [p for p in found.skipped if p not in named]  # also named on its own: it has a row
    return found


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageRejected(f"cannot read file: {exc.strerror or exc}") from exc


def predict_paths(
    ready: ReadyClassifier, files: Sequence[Path], heatmap_dir: Path | None = None
) -> list[dict]:
    """CSV rows (image, prediction, 7 probabilities, uncertain, error) for local files."""
    rows: list[dict] = []
    for start in range(0, len(files), CHUNK):
        uploads, errors = [], {}
        for path in files[start : start + CHUNK]:
            try:
                uploads.append((str(path), _read(path)))
            except ImageRejected as exc:
                errors[str(path)] = str(exc)
        results = {r.image: r for r in analyse(ready, uploads, heatmaps=heatmap_dir is not None)}
        for path in files[start : start + CHUNK]:
            result = results.get(str(path)) or LesionResult(
                image=str(path), status="error", error=errors[str(path)]
            )
            rows.append(_csv_row(result, ready.classifier.classes))
            if heatmap_dir is not None and result.heatmap_png_base64:
                target = heatmap_dir / f"{path.stem}_gradcam.png"
                target.write_bytes(base64.b64decode(result.heatmap_png_base64))
    return rows


def _csv_row(result: LesionResult, classes: Sequence[str]) -> dict[str, Any]:
    probabilities = result.probabilities or {}
    row: dict[str, Any] = {
        "image": result.image,
        "status": result.status,
        "prediction": result.prediction or "",
    }
    row.update({c: f"{probabilities[c]:.6f}" if c in probabilities else "" for c in classes})
    row["uncertain"] = "" if result.uncertain is None else str(result.uncertain).lower()
    row["risk_group"] = result.risk.group if result.risk else ""
    row["action"] = result.risk.action if result.risk else ""
    row["rejection"] = result.rejection.reason if result.rejection else ""
    row["error"] = result.error or ""
    return row


def model_card(ready: ReadyClassifier) -> tuple[dict[str, Any], str | None]:
    markdown = ready.folder / "MODEL_CARD.md"
    return ready.card, markdown.read_text() if markdown.is_file() else None


def predict_tool(image_base64: str, name: str = "image") -> dict[str, Any]:
    """Agent tool: classify one base64-encoded JPEG/PNG with the production model."""
    ready = classifier_from_registry()
    try:
        data = base64.b64decode(image_base64, validate=True)
    except ValueError:
        return {"error": "image_base64 is not valid base64", "notice": NOT_A_DIAGNOSIS}
    result = analyse(ready, [(name, data)], heatmaps=False)[0]
    return {"model": ready.reference().model_dump(), "result": result.model_dump(), "notice": NOT_A_DIAGNOSIS}


def register() -> None:
    """The capability check, the agents' tool and the lifecycle's outcome kind and shadow scorer,
    registered once by the composition root (hygeia.app)."""
    from hygeia.core.tools import register_capability, register_tool
    from hygeia.dermatology import lifecycle

    register_capability(MODEL_NAME, unavailable_reason)
    lifecycle.register()
    from hygeia.dermatology import agent_tools  # imports this module, so not at the top

    agent_tools.register()  # dermatology.prediction: the caller's own earlier triage by its id
    register_tool(
        "dermatology.predict",
        "Triage a dermatoscopic lesion image into 7 classes with calibrated probabilities and an "
        "'uncertain - refer' flag (research use, not a diagnosis).",
        predict_tool,
        input_schema={
            "type": "object",
            "properties": {"image_base64": {"type": "string"}, "name": {"type": "string"}},
            "required": ["image_base64"],
        },
    )
