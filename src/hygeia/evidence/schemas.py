"""Request/response models of the evidence API (search, repurpose, feedback, reports)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from hygeia.core.schemas import ModelReference

EvidenceType = Literal["literature", "clinical_trial", "approval", "curated_indication", "knowledge_graph"]
Vote = Literal["up", "down", "flag"]


class IndexInfo(BaseModel):
    built_at: str
    documents: int
    dense: bool


class LinkedEntity(BaseModel):
    kind: Literal["drug", "disease"]
    id: str = Field(description="DrugBank id, DOID, or UMLS CUI")
    name: str
    xrefs: dict[str, list[str]] = {}
    matched: str
    method: str = Field(description="id, exact, inchikey, inchikey-connectivity, fuzzy or mention")
    score: float = Field(description="1.0 for ids and exact names; similarity for fuzzy matches")


class IndexBuildRequest(BaseModel):
    lexical_only: bool = Field(False, description="BM25 only, in seconds; hybrid and dense search stay off")
    dense_types: list[EvidenceType] | None = Field(
        None, description="embed only these evidence types (default all: about 9 minutes on 2 cores)"
    )


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=1000, examples=["metformin colorectal cancer"])
    k: int = Field(10, ge=1, le=100)
    mode: Literal["hybrid", "bm25", "dense"] = "hybrid"
    types: list[EvidenceType] | None = Field(None, description="restrict to these evidence types")


class SearchHit(BaseModel):
    id: str
    type: EvidenceType
    source: str
    title: str
    snippet: str
    url: str
    rank: int
    score: float = Field(description="reciprocal-rank-fusion score (or 1/(60+rank) for one method)")
    bm25_rank: int | None
    dense_rank: int | None
    drug_ids: list[str]
    disease_ids: list[str]
    meta: dict[str, Any] = {}


class SearchResponse(BaseModel):
    query: str
    expanded_query: str = Field(description="the query plus preferred names of linked entities, as searched")
    mode: str
    entities: list[LinkedEntity]
    hits: list[SearchHit]
    index: IndexInfo
    model: ModelReference


class RepurposeRequest(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=2000,
        description="drug name, DrugBank id or SMILES; or disease name, DOID, MeSH id or UMLS CUI",
        examples=["metformin", "DB00331", "CN(C)C(=N)N=C(N)N", "Alzheimer's disease"],
    )
    kind: Literal["auto", "drug", "disease"] = "auto"
    k: int = Field(20, ge=1, le=200)
    exclude_known: bool = Field(False, description="drop pairs already approved or curated as indications")


class Citation(BaseModel):
    id: str
    type: EvidenceType
    source: str
    title: str
    url: str


class PathNode(BaseModel):
    kind: str = Field(examples=["Gene"])
    id: str = Field(examples=["5564"])
    name: str = Field(examples=["PRKAB1"])


class GraphPathOut(BaseModel):
    """One Hetionet path behind a candidate, and how much it raises the logit."""

    metapath: str = Field(examples=["CbGaD"])
    text: str = Field(examples=["Metformin — binds — PRKAB1 — associated with — type 2 diabetes mellitus"])
    nodes: list[PathNode]
    verbs: list[str]
    contribution: float = Field(
        description="the path's share (by degree-weighted path count) of its metapath's logit contribution"
    )


class CandidateOut(BaseModel):
    drug_id: str
    drug: str
    disease_id: str
    disease: str
    mesh_ids: list[str]
    confidence: float = Field(description="logistic probability under this tenant's evidence weights")
    known_indication: bool
    features: dict[str, float]
    contributions: dict[str, float] = Field(description="weight x feature, the logit's parts")
    citations: list[Citation]
    related_literature: list[Citation] = Field(
        [], description="retrieved by hybrid search for drug + disease; relevance not verified"
    )
    flagged: bool = False
    paths: list[GraphPathOut] = Field(
        [], description="strongest graph paths (evidence >= 2.0.0; only for the top candidates)"
    )
    prediction_id: str | None = Field(
        None,
        description="follow this candidate up: POST /api/v1/evidence/outcomes with it (or "
        "'drug_id|disease_id') once a trial or clinical result is known",
    )


class RepurposeResult(BaseModel):
    query: str
    entity: LinkedEntity
    direction: Literal["drug_to_diseases", "disease_to_drugs"]
    candidates: list[CandidateOut]
    weights: dict[str, float]
    feedback_count: int
    index: IndexInfo
    model: ModelReference
    disclaimer: str


class FeedbackRequest(BaseModel):
    vote: Vote
    drug_id: str | None = Field(None, examples=["DB00331"])
    disease_id: str | None = Field(None, examples=["DOID:9352"])
    doc_id: str | None = Field(None, description="an evidence document id from a search hit")
    comment: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _one_target(self) -> FeedbackRequest:
        pair = bool(self.drug_id and self.disease_id)
        if pair == bool(self.doc_id):
            raise ValueError("give either drug_id + disease_id (a candidate) or doc_id (a document)")
        return self


class FeedbackResponse(BaseModel):
    id: str
    target: Literal["candidate", "document"]
    features: dict[str, float]
    feedback_count: int
    weights: dict[str, float]


class VoteCounts(BaseModel):
    up: int = 0
    down: int = 0
    flag: int = 0


class FeedbackStats(BaseModel):
    """What this tenant's feedback has done to its ranking weights."""

    feedback_count: int
    by_target: dict[str, VoteCounts] = Field(description="votes on candidates and on documents")
    prior: dict[str, float] = Field(description="the registered model's weights, before any feedback")
    weights: dict[str, float] = Field(description="this tenant's weights, refitted from its votes")
    shift: dict[str, float] = Field(description="weights - prior, the change the votes made")
    model: ModelReference


class FeedbackVote(BaseModel):
    id: str
    vote: Vote
    target: Literal["candidate", "document"]
    drug_id: str | None
    disease_id: str | None
    doc_id: str | None
    comment: str | None
    created_at: str


class JobFeedback(BaseModel):
    """Votes this tenant cast on the candidates or citations of one repurposing job."""

    job_id: str
    candidates: int
    votes: list[FeedbackVote]
