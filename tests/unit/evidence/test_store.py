"""Sources -> documents -> a BM25-only index on disk -> search and candidate ranking, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from hygeia.evidence.corpus import LITERATURE
from hygeia.evidence.ranking import PRIOR_WEIGHTS
from hygeia.evidence.repurposing import rank_diseases
from hygeia.evidence.retrieval import DenseUnavailable, Retriever
from hygeia.evidence.sources import load_sources, missing_files
from hygeia.evidence.store import EvidenceIndex, build_index, open_index
from tests.unit.evidence.corpus_fixture import write_corpus


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> EvidenceIndex:
    tmp = tmp_path_factory.mktemp("ev")
    build_index(write_corpus(tmp / "data"), tmp / "index", encoder_dir=None)
    return open_index(tmp / "index")


def test_missing_files_are_named(tmp_path: Path) -> None:
    assert "pubmedqa/ori_pqal.json" in missing_files(tmp_path)
    with pytest.raises(FileNotFoundError, match="repodb"):
        load_sources(tmp_path)


def test_documents_carry_types_and_linked_entities(index: EvidenceIndex) -> None:
    assert index.manifest["documents_by_type"] == {
        "literature": 4,
        "approval": 3,
        "clinical_trial": 2,
        "curated_indication": 4,
        "knowledge_graph": 8,  # 4 drugs and 4 diseases of the fixture's Hetionet, each with edges
    }
    doc = index.document("pmid:1001")
    assert "DB00331" in doc.drug_ids and "DOID:9256" in doc.disease_ids
    assert doc.url == "https://pubmed.ncbi.nlm.nih.gov/1001/"
    assert "lower colorectal cancer risk" not in doc.text  # the question is never indexed


def test_bm25_search_and_type_filter(index: EvidenceIndex) -> None:
    retriever = Retriever(index, encoder=None)
    hits = retriever.search("sildenafil heart failure", k=3, mode="bm25")
    assert hits[0].document.id in {"repodb:3", "pmid:1003"}
    lit = retriever.search("sildenafil", k=5, mode="bm25", doc_types=[LITERATURE])
    assert [h.document.id for h in lit] == ["pmid:1003"]
    with pytest.raises(DenseUnavailable):
        retriever.search("sildenafil", mode="hybrid")


def test_candidate_ranking_puts_the_approved_indication_first(index: EvidenceIndex) -> None:
    diseases = ["DOID:9352", "DOID:10652", "DOID:9256", "DOID:6000"]
    ranked = rank_diseases(index.graph, "DB00331", diseases, PRIOR_WEIGHTS)
    assert [c.disease_id for c in ranked][:2] == ["DOID:9352", "DOID:9256"]
    assert ranked[0].confidence > ranked[1].confidence > ranked[2].confidence
    assert any(cite.startswith("repodb:") for cite in ranked[0].citations)


def test_rebuilds_swap_a_link_so_readers_always_find_an_index(tmp_path: Path) -> None:
    import threading

    from hygeia.evidence.store import MANIFEST_FILE

    data, target = write_corpus(tmp_path / "data"), tmp_path / "index"
    target.mkdir()  # an index laid out before builds were versioned: kept aside, not deleted
    (target / MANIFEST_FILE).write_text("{}")
    build_index(data, target, encoder_dir=None)
    first = target.resolve()
    assert target.is_symlink() and (first / MANIFEST_FILE).is_file()
    assert len(list(tmp_path.glob("index-*-legacy"))) == 1

    missing: list[int] = []
    stop = threading.Event()

    def read_while_rebuilding() -> None:
        while not stop.is_set():
            if not (target / MANIFEST_FILE).is_file():
                missing.append(1)

    reader = threading.Thread(target=read_while_rebuilding)
    reader.start()
    try:
        build_index(data, target, encoder_dir=None)
        second = target.resolve()
        build_index(data, target, encoder_dir=None)
    finally:
        stop.set()
        reader.join()
    assert missing == []
    assert target.resolve() not in (first, second)
    assert second.is_dir() and not first.exists()  # the previous build is kept, older ones pruned
    assert open_index(target).manifest["documents"] > 0


def test_mechanism_search_finds_drugs_through_graph_facts(index: EvidenceIndex) -> None:
    """No abstract or label row names PRKAB1; the graph fact sheet of metformin does."""
    hits = Retriever(index, None).search("PRKAB1 activators", 3, "bm25")
    top = hits[0].document
    assert top.doc_type == "knowledge_graph" and top.source == "Hetionet v1.0"
    assert {h.document.id for h in hits} >= {"hetionet:compound:DB00331", "hetionet:disease:DOID:9352"}
    assert "Binds (targets): PRKAB1." in index.document("hetionet:compound:DB00331").text
