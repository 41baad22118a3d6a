"""Evidence use cases shared by the API, the CLI and agents (no FastAPI here, no torch).

Search and the loaded capability live in runtime.py; this module adds repurposing (a job),
feedback and report export, and registers the job handler, tool and capability with core.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hygeia.core.auth import Principal
from hygeia.core.errors import CapabilityUnavailable, Conflict, InputError, NotFound
from hygeia.core.jobs import (
    QUEUED,
    RUNNING,
    JobContext,
    JobInfo,
    get_job,
    list_jobs,
    register_job_handler,
    submit_job,
)
from hygeia.core.observability import observe_scores
from hygeia.core.tools import Caller
from hygeia.evidence import drift, lifecycle, retraining
from hygeia.evidence import feedback as votes
from hygeia.evidence.features import is_do_disease
from hygeia.evidence.graph_scoring import GraphScorer
from hygeia.evidence.linking import Entity, Link
from hygeia.evidence.repurposing import Candidate, candidate_drugs, rank_diseases, rank_drugs
from hygeia.evidence.retrieval import Mode
from hygeia.evidence.runtime import (
    BUILD_KIND,
    MODEL_NAME,
    ReadyEvidence,
    data_root,
    entity_out,
    feedback_features,
    index_dir,
    production_model,
    ready,
    search,
    search_tool,
    unavailable_reason,
)
from hygeia.evidence.schemas import (
    CandidateOut,
    Citation,
    FeedbackRequest,
    FeedbackResponse,
    FeedbackStats,
    FeedbackVote,
    GraphPathOut,
    IndexBuildRequest,
    JobFeedback,
    PathNode,
    RepurposeRequest,
    RepurposeResult,
    VoteCounts,
)

__all__ = ["ready", "record_feedback", "report", "repurpose", "search", "search_tool"]

JOB_KIND = "evidence.repurpose"
RELATED_LITERATURE_FOR = 10  # candidates that get a literature search of their own
PATHS_FOR = 10  # candidates whose graph paths are enumerated and shown
TOOL_CANDIDATES = 5  # what an agent's answer lists; the job gives the full ranking
HYPOTHESES = "Research hypotheses ranked from public evidence, not medical advice"
DISCLAIMER = (
    "Research hypotheses ranked from public evidence (repoDB, DrugCentral, PharmacotherapyDB, PubMedQA "
    "abstracts, and from evidence 2.0.0 the Hetionet knowledge graph); not medical advice. "
    "Confidence is a model probability, see the model card for its accuracy."
)
Progress = Callable[[float, str], None]


def resolve(r: ReadyEvidence, request: RepurposeRequest) -> tuple[Link, str]:
    """The query's entity and the id ranked for it."""
    kind = None if request.kind == "auto" else request.kind
    links = r.index.linker.link(request.query, kind)
    if not links:
        raise InputError(f"could not link {request.query!r} to a drug or disease", query=request.query)
    return _target(links[0])


def _target(link: Link) -> tuple[Link, str]:
    """A linked entity and the id the ranker takes for it (a UMLS disease maps to its DO-slim disease)."""
    if link.entity.kind == "drug" or is_do_disease(link.entity.id):
        return link, link.entity.id
    doids = link.entity.xrefs.get("doid", [])
    if not doids:
        raise InputError(
            f"{link.entity.name} ({link.entity.id}) is outside the 137 Disease Ontology diseases "
            "the ranker covers"
        )
    return link, doids[0]


def _citation(r: ReadyEvidence, doc_id: str) -> Citation:
    doc = r.index.document(doc_id)
    return Citation(id=doc.id, type=doc.doc_type, source=doc.source, title=doc.title, url=doc.url)


def _known(c: Candidate) -> bool:
    f = c.features
    return bool(f["approved"] or f["drugcentral"] or f["pharmacotherapy_dm"] or f["pharmacotherapy_sym"])


def _candidate_out(r: ReadyEvidence, c: Candidate, flagged: set[tuple[str, str]]) -> CandidateOut:
    entities = r.index.linker.entities
    drug = entities.get(c.drug_id, Entity("drug", c.drug_id, c.drug_id))
    disease = entities[c.disease_id]
    return CandidateOut(
        drug_id=c.drug_id,
        drug=drug.name,
        disease_id=c.disease_id,
        disease=disease.name,
        mesh_ids=disease.xrefs.get("mesh", []),
        confidence=round(c.confidence, 4),
        known_indication=_known(c),
        features={k: round(v, 4) for k, v in c.features.items() if v},
        contributions=c.contributions,
        citations=[_citation(r, d) for d in c.citations[:20]],
        flagged=(c.drug_id, c.disease_id) in flagged,
    )


