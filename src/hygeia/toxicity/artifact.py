"""Write a trained run as a model folder: LightGBM text models, ONNX networks, JSON calibrators,
packed-bit .npy fingerprints, the conformal calibration set (.npy), `card.json` (every file's
sha256, via the registry) and a human-readable MODEL_CARD.md.

The folder is assembled under a temporary name and renamed at the end, so an interrupted run never
leaves a half-written version that the registry could pick up.
"""

from __future__ import annotations

import json
import platform
import shutil
from collections.abc import Sequence
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.core.registry import SERVED_SETTINGS, write_card
from hygeia.toxicity import ENDPOINTS, MODEL_NAME
from hygeia.toxicity.conformal import DEFAULT_SIGNIFICANCE, SMOOTHED
from hygeia.toxicity.environment_check import installed_versions, with_check
from hygeia.toxicity.featurize import FEATURIZERS
from hygeia.toxicity.graph_inputs import GraphConfig, MoleculeGraphFeaturizer
from hygeia.toxicity.graph_training import GRAPH_NAME, GRAPH_SEEDS, GRAPH_SELECTION
from hygeia.toxicity.members import EXPLAIN_MEMBER, RECIPE_SELECTION
from hygeia.toxicity.model import CALIBRATION_FILE, CONFORMAL_FILE, FINGERPRINTS_FILE
from hygeia.toxicity.network_training import (
    NETWORK_CONFIGS,
    NETWORK_SEEDS,
    NETWORK_SELECTIONS,
    network_featurizer,
)
from hygeia.toxicity.training import AD_PART, TrainingRun, network_available

INTENDED_USE = (
    "Research and early-stage screening: rank and flag small organic molecules for the 12 Tox21 in-vitro "
    "assay endpoints (nuclear-receptor and stress-response pathways) so that testing effort goes first "
    "to likely actives. Probabilities are calibrated to Tox21 assay hit rates."
)
CONFORMAL_LIMITATION = (
    "Conformal prediction sets are calibrated per class and per side of the applicability domain and "
    "valid on scaffold CV in and out of the domain (see the card); within a side, the nearest chemistry "
    "errs less than ε and the most remote more, and chemistry unlike anything in Tox21 is not covered."
)
BANDED_CONFORMAL_LIMITATION = (
    "Conformal prediction sets are calibrated per class and per nearest-neighbour similarity band and "
    "valid on scaffold CV in each band (see the card); validity holds on average over compounds as far "
    "from the training set as the query, not for each molecule, and chemistry unlike anything in Tox21 "
    "is not covered."
)
# the card's values that set its answers (besides the files): hashed into the model's identity by the
# registry, so an edit to one is refused like an edited file (2.13.0 on)
SERVED_CARD_PATHS = [
    "endpoints",
    "feature_spec",
    "ensemble.members",
    "ensemble.networks",
    "ensemble.graphs",
    "ensemble.blend",
    "ensemble.explain_member",
    "calibration_file",
    "applicability_domain.fingerprints",
    "applicability_domain.threshold",
    "applicability_domain.bands",
    "applicability_domain.pooled_oof_roc_auc",
    "conformal.file",
    "conformal.significance",
    "conformal.p_values",
    "conformal.category_edges",
    "drift_reference",
]
LIMITATIONS = [
    "Predicts Tox21 qHTS assay outcomes, not in-vivo or human toxicity; an inactive call is not evidence "
    "of safety and must not replace experimental or regulatory assessment.",
    "Calibration reflects Tox21 base rates (2-16 % actives per endpoint); other libraries have other "
    "hit rates.",
    "Trained on ~7,500 mostly small, drug-like and industrial compounds; out-of-domain queries "
    "(in_domain = false) are ranked measurably worse in scaffold CV.",
    CONFORMAL_LIMITATION,
    "Organic molecules only: metals and organometallics are refused; for salts only the largest organic "
    "fragment is scored; stereochemistry is ignored by the fingerprints.",
    "Atom explanations come from one ensemble member's Morgan substructure features; descriptor effects "
    "are whole-molecule and reported separately.",
    "Not a medical device; decision support for qualified scientists only.",
]


def _environment() -> dict[str, str]:
    env = {"python": platform.python_version(), **installed_versions()}
    if network_available():  # no network member without torch; nothing to record then
        env["torch"] = package_version("torch")
    return env


