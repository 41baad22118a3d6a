"""Read-across: the tested Tox21 compounds nearest to a query, with their measured outcomes.

A toxicologist weighs a prediction against the measured results of similar tested compounds (the
read-across of the OECD guidance), and needs to know when the query is itself a training compound:
its probabilities were then fitted on its own outcomes and are not an independent prediction. The
applicability domain already compares every query with every training compound; this module names
them.

The table of tested compounds (standardised parent SMILES, Tox21 IDs, the merged labels the model
trained on) is rebuilt from the training data file under `HYGEIA_DATA_DIR`, never shipped with the
model. It is used only when the file's sha256 equals the one in the model card and every compound's
ECFP4 equals the model's stored training fingerprint, so compound i of the table is training compound
i of the model. Standardising the file takes ~20 s: it runs once in a background thread, and the
table is then kept under `var/cache/` (JSON) for the next start.

A model trained under an older chemistry scope (`LARGEST_FRAGMENT_SCOPE`) learned a metal
complex as its ligand (ziram as dimethyldithiocarbamic acid, copper cyanide as hydrogen cyanide),
inorganics as such, and 8-hydroxyquinoline citrate as citric acid. Its table keeps those compounds in
place for the alignment, but what it reports as measured comes only from the rows that today's scope
standardises to that very compound: a compound with none is not reported as tested, and the others'
outcomes are merged again without the other rows (the build standardises the file twice, ~40 s).
"""

from __future__ import annotations

import json
import math
import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import structlog
from rdkit import Chem
from scipy import sparse

from hygeia.core.registry import file_sha256
from hygeia.settings import get_settings
from hygeia.toxicity import ENDPOINTS, ORGANIC_SCOPE
from hygeia.toxicity.applicability import ApplicabilityDomain, packed_fingerprints
from hygeia.toxicity.dataset import load_tox21, merge_labels, read_tox21, trained_scope
from hygeia.toxicity.molecules import prepare

if TYPE_CHECKING:
    from hygeia.toxicity.model import ToxicityModel

log = structlog.get_logger("hygeia.toxicity.read_across")
NEIGHBOURS = 3  # tested compounds shown per query: enough to see whether they agree
OUTCOMES = {1.0: "active", 0.0: "inactive"}
NOT_TESTED = "not tested"
TABLE_FORMAT = 2  # bump when the cached table's fields change
IDENTICAL, STEREO_OPEN = "identical", "stereo-unspecified"
STEREO_OPEN_NOTE = "the same constitution, stereochemistry left open in the query or in Tox21's record"


class ReadAcrossUnavailable(RuntimeError):
    """The training data file is missing or is not the one this model was trained on."""


@dataclass(frozen=True)
class TestedCompounds:
    """The model's training compounds in its own order, with what Tox21 measured for them."""

    smiles: list[str]  # standardised parent SMILES
    ids: list[list[str]]  # Tox21 IDs of the rows merged into each compound
    labels: np.ndarray  # (n, 12) float32: 1 active, 0 inactive, NaN not tested

    def __post_init__(self) -> None:
        reported = {smiles: i for i, smiles in enumerate(self.smiles) if self.ids[i]}
        object.__setattr__(self, "_row_of", reported)

    @cached_property
    def reported(self) -> np.ndarray:
        """Compounds with at least one Tox21 row inside the current chemistry scope."""
        return np.array([bool(ids) for ids in self.ids], dtype=bool)

    def row_of(self, smiles: str) -> int | None:
        return self._row_of.get(smiles)  # type: ignore[attr-defined]

    @cached_property
    def _rows_of_constitution(self) -> dict[str, list[int]]:
        rows: dict[str, list[int]] = {}
        for row in np.flatnonzero(self.reported):
            rows.setdefault(stereo_free(self.smiles[row]), []).append(int(row))
        return rows

    def row_of_constitution(self, smiles: str) -> int | None:
        """The one training compound with this constitution when the query or its record leaves the
        stereochemistry open (a racemate, an undefined record, a SMILES typed without it). Two
        compounds that both specify it differently (enantiomers, E/Z isomers) are other compounds."""
        rows = self._rows_of_constitution.get(stereo_free(smiles), [])
        if len(rows) != 1:
            return None
        return rows[0] if not _has_stereo(smiles) or not _has_stereo(self.smiles[rows[0]]) else None

    def measured(self, row: int) -> dict[str, str]:
        return measured_outcomes(self.labels[row])


def measured_outcomes(labels: np.ndarray) -> dict[str, str]:
    """One compound's merged labels (1, 0, NaN) as endpoint -> active / inactive / not tested."""
    return {e: OUTCOMES.get(float(v), NOT_TESTED) for e, v in zip(ENDPOINTS, labels, strict=True)}


