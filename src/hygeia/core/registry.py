"""Model registry: versioned artifact folders, sha256-verified on every load, promote and rollback.

An artifact folder holds `card.json` plus the files it lists under "artifacts" with their sha256.
The model's identity (`sha256`) is the hash of that manifest, so changing any file or the card's
list is detected. Formats that can execute code on load (pickle, joblib, torch .pt) are refused.

Some answers are set by the card itself, not by a file (blend weights, the domain threshold, the
conformal categories): a card that names them under "served_settings" (dotted paths) gets one more
manifest entry, the sha256 of their values, so editing one changes the identity like editing a file.
Cards written before this have no such entry and keep their identity.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachetools import TTLCache
from packaging.version import InvalidVersion, Version
from sqlalchemy import select

from hygeia.core.db import system_session, utcnow
from hygeia.core.errors import Conflict, NotFound, ProblemError
from hygeia.core.tables import ModelVersion
from hygeia.settings import get_settings

CARD_FILE = "card.json"
SERVED_SETTINGS = "served_settings"  # the card's list of dotted paths to the values that set its answers
SETTINGS_ENTRY = f"{CARD_FILE}#{SERVED_SETTINGS}"  # their manifest entry, hashed from the card, not a file
UNHASHED_SUFFIXES = {".md"}  # human-readable notes beside the card; never loaded as a model
FORBIDDEN_SUFFIXES = {".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".ckpt", ".sav", ".dill"}
PRODUCTION, STAGING, ARCHIVED = "production", "staging", "archived"
PRODUCTION_CACHE_SECONDS = 1.0  # the longest another process keeps serving a version after a promote
production_versions: TTLCache[str, tuple[str, str] | None] = TTLCache(  # name -> (version, sha256)
    maxsize=1024, ttl=PRODUCTION_CACHE_SECONDS
)
_production_lock = threading.Lock()


class ModelIntegrityError(ProblemError):
    def __init__(self, detail: str) -> None:
        super().__init__(503, "Model integrity check failed", detail, type_="urn:hygeia:model-integrity")


class ModelNotFound(NotFound):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, title="Model not found")


@dataclass(frozen=True)
class LoadedModel:
    name: str
    version: str
    sha256: str
    stage: str
    path: Path
    card: dict[str, Any]

    def file(self, relative: str) -> Path:
        if relative not in self.card.get("artifacts", {}):
            raise ModelIntegrityError(
                f"{relative!r} is not a verified artifact of {self.name} {self.version}"
            )
        return self.path / relative

    @property
    def short_sha(self) -> str:
        return self.sha256[:12]

    def reference(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "sha256": self.short_sha}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_hashed: dict[tuple[str, int, int, int, int], tuple[str, int]] = {}
_RACY_NS = 1_000_000_000


def _artifact_sha256(path: Path) -> str:
    """file_sha256, remembered per file state, so a model checked on every request (dermatology loads
    through the registry each time) is hashed once per process, not on every call.

    A write always moves the file's ctime to the present, which no tool can set back, so a file whose
    ctime is unchanged since we hashed it still has that content. As in git's "racily clean" rule, a
    file changed within a second of its hashing is hashed again each time until it is older.
    """
    stat = path.stat()
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    remembered = _hashed.get(key)
    if remembered is not None and stat.st_ctime_ns < remembered[1] - _RACY_NS:
        return remembered[0]
    hashed_at = time.time_ns()
    digest = file_sha256(path)
    _hashed[key] = (digest, hashed_at)
    return digest


def served_settings_sha256(card: dict[str, Any]) -> str:
    """sha256 of the card's served settings, path by path; a path the card lacks counts as null."""
    values = {path: _setting(card, path) for path in card.get(SERVED_SETTINGS, [])}
    hashed = {path: None if value is _ABSENT else value for path, value in values.items()}
    return hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()


_ABSENT = object()


def _setting(card: dict[str, Any], path: str) -> Any:
    value: Any = card
    for key in path.split("."):
        value = value.get(key, _ABSENT) if isinstance(value, dict) else _ABSENT
    return value


def manifest_sha256(artifacts: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(artifacts, sort_keys=True).encode()).hexdigest()


def _artifact_files(folder: Path) -> list[Path]:
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.name != CARD_FILE]
    return [p for p in files if p.suffix.lower() not in UNHASHED_SUFFIXES]


