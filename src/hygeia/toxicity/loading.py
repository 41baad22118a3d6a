"""Where the toxicity model comes from: the registry's production version, else the bundled folder.

The registry is the source of truth once `hygeia bootstrap` has run. Before that (a fresh checkout,
a CLI run without a database) the newest bundled `models/toxicity/<version>/` is loaded instead,
with the same sha256 verification, so the CLI works offline without weakening integrity checks.
A loaded model is reused until the registry's production version or hash changes.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from hygeia.core.errors import CapabilityUnavailable
from hygeia.core.registry import (
    LoadedModel,
    ModelIntegrityError,
    ModelNotFound,
    get_registry,
    newest_version_folder,
    verify_folder,
)
from hygeia.settings import get_settings
from hygeia.toxicity import MODEL_NAME, environment_check
from hygeia.toxicity.featurize import FeatureSpecMismatch
from hygeia.toxicity.model import ToxicityModel, ToxicityModelError

_lock = threading.Lock()
_loaded: dict[tuple[str, str], ToxicityModel] = {}
_named: dict[str, ToxicityModel] = {}  # registered versions asked for by name: canary, shadow candidates
MAX_NAMED = 2
BUNDLED = "bundled"  # stage label for a folder loaded without the registry
TRAIN_HINT = "no trained toxicity model is registered or bundled: run `hygeia toxicity train`"


def _build(folder: Path, card: dict[str, Any], stage: str) -> ToxicityModel:
    """Feature-spec, endpoint and environment checks on an already hash-verified folder; refusals are
    integrity errors (503 with the reason)."""
    if card.get("name") != MODEL_NAME:
        raise ModelIntegrityError(f"{folder} holds model {card.get('name')!r}, not {MODEL_NAME!r}")
    try:
        model = ToxicityModel.from_folder(Path(folder), card)
    except (FeatureSpecMismatch, ToxicityModelError) as exc:
        raise ModelIntegrityError(f"{MODEL_NAME} {card.get('version')}: {exc}") from exc
    environment_check.verify(model, Path(folder), card)  # EnvironmentMismatch: another answer than its card's
    model.registered = LoadedModel(
        MODEL_NAME, str(card["version"]), str(card["sha256"]), stage, Path(folder), card
    )
    return model


def load_folder(folder: Path) -> ToxicityModel:
    """Verify every artifact hash, then the feature spec; both failures refuse the model."""
    return _build(Path(folder), verify_folder(folder), BUNDLED)


def bundled_folder(models_dir: Path | None = None) -> Path | None:
    """Newest `models/toxicity/<version>/` that has a card, in the registry's PEP 440 order."""
    return newest_version_folder(Path(models_dir or get_settings().models_dir) / MODEL_NAME)


def _registry_current() -> tuple[str, str] | None:
    try:
        return get_registry().current(MODEL_NAME)
    except SQLAlchemyError:  # no database yet (CLI before bootstrap): use the bundled folder
        return None


def get_model() -> ToxicityModel:
    """The production model (cached per version + hash); CapabilityUnavailable if there is none."""
    current = _registry_current()
    if current is not None:
        with _lock:
            if current in _loaded:
                return _loaded[current]
        try:
            loaded = get_registry().load(MODEL_NAME)
        except ModelNotFound:
            current = None
        else:
            model = _build(loaded.path, loaded.card, loaded.stage)  # registry.load verified the hashes
            with _lock:
                _loaded.clear()
                _loaded[current] = model
            return model
    return _bundled_model()


def get_version(version: str) -> ToxicityModel:
    """A registered version by name (a canary or shadow candidate), hash-verified on first load and then
    kept: the registry refuses to register a version again with other files, so it cannot change."""
    with _lock:
        if version in _named:
            return _named[version]
    loaded = get_registry().load(MODEL_NAME, version)  # ModelNotFound: a 404 problem
    model = _build(loaded.path, loaded.card, loaded.stage)
    with _lock:
        while len(_named) >= MAX_NAMED:
            _named.pop(next(iter(_named)))
        _named[version] = model
    return model


def loaded_model() -> ToxicityModel | None:
    """The production model if it is already in memory, else None: never loads (cheap enough for the
    event loop; `get_model` does the loading, in a worker thread)."""
    current = _registry_current()
    with _lock:
        if current is not None:
            return _loaded.get(current)
        return next((m for key, m in _loaded.items() if key[0] == "bundled"), None)


def _missing() -> str:
    """Why no model, naming where bundled folders were looked for: relative settings make a CLI run
    from another folder look in that folder's `models/`."""
    models = get_settings().models_dir
    return f"{TRAIN_HINT}, or set HYGEIA_MODELS_DIR to the folder holding toxicity/ (now: {models})"


def _bundled_model() -> ToxicityModel:
    folder = bundled_folder()
    if folder is None:
        raise CapabilityUnavailable(MODEL_NAME, _missing())
    key = ("bundled", str(folder.resolve()))
    with _lock:
        if key in _loaded:
            return _loaded[key]
    model = load_folder(folder)
    with _lock:
        _loaded[key] = model
    return model


def unavailable_reason() -> str | None:
    """For /ready and the console: None when a model can be found and was not refused by the environment
    check, else why not (no loading)."""
    current = _registry_current()
    if current is not None:
        return environment_check.known_refusal(current[1])
    folder = bundled_folder()
    return _missing() if folder is None else environment_check.known_refusal(folder)


def clear_cache() -> None:
    with _lock:
        _loaded.clear()
        _named.clear()
