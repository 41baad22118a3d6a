"""Does this environment give the answers the model was validated with?

A card's CV metrics describe the answers computed by the libraries the model was trained with. RDKit
releases change descriptors and fingerprints: under RDKit 2024.09.6 instead of 2026.09.1, 2.13.0's ErG
fingerprint changes for 93 % of Tox21 and its probabilities move by more than 0.01 for 4,638 compounds,
the largest by 0.40, with no error anywhere (benchmarks/toxicity/README.md §36). So a model folder
records its own answers for a few dozen training compounds (the standardised SMILES, every feature part
and the 12 probabilities), and a model is served only where it reproduces them. Folders written before
the check existed fall back to the RDKit release their card names, the library whose changes were
measured.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import numpy as np
from packaging.version import InvalidVersion, Version

from hygeia.core.registry import SERVED_SETTINGS, ModelIntegrityError, verify_folder, write_card
from hygeia.toxicity.card_markdown import render_markdown
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.molecules import StandardisedMolecule, prepare
from hygeia.toxicity.parallel import featurize_prepared

CHECK_FILE = "environment_check.npz"
CARD_ENTRY = "environment_check"
REFERENCE_COMPOUNDS = 48
# Probabilities: another CPU's float rounding moves them by ~1e-7, a changed feature by 1e-2 and more.
PROBABILITY_TOLERANCE = 1e-4
FEATURE_RTOL, FEATURE_ATOL = 1e-6, 1e-9
RECORDED_LIBRARIES = ("rdkit", "lightgbm", "scikit-learn", "numpy", "onnxruntime")  # as cards list them


class EnvironmentMismatch(ModelIntegrityError):
    """The model would answer other than its card says: refused (503) like a modified file."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.title, self.type = "Model environment check failed", "urn:hygeia:model-environment"


@dataclass
class ReferenceAnswers:
    smiles: list[str]  # the inputs, as given
    standardised: list[str]  # "" where the input was refused
    probabilities: np.ndarray  # (n valid, 12)
    parts: dict[str, np.ndarray]  # feature part key -> (n valid, dimension); array parts only

    def arrays(self) -> dict[str, np.ndarray]:
        """For np.savez: text as fixed-width unicode, which np.load reads without pickle."""
        keys = list(self.parts)
        return {
            "smiles": np.array(self.smiles),
            "standardised": np.array(self.standardised),
            "probabilities": self.probabilities,
            "part_keys": np.array(keys),
            **{f"part_{i}": self.parts[key] for i, key in enumerate(keys)},
        }

    @classmethod
    def load(cls, path: Path) -> ReferenceAnswers:
        with np.load(path, allow_pickle=False) as stored:
            keys = [str(k) for k in stored["part_keys"]]
            return cls(
                [str(s) for s in stored["smiles"]],
                [str(s) for s in stored["standardised"]],
                stored["probabilities"],
                {key: stored[f"part_{i}"] for i, key in enumerate(keys)},
            )


def reference_smiles(candidates: Sequence[str], count: int = REFERENCE_COMPOUNDS) -> list[str]:
    """A fixed spread of compounds that standardise: ordered by a hash of their text, so the choice
    depends neither on the file's order nor on a random generator."""
    chosen: list[str] = []
    for smiles in sorted(set(candidates), key=lambda s: hashlib.sha256(s.encode()).hexdigest()):
        if isinstance(prepare(smiles), StandardisedMolecule):
            chosen.append(smiles)
            if len(chosen) == count:
                break
    return chosen


def answer(model: ToxicityModel, smiles: Sequence[str]) -> ReferenceAnswers:
    """The serving path (standardise, featurise, score) on `smiles`, keeping every stage's output."""
    prepared = [prepare(s) for s in smiles]
    standardised = [p.smiles if isinstance(p, StandardisedMolecule) else "" for p in prepared]
    features = featurize_prepared(model.feature_parts, prepared)
    parts = {key: np.asarray(v, dtype=np.float64) for key, v in features.items() if isinstance(v, np.ndarray)}
    return ReferenceAnswers(list(smiles), standardised, model.score(features).probabilities, parts)


def differences(recorded: ReferenceAnswers, now: ReferenceAnswers, tolerance: float) -> list[str]:
    """What this environment answers differently, stage by stage; empty when it reproduces them."""
    pairs = zip(recorded.standardised, now.standardised, strict=True)
    changed = [i for i, (then, here) in enumerate(pairs) if then != here]
    found = []
    if changed:
        example = recorded.smiles[changed[0]]
        found.append(
            f"{len(changed)} of {len(recorded.smiles)} reference compounds standardise differently "
            f"(e.g. {example!r})"
        )
        return found  # rows no longer line up: features and probabilities cannot be compared
    parts = [
        _part_name(key)
        for key, values in recorded.parts.items()
        if key not in now.parts
        or values.shape != now.parts[key].shape
        or not np.allclose(values, now.parts[key], rtol=FEATURE_RTOL, atol=FEATURE_ATOL, equal_nan=True)
    ]
    if parts:
        found.append(f"features differ in {', '.join(parts)}")
    shift = np.abs(recorded.probabilities - now.probabilities).max(axis=1, initial=0.0)
    if shift.max(initial=0.0) > tolerance:
        found.append(
            f"{int(np.sum(shift > tolerance))} of {len(recorded.smiles)} reference compounds' probabilities "
            f"differ, by up to {shift.max():.3g} (tolerance {tolerance:g})"
        )
    return found