def _paths(scorer: GraphScorer, out: CandidateOut) -> list[GraphPathOut]:
    return [
        GraphPathOut(
            metapath=s.path.metapath,
            text=s.path.text,
            nodes=[PathNode(kind=k, id=i, name=n) for k, i, n in s.path.nodes],
            verbs=s.path.verbs,
            contribution=round(s.contribution, 4),
        )
        for s in scorer.explain(out.drug_id, out.disease_id)
    ]


def _related_literature(r: ReadyEvidence, out: CandidateOut) -> list[Citation]:
    mode: Mode = "hybrid" if r.retriever.dense_available else "bm25"
    hits = r.retriever.search(f"{out.drug} {out.disease}", 3, mode, ["literature"])
    return [_citation(r, h.document.id) for h in hits]


def repurpose(
    request: RepurposeRequest,
    tenant_id: str | None,
    progress: Progress | None = None,
    loaded: ReadyEvidence | None = None,
) -> RepurposeResult:
    """Ranked candidates under the tenant's weights (the prior alone when `tenant_id` is None)."""
    say = progress or (lambda _f, _m: None)
    r = loaded or ready()
    link, target = resolve(r, request)
    weights, n_votes = dict(r.prior), 0
    if tenant_id is not None:
        weights, n_votes = votes.tenant_weights(tenant_id, r.prior, r.model.sha256)
    say(0.1, "loading the graph model" if r.model_folder else "ranking")
    scorer = r.scorer()
    say(0.2, f"ranking candidates for {link.entity.name}")
    ranked = rank_candidates(r, link, target, weights, scorer)
    if request.exclude_known:
        ranked = [c for c in ranked if not _known(c)]
    flagged = votes.flagged_pairs(tenant_id) if tenant_id is not None else set()
    candidates = [_candidate_out(r, c, flagged) for c in ranked[: request.k]]
    observe_scores(r.model.name, r.model.version, {"candidate": [c.confidence for c in candidates]})
    drift.observe_candidates(r, candidates)
    lifecycle.follow(r.model.version, candidates)  # prediction ids, in the job's tenant
    if scorer is not None:
        for out in candidates[:PATHS_FOR]:
            out.paths = _paths(scorer, out)
    for n, out in enumerate(candidates[:RELATED_LITERATURE_FOR]):
        out.related_literature = _related_literature(r, out)
        say(
            0.3 + 0.6 * (n + 1) / min(len(candidates), RELATED_LITERATURE_FOR),
            f"literature for {out.disease}",
        )
    return RepurposeResult(
        query=request.query,
        entity=entity_out(link),
        direction="drug_to_diseases" if link.entity.kind == "drug" else "disease_to_drugs",
        candidates=candidates,
        weights={k: round(v, 4) for k, v in weights.items()},
        feedback_count=n_votes,
        index=r.index_info,
        model=r.model,
        disclaimer=DISCLAIMER,
    )


def rank_candidates(
    r: ReadyEvidence, link: Link, target: str, weights: dict[str, float], scorer: GraphScorer | None
) -> list[Candidate]:
    """Every candidate for the query's entity, best first: diseases for a drug, drugs for a disease."""
    graph = r.index.graph
    if link.entity.kind == "drug":
        diseases = [
            e.id for e in r.index.linker.entities.values() if e.kind == "disease" and is_do_disease(e.id)
        ]
        return rank_diseases(graph, target, diseases, weights, scorer=scorer)
    drugs = sorted(candidate_drugs(graph, target, scorer))
    return rank_drugs(graph, target, drugs, weights, scorer=scorer)


def prior_confidences(r: ReadyEvidence, link: Link, target: str, k: int) -> list[float]:
    """The top k confidences under the model's prior weights (the drift reference's ranking)."""
    return [c.confidence for c in rank_candidates(r, link, target, dict(r.prior), r.scorer())[:k]]