def _write_onnx(folder: Path, name: str, seeds: Sequence[int], graphs: Sequence[bytes]) -> list[str]:
    """One `networks/<name>_seed<k>.onnx` per seed; the card lists them by these relative paths."""
    (folder / "networks").mkdir(parents=True, exist_ok=True)
    files = []
    for seed, graph in zip(seeds, graphs, strict=True):
        relative = f"networks/{name}_seed{seed}.onnx"
        (folder / relative).write_bytes(graph)
        files.append(relative)
    return files


def _save_networks(run: TrainingRun, folder: Path) -> list[dict[str, Any]]:
    """One entry per network kind; serving averages the kinds (each the mean of its seeds), as CV did."""
    return [
        {
            "name": name,
            "config": NETWORK_CONFIGS[name].as_dict(),
            "seeds": list(NETWORK_SEEDS),
            "files": _write_onnx(folder, name, NETWORK_SEEDS, graphs),
            "selection": dict(NETWORK_SELECTIONS[name]),
        }
        for name, graphs in run.networks_onnx.items()
    ]


def _save_graphs(run: TrainingRun, folder: Path) -> list[dict[str, Any]]:
    if not run.graphs_onnx or run.graph_quantiles is None:
        return []
    files = _write_onnx(folder, GRAPH_NAME, GRAPH_SEEDS, run.graphs_onnx)
    quantiles = f"networks/{GRAPH_NAME}_descriptor_percentiles.npy"
    np.save(folder / quantiles, run.graph_quantiles, allow_pickle=False)
    return [
        {
            "name": GRAPH_NAME,
            "architecture": "Chemprop D-MPNN, CDF-scaled rdkit_2d joined before the readout",
            "config": GraphConfig().as_dict(),
            "seeds": list(GRAPH_SEEDS),
            "files": files,
            "descriptor_quantiles": quantiles,
            "selection": dict(GRAPH_SELECTION),
        }
    ]


def _save_boosters(run: TrainingRun, folder: Path) -> list[dict[str, Any]]:
    members = []
    for config in run.members:
        files = {}
        for endpoint in ENDPOINTS:
            relative = f"members/{config.name}/{endpoint}.txt"
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            run.boosters[config.name][endpoint].save_model(str(folder / relative))
            files[endpoint] = relative
        members.append({**config.as_dict(), "files": files})
    return members


def _tox21_compounds(run: TrainingRun) -> int:
    """Tox21's own compounds come first; a tenant's outcome molecules are appended after them."""
    return len(run.dataset) - (run.outcome_rows or {}).get("new_compounds", 0)


def _training_data(run: TrainingRun, data_path: Path) -> dict[str, Any]:
    dataset = run.dataset
    rejected_by_code: dict[str, int] = {}
    for row in dataset.rejected:
        rejected_by_code[row.code] = rejected_by_code.get(row.code, 0) + 1
    tested = ~np.isnan(dataset.labels)
    added = run.outcome_rows or {}
    tox21_compounds = _tox21_compounds(run)
    return {
        "path": str(data_path),
        "sha256": dataset.sha256,
        "rows": dataset.input_rows,
        "compounds_after_dedup": tox21_compounds,
        "merged_duplicate_rows": dataset.input_rows - len(dataset.rejected) - tox21_compounds,
        "conflicting_endpoint_labels": dataset.conflicting_labels,
        "dedup_rule": "standardised parent SMILES; per endpoint majority of tested rows, ties -> active",
        "chemistry_scope": dataset.scope,
        "rejected_by_code": rejected_by_code,
        "rejected_rows": [
            {"row": r.row, "mol_id": r.mol_id, "code": r.code, "message": r.message[:200]}
            for r in dataset.rejected
        ],
        "per_endpoint": {
            e: {"tested": int(tested[:, j].sum()), "active": int(np.nansum(dataset.labels[:, j]))}
            for j, e in enumerate(ENDPOINTS)
        },
        **({"accepted_outcomes_added": added} if run.outcome_rows is not None else {}),
    }