def _part_name(key: str) -> str:
    spec = json.loads(key)
    params = ", ".join(f"{k}={v}" for k, v in spec.get("params", {}).items() if k != "names")
    return f"{spec['name']}({params})" if params else str(spec["name"])


def installed_versions() -> dict[str, str]:
    found = {}
    for name in RECORDED_LIBRARIES:
        try:
            found[name] = package_version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _same_release(a: str, b: str) -> bool:
    """2026.9.1 and RDKit's own 2026.09.1 are one release."""
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def library_drift(card: dict[str, Any]) -> list[str]:
    """Libraries installed at other versions than the card's training environment records."""
    recorded: dict[str, str] = card.get("environment") or {}
    installed = installed_versions()
    return [
        f"{name} {installed[name]} (trained with {recorded[name]})"
        for name in RECORDED_LIBRARIES
        if name in recorded and not _same_release(installed[name], recorded[name])
    ]


_verified: dict[str, str | None] = {}  # card sha256 and folder -> why refused (None: reproduced)
_verified_lock = threading.Lock()


def verify(model: ToxicityModel, folder: Path, card: dict[str, Any]) -> None:
    """Raise EnvironmentMismatch unless this environment reproduces the model's recorded answers.
    Libraries do not change under a running process, so each model version is checked once."""
    key = str(card.get("sha256") or folder)
    with _verified_lock:
        known = key in _verified
        refusal = _verified.get(key)
    if not known:
        refusal = _refusal(model, folder, card)
        with _verified_lock:
            _verified[key] = _verified[str(Path(folder).resolve())] = refusal
    if refusal is not None:
        raise EnvironmentMismatch(refusal)


def known_refusal(sha256_or_folder: str | Path) -> str | None:
    """Why a model already checked in this process was refused (by card sha256 or folder); None if it
    passed or was not checked yet. Cheap: for readiness and the console's banner."""
    key = str(Path(sha256_or_folder).resolve()) if isinstance(sha256_or_folder, Path) else sha256_or_folder
    with _verified_lock:
        return _verified.get(key)


def _refusal(model: ToxicityModel, folder: Path, card: dict[str, Any]) -> str | None:
    entry = card.get(CARD_ENTRY)
    label = f"{card.get('name')} {card.get('version')}"
    drift = library_drift(card)
    if entry is None:  # written before the check: the RDKit release is what is known to matter
        rdkit_drift = [d for d in drift if d.startswith("rdkit ")]
        if not rdkit_drift:
            return None
        return (
            f"{label} records no reference answers and this environment has {rdkit_drift[0]}; RDKit "
            f"releases change its features, so its answers would not be those its card measured. "
            f"Install rdkit=={card['environment']['rdkit']} or serve a version with an environment check"
        )
    recorded = ReferenceAnswers.load(folder / entry["file"])
    found = differences(recorded, answer(model, recorded.smiles), float(entry["tolerance"]))
    if not found:
        return None
    versions = "; ".join(drift) if drift else "library versions as recorded, so a different build or platform"
    return (
        f"{label} does not reproduce its recorded answers here: {'; '.join(found)}. This environment: "
        f"{versions}. Its card's metrics would not describe these answers, so it is not served; "
        f"install the versions its card lists under environment"
    )


def record(model: ToxicityModel, folder: Path, candidates: Sequence[str]) -> dict[str, Any]:
    """Write the reference answers into `folder` and return the card entry that names them."""
    recorded = answer(model, reference_smiles(candidates))
    np.savez_compressed(folder / CHECK_FILE, **recorded.arrays())  # type: ignore[arg-type]
    return {
        "file": CHECK_FILE,
        "compounds": len(recorded.smiles),
        "tolerance": PROBABILITY_TOLERANCE,
        "recorded_with": installed_versions(),
        "rule": "served only where the reference compounds standardise to the same SMILES, their features "
        f"agree to {FEATURE_RTOL:g} relative and their 12 probabilities within {PROBABILITY_TOLERANCE:g}; "
        "checked once per process, at load",
    }


def with_check(folder: Path, card: dict[str, Any], candidates: Sequence[str]) -> dict[str, Any]:
    """Record the check into an unpublished model folder and rewrite its card (and MODEL_CARD.md)."""
    model = ToxicityModel.from_folder(folder, card)
    entry = record(model, folder, candidates)
    settings = [*card.get(SERVED_SETTINGS, []), CARD_ENTRY]
    updated = {k: v for k, v in card.items() if k not in ("artifacts", "sha256")}
    written = write_card(folder, {**updated, CARD_ENTRY: entry, SERVED_SETTINGS: settings})
    (folder / "MODEL_CARD.md").write_text(render_markdown(written))
    return written


def add_check(source: Path, out: Path, version: str, candidates: Sequence[str]) -> dict[str, Any]:
    """A patch version of an already trained model: the same files plus its recorded answers, for
    versions trained before the check existed. Only in the environment the card records, or the
    recorded answers would not be the ones its metrics were measured on."""
    card = verify_folder(source)
    if card.get(CARD_ENTRY):
        raise ValueError(f"{source} already records its answers")
    drift = library_drift(card)
    if drift:
        raise ValueError(f"this environment differs from {source}'s training environment: {'; '.join(drift)}")
    if out.exists():
        raise FileExistsError(f"{out} exists")
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    derived = {"version": card["version"], "sha256": card["sha256"], "change": "added the environment check"}
    written = with_check(staging, {**card, "version": version, "derived_from": derived}, candidates)
    staging.rename(out)
    return written