def candidates_tool(caller: Caller, query: str, k: int = TOOL_CANDIDATES) -> dict[str, Any]:
    """Agent tool: repurposing hypotheses for the drug or disease a question mentions, ranked under the
    caller's tenant weights like the repurposing job, known indications excluded, each with its
    strongest graph path; a question naming both gets that pair's rank. Nothing is recorded: the job
    is where candidates are followed up."""
    r = ready()
    mentioned = r.index.linker.mentions(query)
    drug = next((lk for lk in mentioned if lk.entity.kind == "drug"), None)
    disease = next((lk for lk in mentioned if lk.entity.kind != "drug" and _ranked_disease(lk)), None)
    named = disease or drug
    if named is None:
        raise InputError(f"the question names no drug or ranked disease of the evidence index: {query!r}")
    link, target = _target(named)
    weights, _ = votes.tenant_weights(caller.tenant_id, r.prior, r.model.sha256)
    scorer = r.scorer()
    ranked = rank_candidates(r, link, target, weights, scorer)
    model = f"{r.model.name} {r.model.version}"
    if drug is not None and disease is not None:
        return _pair_answer(r, scorer, ranked, drug, link, model)
    new = [_tool_candidate(r, scorer, c) for c in [c for c in ranked if not _known(c)][:k]]
    side = "disease" if link.entity.kind == "drug" else "drug"
    listed = "; ".join(f"{c[side]} ({c['confidence']:.3g}{_via(c)})" for c in new)
    fact = (
        f"Top {len(new)} repurposing hypotheses for {link.entity.name} ({model}, known indications "
        f"excluded; confidence is the model's probability): {listed or 'none'}. {HYPOTHESES}"
    )
    return {"entity": entity_out(link).model_dump(mode="json"), "candidates": new, "model": model,
            "fact": fact}  # fmt: skip


def _ranked_disease(link: Link) -> bool:
    return is_do_disease(link.entity.id) or bool(link.entity.xrefs.get("doid"))


def _pair_answer(
    r: ReadyEvidence,
    scorer: GraphScorer | None,
    ranked: list[Candidate],
    drug: Link,
    disease: Link,
    model: str,
) -> dict[str, Any]:
    position = next((i for i, c in enumerate(ranked) if c.drug_id == drug.entity.id), None)
    if position is None:
        raise InputError(f"{drug.entity.name} is not among the candidate drugs for {disease.entity.name}")
    pair = _tool_candidate(r, scorer, ranked[position]) | {"rank": position + 1, "of": len(ranked)}
    known = "a known indication" if pair["known_indication"] else "not a known indication"
    fact = (
        f"{pair['drug']} ranks {position + 1} of {len(ranked)} candidate drugs for {pair['disease']} "
        f"({model}; confidence {pair['confidence']:.3g}{_via(pair)}; {known}). {HYPOTHESES}"
    )
    return {"entity": entity_out(disease).model_dump(mode="json"), "pair": pair, "model": model,
            "fact": fact}  # fmt: skip


def _tool_candidate(r: ReadyEvidence, scorer: GraphScorer | None, c: Candidate) -> dict[str, Any]:
    out = _candidate_out(r, c, set())
    paths = _paths(scorer, out)[:1] if scorer is not None else []
    return {"drug": out.drug, "drug_id": out.drug_id, "disease": out.disease, "disease_id": out.disease_id,
            "confidence": out.confidence, "known_indication": out.known_indication,
            "strongest_path": paths[0].text if paths else None}  # fmt: skip


def _via(candidate: dict[str, Any]) -> str:
    return f", via {candidate['strongest_path']}" if candidate["strongest_path"] else ""


