"""Entity linking: ids, names, synonyms, SMILES, typos, MeSH ids and free-text mentions."""

from __future__ import annotations

import pytest

from hygeia.evidence.corpus import build_linker
from hygeia.evidence.linking import EntityLinker, normalize
from hygeia.evidence.sources import load_sources
from tests.unit.evidence.corpus_fixture import write_corpus


@pytest.fixture(scope="module")
def linker(tmp_path_factory: pytest.TempPathFactory) -> EntityLinker:
    root = write_corpus(tmp_path_factory.mktemp("evidence"))
    return build_linker(load_sources(root))


def _top(linker: EntityLinker, text: str, kind: str | None = None) -> tuple[str, str]:
    link = linker.link(text, kind)[0]  # type: ignore[arg-type]
    return link.entity.id, link.method


def test_normalize_handles_case_possessives_and_accents() -> None:
    assert normalize("Alzheimer's Disease") == normalize("alzheimer disease")
    assert normalize("Sjögren") == "sjogren"


def test_synonyms_and_brand_names_link_to_the_drugbank_id(linker: EntityLinker) -> None:
    assert _top(linker, "aspirin") == ("DB00945", "exact")
    assert _top(linker, "ASA") == ("DB00945", "exact")
    assert _top(linker, "Glucophage") == ("DB00331", "exact")
    assert _top(linker, "db00843") == ("DB00843", "id")


def test_smiles_links_through_the_inchikey(linker: EntityLinker) -> None:
    assert _top(linker, "CN(C)C(=N)N=C(N)N") == ("DB00331", "inchikey")
    assert _top(linker, "CC(=O)OC1=CC=CC=C1C(=O)O") == ("DB00945", "inchikey")


def test_typos_link_fuzzily_with_a_score_below_one(linker: EntityLinker) -> None:
    link = linker.link("metfromin")[0]
    assert link.entity.id == "DB00331" and link.method == "fuzzy" and 0.75 <= link.score < 1.0
    assert linker.link("zzqxv") == []


def test_disease_ids_and_inverted_mesh_names(linker: EntityLinker) -> None:
    assert _top(linker, "D003924") == ("DOID:9352", "id")
    assert _top(linker, "DOID:10652") == ("DOID:10652", "id")
    assert _top(linker, "Diabetes Mellitus, Non-Insulin-Dependent")[0] == "C0011860"
    umls = linker.link("C0011860")
    assert {lk.entity.id for lk in umls} == {"DOID:9352", "C0011860"}
    assert umls[0].entity.id == "DOID:9352"  # DO disease (with MeSH) first


def test_mentions_in_free_text(linker: EntityLinker) -> None:
    found = {lk.entity.id for lk in linker.mentions("Does Glucophage prevent colorectal cancer?")}
    assert found == {"DB00331", "DOID:9256", "C0009402"}


def test_linker_round_trips_through_rows(linker: EntityLinker) -> None:
    copy = EntityLinker.from_rows(
        list(linker.entities.values()), linker.alias_items(), linker.inchikey_items()
    )
    assert _top(copy, "Revatio") == ("DB00203", "exact")
    assert _top(copy, "CN(C)C(=N)N=C(N)N") == ("DB00331", "inchikey")