def _has_stereo(smiles: str) -> bool:
    return any(mark in smiles for mark in "@/\\")


def stereo_free(smiles: str) -> str:
    mol = Chem.MolFromSmiles(smiles)
    return Chem.MolToSmiles(mol, isomericSmiles=False) if mol is not None else smiles


def build(data: Path, scope: str = ORGANIC_SCOPE) -> TestedCompounds:
    """Standardise and merge the Tox21 file exactly as the model's training did (`dataset.load_tox21`
    under the scope it was trained with); measured outcomes from the rows in today's scope only."""
    dataset = load_tox21(data, scope=scope)
    frame = read_tox21(data)
    rows, labels = dataset.source_rows, dataset.labels
    if scope != ORGANIC_SCOPE:
        pairs = zip(rows, dataset.smiles, strict=True)
        rows = [
            [r for r in group if _parent_today(frame["smiles"].iloc[r]) == parent] for group, parent in pairs
        ]
        labels = merge_labels(frame[list(ENDPOINTS)].to_numpy(dtype=np.float32), rows)[0]
    mol_ids = frame["mol_id"].astype(str).tolist()
    ids = [[mol_ids[row] for row in group] for group in rows]
    return TestedCompounds(list(dataset.smiles), ids, np.asarray(labels, dtype=np.float32))


def _parent_today(smiles: str) -> str | None:
    """The parent a Tox21 row has under today's chemistry scope (None: out of scope)."""
    return getattr(prepare(smiles), "smiles", None)


def check_alignment(table: TestedCompounds, domain: ApplicabilityDomain) -> None:
    """Refuse a table whose compounds are not the model's training compounds, in the model's order."""
    reference = domain.index.bits_by_column.shape[1]
    if len(table.smiles) != reference:
        raise ReadAcrossUnavailable(
            f"the data file gives {len(table.smiles)} compounds, the model was trained on {reference}"
        )
    mols = [Chem.MolFromSmiles(smiles) for smiles in table.smiles]
    if any(mol is None for mol in mols):
        raise ReadAcrossUnavailable("a standardised training compound no longer parses")
    bits = np.unpackbits(packed_fingerprints(mols, domain.featurizer), axis=1, count=domain.featurizer.size)
    fresh = sparse.csr_matrix(bits, dtype=np.int32)
    differing = int(((fresh != domain.index.bits_by_column.T.tocsr()).getnnz(axis=1) > 0).sum())
    if differing:
        raise ReadAcrossUnavailable(
            f"{differing} compounds of the data file standardise differently from the model's training "
            "compounds (changed data or standardisation code)"
        )


def _cache_path(data_sha256: str, scope: str) -> Path:
    return get_settings().var_dir / "cache" / f"tox21-tested-compounds-{scope}-{data_sha256[:16]}.json"


def _read_cached(path: Path, data_sha256: str) -> TestedCompounds | None:
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if stored.get("format") != TABLE_FORMAT or stored.get("data_sha256") != data_sha256:
        return None
    labels = np.array(stored["labels"], dtype=np.float32)  # JSON null -> NaN
    return TestedCompounds(stored["smiles"], stored["ids"], labels)


def _write_cached(path: Path, data_sha256: str, table: TestedCompounds) -> None:
    labels = [[None if math.isnan(v) else v for v in row] for row in table.labels.tolist()]
    body = {"format": TABLE_FORMAT, "data_sha256": data_sha256, "smiles": table.smiles, "ids": table.ids}
    body["labels"] = labels
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_text(json.dumps(body, separators=(",", ":")))
    partial.replace(path)  # atomic: a reader never sees half a table


def load_for(card: dict[str, Any], domain: ApplicabilityDomain) -> TestedCompounds:
    """The checked table for one model: from var/cache when it is there and still aligned, else built."""
    expected = str((card.get("training_data") or {}).get("sha256") or "")
    data = get_settings().data_dir / "tox21" / "tox21.csv"
    if not expected:
        raise ReadAcrossUnavailable("the model card does not name its training data")
    if not data.is_file():
        raise ReadAcrossUnavailable(f"the Tox21 training data {data} is not on this server")
    if file_sha256(data) != expected:
        raise ReadAcrossUnavailable(f"{data} is not the file this model was trained on (sha256 differs)")
    scope = trained_scope(card)
    cache = _cache_path(expected, scope)
    cached = _read_cached(cache, expected)
    if cached is not None:
        try:
            check_alignment(cached, domain)
            return cached
        except ReadAcrossUnavailable:
            pass  # built by other code: build again below
    table = build(data, scope)
    check_alignment(table, domain)
    try:
        _write_cached(cache, expected, table)
    except OSError as exc:  # only the next start pays for it
        log.warning("read_across_cache_not_written", path=str(cache), error=str(exc))
    return table