def _refuse_unsafe(paths: list[Path]) -> None:
    unsafe = [p.name for p in paths if p.suffix.lower() in FORBIDDEN_SUFFIXES]
    if unsafe:
        raise ModelIntegrityError(f"refusing formats that can execute code on load: {unsafe}")


def write_card(folder: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Write `card.json` with the sha256 of every artifact in `folder`; returns the card written."""
    folder = Path(folder)
    for key in ("name", "version"):
        if not card.get(key):
            raise ValueError(f"model card needs {key!r}")
    files = _artifact_files(folder)
    _refuse_unsafe(files)
    artifacts = {p.relative_to(folder).as_posix(): file_sha256(p) for p in files}
    if card.get(SERVED_SETTINGS):
        missing = [path for path in card[SERVED_SETTINGS] if _setting(card, path) is _ABSENT]
        if missing:
            raise ValueError(f"model card lacks its served settings {missing}")
        artifacts[SETTINGS_ENTRY] = served_settings_sha256(card)
    written = {**card, "artifacts": artifacts, "sha256": manifest_sha256(artifacts)}
    (folder / CARD_FILE).write_text(json.dumps(written, indent=2, sort_keys=False) + "\n")
    return written


def verify_folder(folder: Path) -> dict[str, Any]:
    """Read the card and check every listed file; raises ModelIntegrityError with what differs."""
    card_path = Path(folder) / CARD_FILE
    if not card_path.is_file():
        raise ModelIntegrityError(f"no {CARD_FILE} in {folder}")
    card = json.loads(card_path.read_text())
    artifacts: dict[str, str] = card.get("artifacts") or {}
    if not artifacts:
        raise ModelIntegrityError(f"{card_path} lists no artifacts")
    _refuse_unsafe([Path(rel) for rel in artifacts])
    settled = card.get(SERVED_SETTINGS) or SETTINGS_ENTRY in artifacts
    if settled and artifacts.get(SETTINGS_ENTRY) != served_settings_sha256(card):
        raise ModelIntegrityError(
            f"the served settings in the card of {card.get('name')} {card.get('version')} were edited "
            f"({', '.join(card.get(SERVED_SETTINGS, []))}); refusing to load it"
        )
    for relative, expected in artifacts.items():
        if relative == SETTINGS_ENTRY:
            continue
        target = (Path(folder) / relative).resolve()
        if Path(folder).resolve() not in target.parents:
            raise ModelIntegrityError(f"artifact path {relative!r} escapes the model folder")
        if not target.is_file():
            raise ModelIntegrityError(f"artifact {relative!r} is missing from {folder}")
        actual = _artifact_sha256(target)
        if actual != expected:
            raise ModelIntegrityError(
                f"artifact {relative!r} of {card.get('name')} {card.get('version')} has sha256 "
                f"{actual[:12]}…, expected {expected[:12]}…: the file was modified; refusing to load it"
            )
    if card.get("sha256") != manifest_sha256(artifacts):
        raise ModelIntegrityError(f"card {card_path} manifest hash does not match its artifact list")
    return card


class ModelRegistry:
    def register(self, folder: Path, *, copy: bool = False, stage: str = STAGING) -> ModelVersion:
        """Verify and record a folder. `copy` puts it under var/registry so it outlives its source."""
        card = verify_folder(folder)
        name, version = str(card["name"]), str(card["version"])
        if copy:
            target = get_settings().var_dir / "registry" / name / version
            if not target.exists():
                shutil.copytree(folder, target)
            folder = target
        with system_session() as session:
            existing = session.scalar(
                select(ModelVersion).where(ModelVersion.name == name, ModelVersion.version == version)
            )
            if existing is not None:
                if existing.sha256 != card["sha256"]:
                    raise Conflict(
                        f"{name} {version} is registered with different artifacts", title="Version exists"
                    )
                existing.path = str(Path(folder).resolve())
                return existing
            row = ModelVersion(
                name=name,
                version=version,
                stage=stage,
                sha256=card["sha256"],
                path=str(Path(folder).resolve()),
                card=card,
            )
            session.add(row)
        return row

    def versions(self, name: str | None = None) -> list[ModelVersion]:
        with system_session() as session:
            query = select(ModelVersion).order_by(ModelVersion.name, ModelVersion.created_at)
            if name:
                query = query.where(ModelVersion.name == name)
            return list(session.scalars(query))

    def _row(self, session: Any, name: str, version: str | None) -> ModelVersion:
        query = select(ModelVersion).where(ModelVersion.name == name)
        query = (
            query.where(ModelVersion.version == version)
            if version
            else query.where(ModelVersion.stage == PRODUCTION)
        )
        row = session.scalar(query)
        if row is None:
            wanted = f"version {version}" if version else "a production version"
            raise ModelNotFound(f"model {name!r} has no {wanted} registered")
        return row

    def current(self, name: str) -> tuple[str, str] | None:
        """(version, sha256) of the production model; remembered for a second, so cheap per request."""
        with _production_lock:
            if name in production_versions:
                return production_versions[name]
        with system_session() as session:
            row = session.execute(
                select(ModelVersion.version, ModelVersion.sha256).where(
                    ModelVersion.name == name, ModelVersion.stage == PRODUCTION
                )
            ).first()
        current = (row[0], row[1]) if row else None
        with _production_lock:
            production_versions[name] = current
        return current

    def load(self, name: str, version: str | None = None) -> LoadedModel:
        with system_session() as session:
            row = self._row(session, name, version)
            path, stage, sha = Path(row.path), row.stage, row.sha256
        card = verify_folder(path)
        if card["sha256"] != sha:
            raise ModelIntegrityError(
                f"{name} {card['version']}: artifacts differ from the registered version"
            )
        return LoadedModel(name, str(card["version"]), sha, stage, path, card)

    def promote(self, name: str, version: str) -> ModelVersion:
        try:
            return self._promote(name, version)
        finally:
            with _production_lock:
                production_versions.pop(name, None)  # this process serves the new version at once

    def _promote(self, name: str, version: str) -> ModelVersion:
        with system_session() as session:
            target = self._row(session, name, version)
            verify_folder(Path(target.path))
            for row in session.scalars(
                select(ModelVersion).where(ModelVersion.name == name, ModelVersion.stage == PRODUCTION)
            ):
                if row.id != target.id:
                    row.stage = ARCHIVED
            target.stage, target.promoted_at = PRODUCTION, utcnow()
            return target

    def rollback(self, name: str) -> ModelVersion:
        """Put back the version that was in production before the current one."""
        with system_session() as session:
            current = self._row(session, name, None)
            previous = session.scalar(
                select(ModelVersion)
                .where(
                    ModelVersion.name == name,
                    ModelVersion.stage == ARCHIVED,
                    ModelVersion.promoted_at.is_not(None),
                )
                .order_by(ModelVersion.promoted_at.desc())
            )
            if previous is None:
                raise Conflict(f"{name} has no earlier production version", title="Nothing to roll back to")
            version = previous.version
        self.promote(name, version)
        with system_session() as session:
            row = self._row(session, name, current.version)
            row.promoted_at = None  # a rolled-back version is not a rollback target itself
            return self._row(session, name, None)

    def register_bundled(self) -> list[ModelVersion]:
        """Register every folder under models/ and promote the newest version of names with none live."""
        registered = [
            self.register(card.parent) for card in sorted(get_settings().models_dir.glob(f"*/*/{CARD_FILE}"))
        ]
        for name in sorted({row.name for row in registered}):
            if self.current(name) is None:
                versions = [r for r in registered if r.name == name]
                newest = max(versions, key=lambda r: version_sort_key(r.version))
                self.promote(name, newest.version)
        return registered


def version_sort_key(version: str) -> tuple[int, Version | str]:
    """PEP 440 order (1.0.rc1 < 1.0.0 < 1.1.0 < 1.10.0); names that are not versions sort first, by text.

    The one ordering every domain uses to find its newest bundled model, so mixed versions such as
    ``1.0.0`` and ``1.0.rc1`` compare instead of raising ``TypeError``.
    """
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def newest_version_folder(root: Path) -> Path | None:
    """The newest `<root>/<version>/` that holds a card, for code that runs without a database."""
    folders = [card.parent for card in root.glob(f"*/{CARD_FILE}")]
    return max(folders, key=lambda folder: version_sort_key(folder.name)) if folders else None


def get_registry() -> ModelRegistry:
    return ModelRegistry()
