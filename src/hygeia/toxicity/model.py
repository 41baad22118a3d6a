"""The shipped toxicity model: an ensemble of per-endpoint LightGBM text models, calibrators and the
applicability-domain fingerprints, loaded only after the registry has verified every file's sha256
and this code has proven it computes exactly the features the card says the model was trained on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import lightgbm as lgb
import numpy as np
from rdkit import Chem

from hygeia.core.registry import LoadedModel
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.applicability import ApplicabilityDomain
from hygeia.toxicity.booster_rows import RowPredictor, fast_rows
from hygeia.toxicity.calibration import Calibrator
from hygeia.toxicity.conformal import (
    SMOOTHED,
    MondrianConformal,
    card_category_edges,
    similarity_categories,
    smoothing_draws,
)
from hygeia.toxicity.featurize import (
    ConcatFeaturizer,
    FeatureSpecMismatch,
    Featurizer,
    MorganBitFeaturizer,
    MorganCountFeaturizer,
    RDKitDescriptorFeaturizer,
    featurize_many,
    featurizer_from_spec,
)
from hygeia.toxicity.graph_inputs import MoleculeGraphFeaturizer, MoleculeGraphs
from hygeia.toxicity.graph_member import GraphMember, open_graph_session
from hygeia.toxicity.network_member import NetworkMember, open_session, share_input_transform

CALIBRATION_FILE = "calibration.json"
FINGERPRINTS_FILE = "training_fingerprints.npy"
# (3, n, 12) float32: out-of-fold scores, labels, similarity (2.0-2.4: the first two)
CONFORMAL_FILE = "conformal_calibration.npy"


class ToxicityModelError(ValueError):
    """The artifact folder is readable but not a usable toxicity model (spec, files, endpoints)."""


@dataclass
class Member:
    name: str
    featurizer: Featurizer
    boosters: dict[str, lgb.Booster]
    _rows: list[RowPredictor] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        opened = [RowPredictor.open(self.boosters[e]) for e in ENDPOINTS if e in self.boosters]
        if len(opened) == len(ENDPOINTS) and all(opened):
            self._rows = cast(list[RowPredictor], opened)

    @property
    def parts(self) -> list[Featurizer]:
        return (
            list(self.featurizer.parts)
            if isinstance(self.featurizer, ConcatFeaturizer)
            else [self.featurizer]
        )

    def add_probabilities(self, x: np.ndarray, total: np.ndarray) -> None:
        """Adds each endpoint's probability to `total` (n, 12); a few rows take LightGBM's
        single-row path (`booster_rows`), larger batches one `predict` call per endpoint."""
        rows = fast_rows(x, self._rows[0].n_features) if self._rows else None
        if rows is not None and self._rows:
            for j, predictor in enumerate(self._rows):
                predictor.predict_into(rows, total[:, j])
            return
        for j, endpoint in enumerate(ENDPOINTS):
            total[:, j] += self.boosters[endpoint].predict(x, num_threads=1)


@dataclass
class Predictions:
    probabilities: np.ndarray  # (n, 12) calibrated, in ENDPOINTS order
    nearest_similarity: np.ndarray  # (n,) Tanimoto to the nearest training compound
    in_domain: np.ndarray  # (n,) bool
    prediction_sets: np.ndarray | None = None  # (n, 12, 2) bool: inactive / active in the conformal set
    cv_roc_auc: np.ndarray | None = None  # (n,) scaffold-CV ROC-AUC of the similarity band; NaN: none


class ToxicityModel:
    """Predicts calibrated probabilities for the 12 Tox21 endpoints from standardised molecules."""

    def __init__(
        self,
        card: dict[str, Any],
        members: list[Member],
        calibrators: dict[str, Calibrator],
        domain: ApplicabilityDomain,
        networks: Sequence[NetworkMember] = (),
        conformal: Sequence[MondrianConformal] = (),
        graphs: Sequence[GraphMember] = (),
    ) -> None:
        self.card, self.members, self.calibrators, self.domain = card, members, calibrators, domain
        self.networks, self.conformal, self.graphs = list(networks), list(conformal), list(graphs)
        blend = card.get("ensemble", {}).get("blend", {})
        self.network_weight = float(blend.get("network_weight", 0.0)) if self.networks else 0.0
        self.graph_weight = float(blend.get("graph_weight", 0.0)) if self.graphs else 0.0
        self.significance = float(card.get("conformal", {}).get("significance", 0.2))
        self.smoothed = card.get("conformal", {}).get("p_values") == SMOOTHED  # from 2.12.0 on
        self.category_edges = card_category_edges(card)
        self.name, self.version = str(card["name"]), str(card["version"])
        self.sha256 = str(card.get("sha256", ""))
        self.feature_parts = _unique_parts([*members, *self.networks, *self.graphs])
        # the domain's fingerprint is one more part, so batches compute it with the others
        self._domain_key = _part_key(domain.featurizer)
        self.feature_parts.setdefault(self._domain_key, domain.featurizer)
        self.registered: LoadedModel | None = None  # registry identity, for the audit trail and drift
        every: list[Member | NetworkMember | GraphMember] = [*members, *self.networks, *self.graphs]
        self._part_keys = {m.name: [_part_key(p) for p in m.parts] for m in every}
        # API requests and in-process jobs share one model; LightGBM is not reliably safe for concurrent
        # native calls from several threads, and the trees take ~0.3 ms per molecule, so they queue.
        # Predictions run on one OpenMP thread: with LightGBM's default team, one row took ~36 ms of
        # thread start-up and spinning on the loaded 2-core machine instead of 0.07 ms (same values).
        self.native_lock = threading.Lock()

    def reference(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256[:12]}

    def featurize(self, mols: Sequence[Chem.Mol]) -> dict[str, np.ndarray]:
        """Each distinct feature part computed once, shared by every member that uses it (large
        batches are featurised in worker processes by `parallel.prepare_and_featurize` instead)."""
        return {key: featurize_many(featurizer, mols) for key, featurizer in self.feature_parts.items()}

    def member_matrix(self, member: Member | NetworkMember, features: dict[str, np.ndarray]) -> np.ndarray:
        """A member's input columns, stacked from the shared parts in the member's order."""
        return np.hstack([features[key] for key in self._part_keys[member.name]])

    def raw_scores(self, features: dict[str, np.ndarray]) -> np.ndarray:
        """Uncalibrated ensemble score: the boosters' mean probability, blended with the networks'
        mean by the weight scaffold CV chose, then with the graph member's by its fixed weight
        (card: ensemble.blend)."""
        scores = self._trees_and_networks(features)
        if not self.graphs or self.graph_weight == 0.0:
            return scores
        graph = np.mean([self._graph_scores(g, features) for g in self.graphs], axis=0)
        return (1.0 - self.graph_weight) * scores + self.graph_weight * graph

    def _graph_scores(self, member: GraphMember, features: dict[str, np.ndarray]) -> np.ndarray:
        graph_key, descriptor_key = self._part_keys[member.name]
        return member.predict(cast(MoleculeGraphs, features[graph_key]), features[descriptor_key])

    def _trees_and_networks(self, features: dict[str, np.ndarray]) -> np.ndarray:
        total = np.zeros((len(features[self._domain_key]), len(ENDPOINTS)))
        for member in self.members:
            x = self.member_matrix(member, features)
            with self.native_lock:
                member.add_probabilities(x, total)
        trees = total / len(self.members)
        if not self.networks or self.network_weight == 0.0:
            return trees
        nets = np.mean([net.predict(self.member_matrix(net, features)) for net in self.networks], axis=0)
        return (1.0 - self.network_weight) * trees + self.network_weight * nets

    def calibrate(self, scores: np.ndarray) -> np.ndarray:
        calibrated = np.column_stack([self.calibrators[e](scores[:, j]) for j, e in enumerate(ENDPOINTS)])
        return np.clip(calibrated, 0.0, 1.0).reshape(scores.shape)

    def predict(self, mols: Sequence[Chem.Mol]) -> Predictions:
        return self.score(self.featurize(mols))

    def score(self, features: dict[str, np.ndarray]) -> Predictions:
        """Calibrated probabilities, domain and conformal sets from the parts `featurize` computes."""
        if not len(features[self._domain_key]):
            empty = np.zeros((0, len(ENDPOINTS)))
            return Predictions(empty, np.zeros(0), np.zeros(0, dtype=bool))
        scores = self.raw_scores(features)
        similarity = self.domain.index.nearest(features[self._domain_key])
        inside = self.domain.in_domain(similarity)
        sets = None
        if self.conformal:
            level, fingerprints = self.significance, features[self._domain_key]
            draws = smoothing_draws(fingerprints, len(ENDPOINTS)) if self.smoothed else None
            category = similarity_categories(similarity, self.category_edges)
            sets = np.stack(
                [
                    c.prediction_sets(scores[:, j], category, level, None if draws is None else draws[:, j])
                    for j, c in enumerate(self.conformal)
                ],
                axis=1,
            )
        band_auc = np.array([self.domain.band_roc_auc(s) for s in similarity.tolist()], dtype=float)
        return Predictions(self.calibrate(scores), similarity, inside, sets, band_auc)

    def explain_member(self) -> tuple[Member, MorganCountFeaturizer, int]:
        """The member whose Morgan-count columns map to atoms, and where those columns start."""
        wanted = self.card["ensemble"]["explain_member"]
        member = next(m for m in self.members if m.name == wanted)
        offset = 0
        for part in member.parts:
            if isinstance(part, MorganCountFeaturizer):
                return member, part, offset
            offset += part.spec.dimension
        raise ToxicityModelError(f"explain member {wanted!r} has no Morgan count features")

    @classmethod
    def from_folder(cls, folder: Path, card: dict[str, Any]) -> ToxicityModel:
        """Build from a folder whose card the registry already verified (see `loading.py`)."""
        _require_endpoints(card)
        members = [_load_member(folder, card, spec) for spec in card["ensemble"]["members"]]
        calibration = json.loads(_artifact(folder, card, CALIBRATION_FILE).read_text())
        calibrators = {e: Calibrator.from_dict(calibration[e]) for e in ENDPOINTS}
        domain_card = card["applicability_domain"]
        ad_featurizer = featurizer_from_spec(card["feature_spec"]["applicability_domain"])
        if not isinstance(ad_featurizer, MorganBitFeaturizer):
            raise ToxicityModelError("the applicability domain needs a morgan_bits fingerprint spec")
        packed = np.load(_artifact(folder, card, domain_card["fingerprints"]), allow_pickle=False)
        domain = ApplicabilityDomain.from_packed(packed, ad_featurizer, domain_card)
        networks = [_load_network(folder, card, spec) for spec in card["ensemble"].get("networks", [])]
        graphs = [_load_graph(folder, card, spec) for spec in card["ensemble"].get("graphs", [])]
        return cls(card, members, calibrators, domain, networks, _load_conformal(folder, card), graphs)


def _require_endpoints(card: dict[str, Any]) -> None:
    if tuple(card.get("endpoints", ())) != ENDPOINTS:
        raise ToxicityModelError(
            f"model card endpoints {card.get('endpoints')} differ from this code's {list(ENDPOINTS)}"
        )


def _artifact(folder: Path, card: dict[str, Any], relative: str) -> Path:
    if relative not in card.get("artifacts", {}):
        raise ToxicityModelError(f"{relative!r} is not a hashed artifact of this model card")
    return folder / relative


def _load_member(folder: Path, card: dict[str, Any], spec: dict[str, Any]) -> Member:
    name = spec["name"]
    stored = card["feature_spec"]["members"].get(name)
    if stored is None:
        raise FeatureSpecMismatch(f"model card has no feature spec for member {name!r}")
    featurizer = featurizer_from_spec(stored)
    boosters = {}
    for endpoint in ENDPOINTS:
        booster = lgb.Booster(model_file=str(_artifact(folder, card, spec["files"][endpoint])))
        if booster.num_feature() != featurizer.spec.dimension:
            raise FeatureSpecMismatch(
                f"{name}/{endpoint}: LightGBM model has {booster.num_feature()} features, "
                f"the feature spec has {featurizer.spec.dimension}"
            )
        boosters[endpoint] = booster
    return Member(name, featurizer, boosters)


def _load_network(folder: Path, card: dict[str, Any], spec: dict[str, Any]) -> NetworkMember:
    stored = card["feature_spec"]["networks"].get(spec["name"])
    if stored is None:
        raise FeatureSpecMismatch(f"model card has no feature spec for network {spec['name']!r}")
    featurizer = featurizer_from_spec(stored)
    paths = [_artifact(folder, card, f) for f in spec["files"]]
    width = featurizer.spec.dimension
    sessions = [open_session(path, width, len(ENDPOINTS)) for path in paths]
    shared = share_input_transform([path.read_bytes() for path in paths], sessions, width)
    # the split holds every seed's weights again: the whole graphs are dropped once it serves them
    return NetworkMember(spec["name"], featurizer, [] if shared else sessions, shared)


def _load_graph(folder: Path, card: dict[str, Any], spec: dict[str, Any]) -> GraphMember:
    stored = card["feature_spec"].get("graphs", {}).get(spec["name"])
    if stored is None:
        raise FeatureSpecMismatch(f"model card has no feature spec for graph member {spec['name']!r}")
    graph, descriptors = (featurizer_from_spec(part) for part in stored)
    if not isinstance(graph, MoleculeGraphFeaturizer) or not isinstance(
        descriptors, RDKitDescriptorFeaturizer
    ):
        raise ToxicityModelError(f"graph member {spec['name']!r} needs a molecule graph and rdkit_2d")
    quantiles = np.load(_artifact(folder, card, spec["descriptor_quantiles"]), allow_pickle=False)
    if quantiles.shape != (101, descriptors.spec.dimension):
        raise ToxicityModelError(f"graph member descriptor percentiles have shape {quantiles.shape}")
    width, tasks = descriptors.spec.dimension, len(ENDPOINTS)
    sessions = [open_graph_session(_artifact(folder, card, f), width, tasks) for f in spec["files"]]
    return GraphMember(spec["name"], graph, descriptors, quantiles, sessions)


def _load_conformal(folder: Path, card: dict[str, Any]) -> list[MondrianConformal]:
    """Models before 2.0 have no conformal calibration set: they simply give no prediction sets.
    2.0-2.4 store no similarities: their sets are class-conditional only."""
    if "conformal" not in card:
        return []
    stored = np.load(_artifact(folder, card, card["conformal"]["file"]), allow_pickle=False)
    if stored.shape[0] not in (2, 3) or stored.shape[2] != len(ENDPOINTS):
        raise ToxicityModelError(f"conformal calibration set has shape {stored.shape}")
    scores, labels = stored[0].astype(np.float64), stored[1].astype(np.float64)
    category, edges = None, card_category_edges(card)
    if stored.shape[0] == 3:  # the similarity plane, compared in float32 as in training
        category = similarity_categories(stored[2][:, 0], edges)
    count = len(edges) + 1
    return [MondrianConformal.fit(scores[:, j], labels[:, j], category, count) for j in range(len(ENDPOINTS))]


def _part_key(featurizer: Featurizer) -> str:
    return json.dumps(featurizer.spec.as_dict(), sort_keys=True)


def _unique_parts(members: Sequence[Member | NetworkMember | GraphMember]) -> dict[str, Featurizer]:
    parts: dict[str, Featurizer] = {}
    for member in members:
        for part in member.parts:
            parts.setdefault(_part_key(part), part)
    return parts