def build_card(
    run: TrainingRun,
    version: str,
    data_path: Path,
    members: list[dict[str, Any]],
    networks: list[dict[str, Any]],
    graphs: list[dict[str, Any]],
) -> dict[str, Any]:
    specs = {m.name: m.featurizer().spec.as_dict() for m in run.members}
    network_specs = {n["name"]: network_featurizer().spec.as_dict() for n in networks}
    graph_parts = [MoleculeGraphFeaturizer().spec.as_dict(), FEATURIZERS["rdkit_2d"]().spec.as_dict()]
    combine = "mean of the boosters' probabilities"
    if networks:
        combine += f", blended {1 - run.network_weight:g}:{run.network_weight:g} with the networks' mean"
    if graphs:
        combine += f", then {1 - run.graph_weight:g}:{run.graph_weight:g} with the graph member's"
    return {
        "name": MODEL_NAME,
        "version": version,
        "task": "multi-label binary classification: 12 Tox21 assay endpoints",
        "endpoints": list(ENDPOINTS),
        "feature_spec": {
            "members": specs,
            "networks": network_specs,
            "graphs": {g["name"]: graph_parts for g in graphs},
            "applicability_domain": FEATURIZERS[AD_PART]().spec.as_dict(),
        },
        "ensemble": {
            "members": members,
            "networks": networks,
            "graphs": graphs,
            "blend": {
                "network_weight": run.network_weight if networks else 0.0,
                "graph_weight": run.graph_weight if graphs else 0.0,
            },
            "combine": combine + ", then per-endpoint rank-preserving calibration",
            "explain_member": EXPLAIN_MEMBER,
            "recipe_selection": dict(RECIPE_SELECTION),
        },
        "conformal": _conformal_entry(run),
        "calibration_file": CALIBRATION_FILE,
        "applicability_domain": {"fingerprints": FINGERPRINTS_FILE, **run.applicability},
        "metrics": {
            "evaluation": f"{run.n_folds}-fold balanced Bemis-Murcko scaffold CV, fold seed {run.seed}",
            "scaffold_cv": run.metrics,
            "calibration": run.calibration,
        },
        "drift_reference": run.drift_reference,
        "training_data": _training_data(run, data_path),
        "training_seconds": run.timings,
        "environment": _environment(),
        "intended_use": INTENDED_USE,
        "limitations": _limitations(run),
        SERVED_SETTINGS: SERVED_CARD_PATHS,
    }


def write_artifact(
    run: TrainingRun, out_dir: Path, version: str, data_path: Path, force: bool = False
) -> dict[str, Any]:
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise FileExistsError(f"{out_dir} already holds a model; pick another --version or pass --force")
    staging = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    members = _save_boosters(run, staging)
    networks = _save_networks(run, staging)
    graphs = _save_graphs(run, staging)
    np.save(staging / CONFORMAL_FILE, run.conformal_set, allow_pickle=False)
    calibration = {e: run.calibrators[e].as_dict() for e in ENDPOINTS}
    (staging / CALIBRATION_FILE).write_text(json.dumps(calibration, indent=1) + "\n")
    np.save(staging / FINGERPRINTS_FILE, run.packed_fingerprints, allow_pickle=False)
    card = write_card(staging, build_card(run, version, data_path, members, networks, graphs))
    # reference compounds from Tox21 only: a tenant's outcome structures are not written into the folder
    card = with_check(staging, card, run.dataset.smiles[: _tox21_compounds(run)])  # and MODEL_CARD.md
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
    return card


def _banded(run: TrainingRun) -> bool:
    """Categories by similarity band (2.13.0 on) rather than by domain side alone."""
    return len(run.conformal_edges) > 1


def _conformal_entry(run: TrainingRun) -> dict[str, Any]:
    if _banded(run):
        categories = (
            "nearest-neighbour similarity band (edges "
            + ", ".join(str(e) for e in run.conformal_edges)
            + "; the first is the domain threshold)"
        )
        where = "band"
    else:
        categories, where = "side of the applicability domain (in / out)", "side"
    return {
        "file": CONFORMAL_FILE,
        "significance": DEFAULT_SIGNIFICANCE,
        "method": f"Mondrian inductive conformal prediction per endpoint, one category per class and "
        f"{categories}; calibration set = scaffold-CV out-of-fold blended scores, each compound's {where} "
        "from its similarity to its own training folds; smoothed p-values, the draw hashed from each "
        "molecule's domain fingerprint",
        "taxonomy": "class x similarity band" if _banded(run) else "class x applicability domain",
        "category_edges": list(run.conformal_edges),
        "p_values": SMOOTHED,
        "validity_cross_fitted": run.conformal,
    }


def _limitations(run: TrainingRun) -> list[str]:
    if not _banded(run):
        return LIMITATIONS
    return [BANDED_CONFORMAL_LIMITATION if line == CONFORMAL_LIMITATION else line for line in LIMITATIONS]
