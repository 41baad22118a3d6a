"""The loaded evidence capability (index + encoder + prior weights) and search over it.

The capability needs two things: the registered `evidence` model (ONNX encoder + prior weights,
hash-verified) and the index built from the data by `hygeia evidence build`. Missing either, every
call raises CapabilityUnavailable (503) saying which and how to fix it; nothing is faked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from hygeia.core.cache import cache_key, get_cache
from hygeia.core.errors import CapabilityUnavailable, InputError, NotFound
from hygeia.core.registry import ModelNotFound, file_sha256, get_registry
from hygeia.core.schemas import ModelReference
from hygeia.evidence import shared_index
from hygeia.evidence.encoder import TextEncoder
from hygeia.evidence.features import document_features, is_do_disease
from hygeia.evidence.graph_scoring import GraphScorer, has_graph_model, load_scorer
from hygeia.evidence.linking import Link, normalize
from hygeia.evidence.repurposing import pair_features
from hygeia.evidence.retrieval import Hit, Retriever
from hygeia.evidence.schemas import (
    IndexInfo,
    LinkedEntity,
    SearchHit,
    SearchRequest,
    SearchResponse,
)
from hygeia.evidence.store import MANIFEST_FILE, EvidenceIndex, open_index
from hygeia.settings import get_settings

MODEL_NAME = "evidence"
GRAPH_CAPABILITY = "evidence.graph"
RANKING_FILE = "ranking.json"
TRAIN_HINT = (
    "no evidence model is registered: run `hygeia evidence train` (exports the encoder), "
    "then `hygeia bootstrap`"
)
BUILD_HINT = (
    "the evidence index is not built: run `hygeia evidence build` (reads DATA_DIR/evidence), "
    "or POST /api/v1/evidence/index as a platform administrator"
)
SNIPPET_CHARS = 320
BUILD_KIND = "evidence.build_index"


@dataclass(frozen=True)
class ReadyEvidence:
    index: EvidenceIndex
    retriever: Retriever
    model: ModelReference
    prior: dict[str, float]
    model_folder: Path | None = None

    def scorer(self) -> GraphScorer | None:
        """The graph model of evidence >= 2.0.0 (loaded on first use: ~10 s), None for 1.0.0.

        The edge tables are read from the data the index was built from (its manifest's data_root),
        so the graph and the documents always describe the same release of the sources.
        """
        if self.model_folder is None or not has_graph_model(self.model_folder):
            return None
        folder = self.graph_folder()
        try:
            return load_scorer(str(folder), str(self.model_folder), self.model.sha256)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            raise self._graph_unusable(folder, str(exc)) from exc

    def graph_folder(self) -> Path:
        """The builder's data folder; this machine's DATA_DIR when the index was built elsewhere."""
        built_from = Path(self.index.manifest.get("data_root", str(data_root())))
        return (built_from if built_from.is_dir() else data_root()) / "hetionet"

    def check_graph(self) -> None:
        """Cheap pre-flight for jobs: the edge tables a graph model needs are on disk (not loaded)."""
        if self.model_folder is None or not has_graph_model(self.model_folder):
            return
        folder = self.graph_folder()
        missing = [
            name
            for name in ("hetionet-v1.0-nodes.tsv", "metaedges.tsv", "edges-CbG.tsv.gz")
            if not (folder / name).is_file()
        ]
        if missing:
            raise self._graph_unusable(folder, f"missing {missing}")

    def _graph_unusable(self, folder: Path, why: str) -> CapabilityUnavailable:
        return CapabilityUnavailable(
            GRAPH_CAPABILITY,
            f"evidence {self.model.version} ranks with Hetionet paths but the edge tables under "
            f"{folder} are unusable ({why}); rebuild the index from a DATA_DIR/evidence that has them",
        )

    @property
    def index_info(self) -> IndexInfo:
        m = self.index.manifest
        return IndexInfo(
            built_at=m["built_at"], documents=m["documents"], dense=self.retriever.dense_available
        )


def index_dir() -> Path:
    return get_settings().var_dir / "evidence" / "index"


def data_root() -> Path:
    return get_settings().data_dir / "evidence"


def load_prior(model_folder: Path) -> dict[str, float]:
    return {
        k: float(v) for k, v in json.loads((model_folder / RANKING_FILE).read_text())["prior_weights"].items()
    }


@lru_cache(maxsize=2)
def _open(index_folder: str, built_at: str, model_folder: str, model_sha: str, version: str) -> ReadyEvidence:
    """One loaded index + encoder per (index build, model hash): a rebuild or a new model reloads."""
    index = open_index(Path(index_folder))
    folder = Path(model_folder)
    encoder = None
    if index.has_dense:
        expected = index.manifest.get("encoder_sha256", "")
        if expected and expected != file_sha256(folder / "encoder.onnx"):
            raise CapabilityUnavailable(
                MODEL_NAME,
                "the index was embedded with a different encoder than the registered model: "
                "run `hygeia evidence build` again",
            )
        encoder = TextEncoder(folder)
    index.linker._fuzzy_index()  # build the typo-tolerant name index now, not on a user's request
    ref = ModelReference(name=MODEL_NAME, version=version, sha256=model_sha[:12])
    return ReadyEvidence(index, Retriever(index, encoder), ref, load_prior(folder), folder)


def ready() -> ReadyEvidence:
    """The loaded capability, or CapabilityUnavailable naming what is missing."""
    index, built_at = current_index()
    version, sha, folder = production_model()
    return _open(str(index), built_at, str(folder), sha, version)


def current_index() -> tuple[Path, str]:
    """The build the `index` link points at now, resolved, so a loaded index stays bound to its own
    files while a rebuild swaps the link; and its build time. With a shared blob store, a build
    published by another machine is fetched first (checked every few seconds, see shared_index)."""
    shared_index.sync(index_dir())
    index = index_dir().resolve()
    manifest = index / MANIFEST_FILE
    if not manifest.is_file():
        raise CapabilityUnavailable(MODEL_NAME, missing_index_reason())
    return index, json.loads(manifest.read_text())["built_at"]


def production_model() -> tuple[str, str, Path]:
    """(version, sha256, hash-verified folder) of the registry's production evidence model."""
    current = get_registry().current(MODEL_NAME)
    if current is None:
        raise CapabilityUnavailable(MODEL_NAME, TRAIN_HINT)
    version, sha = current
    try:
        return version, sha, _verified_folder(version, sha)
    except ModelNotFound as exc:
        raise CapabilityUnavailable(MODEL_NAME, f"{exc.detail}. {TRAIN_HINT}") from exc


@lru_cache(maxsize=4)
def _verified_folder(version: str, sha: str) -> Path:
    """Hash-verify the model once per (version, manifest hash) instead of on every request."""
    return get_registry().load(MODEL_NAME, version).path


def newest_model_folder(version: str | None = None) -> Path | None:
    """Newest bundled `models/evidence/<version>/` with a card (hash-verified), for use without a database."""
    from hygeia.core.registry import newest_version_folder, verify_folder

    root = get_settings().models_dir / MODEL_NAME
    folder = newest_version_folder(root) if version is None else root / version
    if folder is None or not (folder / "card.json").is_file():
        return None
    verify_folder(folder)
    return folder


def cli_ready(model_folder: Path) -> ReadyEvidence:
    """For the CLI: the given (already hash-verified) model folder, no database involved."""
    index, built_at = current_index()
    card = json.loads((model_folder / "card.json").read_text())
    return _open(str(index), built_at, str(model_folder), card["sha256"], str(card["version"]))


def missing_index_reason() -> str:
    """While a build is under way (the first start's, minutes after `make run`), which job and how far;
    else how to build the index."""
    from hygeia.core.jobs import QUEUED, RUNNING, list_job_summaries

    building = [
        job
        for job in list_job_summaries(get_settings().platform_tenant, limit=20, kind=BUILD_KIND)
        if job.status in (QUEUED, RUNNING)
    ]
    if not building:
        return BUILD_HINT
    job = building[0]
    return (
        f"the evidence index is being built (job {job.id}, {job.status}, {job.progress:.0%}: "
        f"{job.message or 'starting'}); search works once its first, lexical part is done, within minutes"
    )


def unavailable_reason() -> str | None:
    shared_index.sync(index_dir())
    if not (index_dir() / MANIFEST_FILE).is_file():
        return missing_index_reason()
    if get_registry().current(MODEL_NAME) is None:
        return TRAIN_HINT
    return None


# ------------------------------------------------------------------------------------------- search
def link_query(r: ReadyEvidence, query: str) -> list[Link]:
    """The whole query if it names one entity, else the entities mentioned in it, else a fuzzy guess."""
    linker = r.index.linker
    return (
        linker.link(query, limit=3, fuzzy=False) or linker.mentions(query)[:10] or linker.link(query, limit=3)
    )


def expand_query(query: str, links: list[Link]) -> str:
    """Add the preferred names of confidently linked entities ("Revatio" -> also "Sildenafil").

    Documents use generic names and DO/UMLS disease names; a brand name or synonym in the query
    would otherwise match nothing for BM25. Fuzzy links are not used: a guess must not steer search.
    """
    present = normalize(query)
    extra = [
        lk.entity.name
        for lk in links
        if lk.method != "fuzzy" and lk.score >= 1.0 and normalize(lk.entity.name) not in present
    ]
    return " ".join([query, *dict.fromkeys(extra)])


def entity_out(link: Link) -> LinkedEntity:
    return LinkedEntity.model_validate(link.as_dict())


def hit_out(hit: Hit) -> SearchHit:
    doc = hit.document
    snippet = (
        doc.text if len(doc.text) <= SNIPPET_CHARS else doc.text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    )
    return SearchHit(
        id=doc.id,
        type=doc.doc_type,
        source=doc.source,
        title=doc.title,
        snippet=snippet,
        url=doc.url,
        rank=hit.rank,
        score=round(hit.score, 6),
        bm25_rank=hit.bm25_rank,
        dense_rank=hit.dense_rank,
        drug_ids=doc.drug_ids,
        disease_ids=doc.disease_ids,
        meta=doc.meta,
    )


def search(request: SearchRequest) -> SearchResponse:
    return search_with(ready(), request)


def search_with(r: ReadyEvidence, request: SearchRequest) -> SearchResponse:
    """Search through a loaded capability; responses are cached per (model, index build, request)."""
    if request.mode != "bm25" and not r.retriever.dense_available:
        if request.mode == "dense":
            raise CapabilityUnavailable(
                "evidence.dense",
                "the index has no dense vectors yet: use mode=bm25, or wait for the vector build",
            )
        # hybrid until the vectors exist (first start builds them in the background): the answer's
        # `mode` says bm25, so nobody mistakes it for a hybrid ranking
        request = request.model_copy(update={"mode": "bm25"})
    key = cache_key(
        "evidence.search", r.model.sha256, r.index.manifest["built_at"], request.model_dump_json()
    )
    cache = get_cache()
    hit = cache.get_json(key)
    if hit is not None:
        return SearchResponse.model_validate(hit)
    links = link_query(r, request.query)
    expanded = expand_query(request.query, links)
    hits = r.retriever.search(expanded, request.k, request.mode, request.types)
    response = SearchResponse(
        query=request.query,
        expanded_query=expanded,
        mode=request.mode,
        entities=[entity_out(lk) for lk in links],
        hits=[hit_out(h) for h in hits],
        index=r.index_info,
        model=r.model,
    )
    cache.set_json(key, response.model_dump(mode="json"))
    return response


def search_tool(query: str, k: int = 10, mode: str = "hybrid") -> dict[str, Any]:
    """Tool entry point for agents: same path as the API, JSON out."""
    return search(SearchRequest(query=query, k=k, mode=mode)).model_dump(mode="json")


# ----------------------------------------------------------------------------------------- feedback
def feedback_features(
    r: ReadyEvidence, drug_id: str | None, disease_id: str | None, doc_id: str | None
) -> tuple[str, dict[str, float]]:
    """The feature vector the vote is about, checked against the index (unknown ids are 404s)."""
    if doc_id:
        if doc_id not in r.index.row_of:
            raise NotFound(f"no evidence document {doc_id!r} in the index")
        return "document", document_features(r.index.document(doc_id))
    assert drug_id and disease_id
    entities = r.index.linker.entities
    if entities.get(drug_id) is None or entities[drug_id].kind != "drug":
        raise NotFound(f"no drug {drug_id!r} in the index")
    if not is_do_disease(disease_id) or disease_id not in entities:
        raise InputError(f"disease_id must be a DO-slim DOID such as DOID:9352, got {disease_id!r}")
    return "candidate", pair_features(r.index.graph, drug_id, disease_id, scorer=r.scorer())