def measured_summary(neighbour: dict[str, Any], tested_as: str | None = IDENTICAL) -> str:
    """One line of what Tox21 measured for a compound, for answers and narratives to quote."""
    outcomes = list(neighbour["measured"].values())
    active = [e for e, outcome in neighbour["measured"].items() if outcome == "active"]
    form = f", {STEREO_OPEN_NOTE}" if tested_as == STEREO_OPEN else ""
    return (
        f"measured in Tox21 ({', '.join(neighbour['tox21_ids'])}{form}): active in "
        f"{', '.join(active) or 'none'} (inactive {outcomes.count('inactive')}, not tested "
        f"{outcomes.count(NOT_TESTED)})"
    )


@dataclass(frozen=True)
class Lookup:
    """What read-across can say about one query right now."""

    status: str  # ready, loading or unavailable
    reason: str | None = None
    in_training_set: bool | None = None
    neighbours: tuple[dict[str, Any], ...] = ()
    tested_as: str | None = None  # IDENTICAL or STEREO_OPEN, for a training compound


_lock = threading.Lock()
_tables: dict[str, Future[TestedCompounds]] = {}  # by model sha256


def _table(model_sha256: str, card: dict[str, Any], domain: ApplicabilityDomain) -> Future[TestedCompounds]:
    """The table's future, its build started on first use in a daemon thread (a server stopping during
    the build does not wait for it; the cache file is written atomically)."""
    with _lock:
        future = _tables.get(model_sha256)
        if future is None:
            future = _tables[model_sha256] = Future()
            build_thread = threading.Thread(
                target=_build_into, args=(future, card, domain), name="tox21-read-across", daemon=True
            )
            build_thread.start()
        return future


def _build_into(future: Future[TestedCompounds], card: dict[str, Any], domain: ApplicabilityDomain) -> None:
    try:
        future.set_result(load_for(card, domain))
    except Exception as exc:
        future.set_exception(exc)


def lookup(
    model: ToxicityModel, standardised_smiles: str, k: int = NEIGHBOURS, wait: float | None = 0.0
) -> Lookup:
    """The k most similar training compounds with their measured outcomes. Waits up to `wait` seconds
    (None: until built) for the table; the first call starts building it."""
    if not get_settings().toxicity_read_across:
        return Lookup("unavailable", "switched off on this server (HYGEIA_TOXICITY_READ_ACROSS=false)")
    domain = model.domain
    future = _table(model.sha256, model.card, domain)
    try:
        table = future.result(timeout=wait)
    except TimeoutError:
        return Lookup("loading", "the table of tested Tox21 compounds is being built (about 20 s, once)")
    except ReadAcrossUnavailable as exc:
        return Lookup("unavailable", str(exc))
    except Exception as exc:  # e.g. an unreadable cache folder: the prediction itself must not fail
        log.warning("read_across_build_failed", error=f"{type(exc).__name__}: {exc}")
        return Lookup(
            "unavailable", f"the table of tested compounds could not be built ({type(exc).__name__})"
        )
    mol = Chem.MolFromSmiles(standardised_smiles)
    if mol is None:
        return Lookup("unavailable", "the standardised molecule does not parse")
    similarity = domain.index.similarities(np.flatnonzero(domain.featurizer(mol)))
    own = table.row_of(standardised_smiles)
    tested_as = IDENTICAL if own is not None else None
    if own is None:
        own = table.row_of_constitution(standardised_smiles)
        tested_as = STEREO_OPEN if own is not None else None
    reported = np.flatnonzero(table.reported)  # a compound with no row in scope is never named
    candidates = (
        reported[np.argpartition(-similarity[reported], k)[: k + 1]] if len(reported) > k + 1 else reported
    )
    order = candidates[np.argsort(-similarity[candidates], kind="stable")]
    if own is not None:  # the compound itself leads, whatever other compounds tie with it
        order = np.concatenate([[own], order[order != own]])
    neighbours = tuple(
        {
            "tox21_ids": table.ids[row],
            "smiles": table.smiles[row],
            "similarity": round(float(similarity[row]), 4),
            "measured": table.measured(row),
        }
        for row in order[:k]
    )
    return Lookup("ready", None, own is not None, neighbours, tested_as)


def clear() -> None:
    """Forget the built tables (tests; a changed data directory)."""
    with _lock:
        _tables.clear()
