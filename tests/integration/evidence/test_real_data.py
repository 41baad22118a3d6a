"""Build the evidence index on the real data in ../shared/data/evidence and check what it can do.

Dense vectors are built for the 1,000 abstracts only (BM25 covers all ~14k documents): embedding
every repoDB/curated record as well takes minutes on two cores (see MODEL_CARD.md, index build),
the abstracts well under the two-minute budget this test keeps to.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hygeia.evidence.store import EvidenceIndex

pytestmark = pytest.mark.slow
REPO_ROOT = Path(__file__).resolve().parents[3]
DATA = REPO_ROOT.parent / "shared" / "data" / "evidence"


@pytest.fixture(scope="module")
def model_folder() -> Path:
    folder = sorted((REPO_ROOT / "models" / "evidence").glob("*/card.json"))
    if not folder:
        pytest.fail("no bundled evidence model: run `hygeia evidence train`")
    return folder[-1].parent


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, model_folder: Path) -> tuple[EvidenceIndex, float]:
    from hygeia.evidence.sources import missing_files
    from hygeia.evidence.store import build_index, open_index

    if missing_files(DATA):
        pytest.skip(f"real evidence data not present under {DATA}: {missing_files(DATA)}")
    target = tmp_path_factory.mktemp("evidence") / "index"
    started = time.perf_counter()
    build_index(DATA, target, model_folder, dense_types=["literature"])
    return open_index(target), time.perf_counter() - started


def test_build_counts_and_links(built: tuple[EvidenceIndex, float]) -> None:
    index, seconds = built
    assert index.manifest["documents_by_type"] == {
        "literature": 1000,
        "approval": 6677,
        "clinical_trial": 4123,
        "curated_indication": 2059,
        "knowledge_graph": 1667,  # Hetionet fact sheets: compounds and diseases with any edge
    }
    print(f"real-data build (BM25 all, dense literature): {seconds:.1f}s {index.manifest['timings']}")
    linker = index.linker
    assert linker.link("metformin")[0].entity.id == "DB00331"
    assert linker.link("CN(C)C(=N)N=C(N)N")[0].entity.id == "DB00331"
    assert linker.link("Alzheimer's disease")[0].entity.id == "DOID:10652"
    assert linker.link("D003924")[0].entity.id == "DOID:9352"
    assert linker.link("acetylsalicylic acid")[0].entity.id == "DB00945"


def test_pubmedqa_retrieval_bm25_dense_hybrid(built: tuple[EvidenceIndex, float], model_folder: Path) -> None:
    from hygeia.evidence.encoder import TextEncoder
    from hygeia.evidence.evaluation import evaluate_pubmedqa
    from hygeia.evidence.retrieval import Retriever
    from hygeia.evidence.sources import load_pubmedqa

    index, _ = built
    report = evaluate_pubmedqa(Retriever(index, TextEncoder(model_folder)), load_pubmedqa(DATA / "pubmedqa"))
    metrics = report["metrics"]
    print(metrics)
    assert report["queries"] == 1000
    assert metrics["bm25"]["recall@10"] > 0.95
    assert metrics["dense"]["recall@10"] > 0.95
    assert metrics["hybrid"]["ndcg@10"] > metrics["bm25"]["ndcg@10"]


def test_repurposing_ranks_known_indications_and_evaluates_held_out(
    built: tuple[EvidenceIndex, float],
) -> None:
    from hygeia.evidence.ranking import PRIOR_WEIGHTS
    from hygeia.evidence.repurposing import rank_diseases
    from hygeia.evidence.repurposing_eval import evaluate_repurposing
    from hygeia.evidence.sources import load_indications

    index, _ = built
    diseases = [e.id for e in index.linker.entities.values() if e.id.startswith("DOID:")]
    top = rank_diseases(index.graph, "DB00331", diseases, PRIOR_WEIGHTS, k=3)
    assert top[0].disease_id == "DOID:9352"  # metformin -> type 2 diabetes mellitus
    labels = load_indications(DATA / "pharmacotherapydb/indications.tsv", "PharmacotherapyDB")
    report = evaluate_repurposing(index.graph, labels)
    before = report["all_evidence"]["before_feedback_prior_weights"]
    assert report["candidate_diseases"] == 97 and before["auroc"] > 0.65
    hidden = report["all_evidence"]["hidden_features"]
    assert set(hidden) >= {"pharmacotherapy_dm", "pharmacotherapy_sym", "pharmacotherapy_not"}


def test_mechanism_query_finds_compounds_through_graph_facts(built: tuple[EvidenceIndex, float]) -> None:
    """ "PPARG agonists": no label row or abstract names the target; Hetionet's binds edges do."""
    from hygeia.evidence.retrieval import Retriever

    index, _ = built
    hits = Retriever(index, None).search("PPARG agonists", 10, "bm25", ["knowledge_graph"])
    binders = [h for h in hits if "PPARG" in h.document.text.split(". ")[0]]  # "Binds (targets): …"
    assert len(binders) >= 5 and all(h.document.drug_ids for h in binders)