def run_repurpose_job(payload: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    request = RepurposeRequest.model_validate(payload["request"])
    ctx.progress(0.05, "loading evidence index")
    result = repurpose(request, ctx.tenant_id, ctx.progress)
    ctx.progress(1.0, f"{len(result.candidates)} candidates")
    return result.model_dump(mode="json")


def submit_repurpose(principal: Principal, request: RepurposeRequest) -> JobInfo:
    """Queue a repurposing job; a missing index, model or graph is a 503 now, not a failed job later."""
    ready().check_graph()
    return submit_job(principal, JOB_KIND, {"request": request.model_dump(mode="json")})


def submit_index_build(principal: Principal, request: IndexBuildRequest) -> JobInfo:
    """(Re)build the index every tenant searches, as a job; refused now rather than failed later when
    the data or the encoder is missing, or when a build is already under way (they share one folder)."""
    root = data_root()
    if not root.is_dir():
        raise CapabilityUnavailable(MODEL_NAME, f"no evidence data at {root}: set HYGEIA_DATA_DIR")
    if not request.lexical_only:
        production_model()
    jobs = list_jobs(principal.tenant_id, 500)
    unfinished = [j for j in jobs if j.kind == BUILD_KIND and j.status in (QUEUED, RUNNING)]
    if unfinished:
        raise Conflict(f"job {unfinished[0].id} is building the index", title="Index build in progress")
    return submit_job(principal, BUILD_KIND, request.model_dump(mode="json"))


def run_index_build(payload: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from hygeia.evidence.store import build_index

    request = IndexBuildRequest.model_validate(payload)
    encoder = None if request.lexical_only else production_model()[2]
    manifest = build_index(data_root(), index_dir(), encoder, ctx.progress, request.dense_types)
    return {k: manifest[k] for k in ("built_at", "documents", "documents_by_type", "dense", "timings")}


def record_feedback(principal: Principal, body: FeedbackRequest) -> FeedbackResponse:
    r = ready()
    target, features = feedback_features(r, body.drug_id, body.disease_id, body.doc_id)
    vote_id = votes.store_vote(
        principal.tenant_id,
        principal.subject,
        vote=body.vote,
        target=target,
        features=features,
        index_built_at=r.index.manifest["built_at"],
        drug_id=body.drug_id,
        disease_id=body.disease_id,
        doc_id=body.doc_id,
        comment=body.comment,
    )
    weights, n_votes = votes.tenant_weights(principal.tenant_id, r.prior, r.model.sha256)
    return FeedbackResponse(
        id=vote_id,
        target=target,
        features={k: round(v, 4) for k, v in features.items() if v},
        feedback_count=n_votes,
        weights={k: round(v, 4) for k, v in weights.items()},
    )


def feedback_stats(tenant_id: str) -> FeedbackStats:
    """Vote counts and how far the votes moved this tenant's weights from the model's prior."""
    r = ready()
    weights, n_votes = votes.tenant_weights(tenant_id, r.prior, r.model.sha256)
    return FeedbackStats(
        feedback_count=n_votes,
        by_target={t: VoteCounts(**c) for t, c in votes.vote_counts(tenant_id).items()},
        **votes.weight_shift(r.prior, weights),
        model=r.model,
    )


JOB_FEEDBACK_SCAN = 5000  # newest votes searched for one job's pairs and documents


def job_feedback(tenant_id: str, job_id: str) -> JobFeedback:
    """The votes cast on one finished job's candidates (drug-disease pairs) or cited documents."""
    result = report(tenant_id, job_id)
    pairs = {(c.drug_id, c.disease_id) for c in result.candidates}
    docs = {cite.id for c in result.candidates for cite in [*c.citations, *c.related_literature]}
    rows = [
        FeedbackVote.model_validate(row)
        for row in votes.feedback_rows(tenant_id, JOB_FEEDBACK_SCAN)
        if (row["drug_id"], row["disease_id"]) in pairs or row["doc_id"] in docs
    ]
    return JobFeedback(job_id=job_id, candidates=len(result.candidates), votes=rows)


def report(tenant_id: str, job_id: str) -> RepurposeResult:
    """A finished repurposing job's result (tenant-checked by core.jobs)."""
    job = get_job(tenant_id, job_id)
    if job.kind != JOB_KIND:
        raise NotFound(f"job {job_id!r} is not a repurposing job")
    if job.status != "succeeded" or job.result is None:
        detail = f"job {job_id} is {job.status}" + (f": {job.error}" if job.error else "")
        raise Conflict(detail, title="Report not ready")
    return RepurposeResult.model_validate(job.result)


def register() -> None:
    """Everything evidence offers the platform, registered once by the composition root (hygeia.app):
    its two jobs, the capability check, the agents' search tool and the first-start index build."""
    from hygeia.core.tools import register_capability, register_startup, register_tool
    from hygeia.evidence.first_start import build_index_on_first_start

    register_job_handler(JOB_KIND, run_repurpose_job)
    register_job_handler(BUILD_KIND, run_index_build)
    register_startup("evidence.index", build_index_on_first_start)
    register_capability(MODEL_NAME, unavailable_reason)
    lifecycle.register()  # outcomes: clinical results of repurposing candidates
    retraining.register()  # the scheduled retraining job, as the graph model's retrainer
    register_tool(
        "evidence.search",
        "Hybrid BM25 + dense search over drug-repurposing evidence (PubMed abstracts, repoDB trial "
        "outcomes, curated indications); returns cited documents and linked drug/disease entities.",
        search_tool,
        input_schema={
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1},
                "k": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                "mode": {"enum": ["hybrid", "bm25", "dense"], "default": "hybrid"},
            },
            "required": ["query"],
        },
    )
    register_tool(
        "evidence.candidates",
        "Drug repurposing: new candidate indications (diseases) for a drug, or candidate drugs for a "
        "disease, named in the question; ranked by the evidence model over the Hetionet graph, known "
        "indications excluded, each with its strongest graph path",
        candidates_tool,
        input_schema={
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1, "maxLength": 2000},
                "k": {"type": "integer", "minimum": 1, "maximum": 20, "default": TOOL_CANDIDATES},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
        tenant_scoped=True,
    )
