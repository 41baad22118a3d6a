"""Entity linking of drugs and diseases: identifiers, names/synonyms, SMILES, fuzzy names, mentions.

Order of trust: an identifier (DrugBank, DOID, MeSH, UMLS) or an exact name/synonym links with
score 1.0; a SMILES links through its InChIKey to DrugBank; only then is a character-trigram nearest
name tried, and its cosine similarity is reported as the score so callers can see it was a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Literal

import numpy as np

Kind = Literal["drug", "disease"]
FUZZY_THRESHOLD = 0.75
FUZZY_CANDIDATES = 30
MAX_MENTION_TOKENS = 8
MIN_MENTION_CHARS = 4

ID_PATTERNS: list[tuple[re.Pattern[str], Kind, str]] = [
    (re.compile(r"^DB\d{5}$", re.I), "drug", "drugbank"),
    (re.compile(r"^DOID:\d+$", re.I), "disease", "doid"),
    (re.compile(r"^(?:MESH:|MSH:)?D\d{6}$", re.I), "disease", "mesh"),
    (re.compile(r"^(?:UMLS:)?C\d{7}$", re.I), "disease", "umls"),
]
APOSTROPHES = "['\u2019`]"
SMILES_CHARS = re.compile(r"^[A-Za-z0-9@+\-\[\]\(\)=#$/\\%.:*]+$")


def normalize(text: str) -> str:
    """Case, accents, possessives and punctuation removed so "Crohn's Disease" == "crohn disease"."""
    text = re.sub(APOSTROPHES, "", re.sub(APOSTROPHES + r"s\b", "", text.lower()))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def inverted_variants(name: str) -> list[str]:
    """MeSH/UMLS write "Diabetes Mellitus, Type 2"; people write "type 2 diabetes mellitus"."""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) == 2 and all(parts):
        return [name, f"{parts[1]} {parts[0]}"]
    return [name]


@dataclass(frozen=True)
class Entity:
    kind: Kind
    id: str  # DrugBank id, DOID, or UMLS CUI (diseases outside the DO slim)
    name: str
    xrefs: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    entity: Entity
    matched: str
    method: str  # id, exact, inchikey, fuzzy, mention
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.entity.kind,
            "id": self.entity.id,
            "name": self.entity.name,
            "xrefs": self.entity.xrefs,
            "matched": self.matched,
            "method": self.method,
            "score": round(self.score, 4),
        }


class EntityLinker:
    """Dictionary linker over aliases registered with `add_alias`; immutable once `freeze`d."""

    def __init__(self) -> None:
        self.entities: dict[str, Entity] = {}
        self._aliases: dict[str, set[str]] = defaultdict(set)  # normalised alias -> entity ids
        self._xref_index: dict[str, set[str]] = defaultdict(set)  # "mesh:D003920" -> entity ids
        self._inchikeys: dict[str, set[str]] = defaultdict(set)
        self._mentionable: set[str] = set()
        self._primary: dict[str, set[str]] = defaultdict(set)  # alias that is an entity's own name
        self._fuzzy: Any = None

    def add_entity(self, entity: Entity) -> None:
        self.entities[entity.id] = entity
        if normalize(entity.name):
            self._primary[normalize(entity.name)].add(entity.id)
        self._xref_index[f"{_id_scheme(entity)}:{entity.id.upper()}"].add(entity.id)
        for scheme, values in entity.xrefs.items():
            for value in values:
                self._xref_index[f"{scheme}:{value.upper()}"].add(entity.id)

    def add_alias(self, entity_id: str, alias: str, *, mentionable: bool = True) -> None:
        key = normalize(alias)
        if not key:
            return
        self._aliases[key].add(entity_id)
        if mentionable and len(key) >= MIN_MENTION_CHARS and not key.isdigit():
            self._mentionable.add(key)

    def add_inchikey(self, entity_id: str, inchikey: str) -> None:
        if inchikey:
            self._inchikeys[inchikey.upper()].add(entity_id)

    def restrict_mentions(self, keep: Callable[[str, set[str]], bool]) -> None:
        """Keep only mention aliases for which `keep(alias, entity_ids)` holds (drops "blood", "same")."""
        self._mentionable = {k for k in self._mentionable if keep(k, self._aliases[k])}

    # ---------------------------------------------------------------- lookups
    def link(self, text: str, kind: Kind | None = None, limit: int = 5, fuzzy: bool = True) -> list[Link]:
        """Best links for a whole query string: id, then exact alias, then SMILES, then fuzzy."""
        text = text.strip()
        for finder in (self._by_id, self._by_exact, self._by_smiles):
            found = [lk for lk in finder(text) if kind is None or lk.entity.kind == kind]
            if found:
                return _rank(found)[:limit]
        if not fuzzy:
            return []
        return [lk for lk in self._by_fuzzy(text, limit * 3) if kind is None or lk.entity.kind == kind][
            :limit
        ]

    def mentions(self, text: str, kind: Kind | None = None) -> list[Link]:
        """Longest-match dictionary mentions inside free text (queries, abstracts)."""
        tokens = normalize(text).split()
        found: list[Link] = []
        i = 0
        while i < len(tokens):
            for n in range(min(MAX_MENTION_TOKENS, len(tokens) - i), 0, -1):
                key = " ".join(tokens[i : i + n])
                if key in self._mentionable:
                    found += [
                        Link(self.entities[eid], key, "mention", 1.0)
                        for eid in self._ids_for(key)
                        if kind is None or self.entities[eid].kind == kind
                    ]
                    i += n - 1
                    break
            i += 1
        return _dedupe(found)

    def _by_id(self, text: str) -> list[Link]:
        for pattern, _kind, scheme in ID_PATTERNS:
            if pattern.match(text):
                value = text.upper().split(":")[-1]
                value = f"DOID:{value}" if scheme == "doid" else value
                ids = self._xref_index.get(f"{scheme}:{value}", set())
                return [Link(self.entities[i], text, "id", 1.0) for i in sorted(ids)]
        return []

    def _ids_for(self, key: str) -> list[str]:
        """An alias that is some entity's own name means that entity ("warfarin" is not (R)-warfarin)."""
        primary = self._primary.get(key, set()) & self._aliases.get(key, set())
        return sorted(primary or self._aliases.get(key, set()))

    def link_exact(self, text: str, kind: Kind | None = None) -> list[Link]:
        """Identifier or exact alias only: cheap and never a guess (used in bulk over abstracts)."""
        found = self._by_id(text.strip()) or self._by_exact(text.strip())
        return _rank([lk for lk in found if kind is None or lk.entity.kind == kind])

    def _by_exact(self, text: str) -> list[Link]:
        for variant in inverted_variants(text):
            ids = self._ids_for(normalize(variant))
            if ids:
                return [Link(self.entities[i], text, "exact", 1.0) for i in ids]
        return []

    def _by_smiles(self, text: str) -> list[Link]:
        if " " in text or not SMILES_CHARS.match(text):
            return []
        key = smiles_to_inchikey(text)
        if key is None:
            return []
        exact = self._inchikeys.get(key, set())
        if exact:
            return [Link(self.entities[i], text, "inchikey", 1.0) for i in sorted(exact)]
        skeleton = key.split("-")[0]  # same connectivity, different stereo/protonation
        loose = {i for k, ids in self._inchikeys.items() if k.startswith(skeleton) for i in ids}
        return [Link(self.entities[i], text, "inchikey-connectivity", 0.9) for i in sorted(loose)]

    def _by_fuzzy(self, text: str, limit: int) -> list[Link]:
        """Trigram TF-IDF proposes 30 aliases; the better of edit similarity and trigram cosine is the score.

        Edit similarity forgives typos ("metfromin"), trigram cosine forgives missing words ("alzheimers").
        """
        query = normalize(text)
        if len(query) < 3:
            return []
        vectorizer, matrix, keys = self._fuzzy_index()
        sims = (matrix @ vectorizer.transform([query]).T).toarray().ravel()
        candidates = np.argsort(-sims)[:FUZZY_CANDIDATES]
        scored = sorted(
            (
                (max(SequenceMatcher(None, query, keys[j]).ratio(), float(sims[j])), keys[j])
                for j in candidates
            ),
            reverse=True,
        )
        links = [
            Link(self.entities[eid], key, "fuzzy", ratio)
            for ratio, key in scored[:limit]
            if ratio >= FUZZY_THRESHOLD
            for eid in self._ids_for(key)
        ]
        return _rank(_dedupe(links))

    def _fuzzy_index(self) -> tuple[Any, Any, list[str]]:
        """Character trigram TF-IDF over every alias, built on first use (about a second)."""
        if self._fuzzy is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            keys = sorted(self._aliases)
            vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), dtype=np.float32)
            self._fuzzy = (vectorizer, vectorizer.fit_transform(keys), keys)
        return self._fuzzy

    @classmethod
    def from_rows(
        cls,
        entities: list[Entity],
        aliases: list[tuple[str, str, bool]],
        inchikeys: list[tuple[str, str]],
    ) -> EntityLinker:
        """Rebuild a linker saved with `alias_items` (aliases are stored already normalised)."""
        linker = cls()
        for entity in entities:
            linker.add_entity(entity)
        for alias, entity_id, mentionable in aliases:
            linker._aliases[alias].add(entity_id)
            if mentionable:
                linker._mentionable.add(alias)
        for key, entity_id in inchikeys:
            linker.add_inchikey(entity_id, key)
        return linker

    def inchikey_items(self) -> list[tuple[str, str]]:
        return [(k, e) for k, ids in sorted(self._inchikeys.items()) for e in sorted(ids)]

    def aliases_of(self, entity_id: str) -> list[str]:
        return sorted(k for k, ids in self._aliases.items() if entity_id in ids)

    def alias_items(self) -> list[tuple[str, str, bool]]:
        """(alias, entity id, mentionable) rows, for persisting the dictionary."""
        return [
            (k, e, k in self._mentionable) for k, ids in sorted(self._aliases.items()) for e in sorted(ids)
        ]


def _id_scheme(entity: Entity) -> str:
    if entity.kind == "drug":
        return "drugbank"
    return "doid" if entity.id.upper().startswith("DOID:") else "umls"


def _rank(links: list[Link]) -> list[Link]:
    """DO-slim diseases before bare UMLS concepts; they carry MeSH ids and ranking features."""
    return sorted(
        links, key=lambda lk: (-lk.score, not lk.entity.id.startswith(("DB", "DOID")), lk.entity.id)
    )


def _dedupe(links: list[Link]) -> list[Link]:
    seen: set[str] = set()
    out = []
    for link in links:
        if link.entity.id not in seen:
            seen.add(link.entity.id)
            out.append(link)
    return out


def smiles_to_inchikey(smiles: str) -> str | None:
    """RDKit parse -> standard InChIKey; None when the text is not a molecule."""
    try:
        from rdkit import Chem, RDLogger
    except ModuleNotFoundError:
        return None
    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    key = Chem.MolToInchiKey(mol)
    return key or None
