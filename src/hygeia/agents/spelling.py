"""Misspelt drug names ("acetaminaphen", "diclofenak", "lisinipril", "metphormin") read as the DrugBank
drug they spell by sound; the answer's notes say so.

Conservative, as every binding is (entities.py): a word of seven or more letters that no known term
uses (the words of Hetionet's node names: diseases, genes, side effects, anatomy, compounds; of the
DrugBank vocabulary's names and synonyms; of the 1,000 PubMedQA abstracts) is read as a drug only when
its spelling key (`spelling_key`: ph/f, c/k, y/i, th/t, a final e, unstressed vowels and doubled
letters folded) is the key of exactly one drug of the structures table. A word whose key two drugs
share binds neither; a dropped or swapped letter ("simvastatn") is not guessed. Tested on 23 common
misspellings and, for false readings, on the 1,173 BEIR biomedical queries
(`tests/unit/agents/test_spelling.py`).
"""

from __future__ import annotations

import csv
import json
import re
from functools import lru_cache
from pathlib import Path

from hygeia.agents.drugs import VOCABULARY, drug_names, lookup
from hygeia.settings import get_settings

NODES = Path("evidence") / "hetionet" / "hetionet-v1.0-nodes.tsv"
ABSTRACTS = Path("evidence") / "pubmedqa" / "ori_pqal.json"  # 1,000 abstracts: biomedical English
MIN_LETTERS = 7


@lru_cache(maxsize=2)
def _known_words(nodes: str, vocabulary: str, abstracts: str) -> frozenset[str]:
    words: set[str] = set()
    with open(nodes, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            words.update(re.findall("[a-z]+", row["name"].lower()))
    with open(vocabulary, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            words.update(re.findall("[a-z]+", f"{row.get('Common name')} {row.get('Synonyms')}".lower()))
    for item in json.loads(Path(abstracts).read_text(encoding="utf-8")).values():
        words.update(re.findall("[a-z]+", " ".join([item["QUESTION"], *item["CONTEXTS"]]).lower()))
    return frozenset(words)


FOLDS = (
    (r"ph", "f"),
    (r"ck|c|q", "k"),
    (r"y", "i"),
    (r"ae|oe", "e"),
    (r"th", "t"),
    (r"e$", ""),
    (r"[aeiou]", "a"),  # unstressed vowels: "acetaminaphen", "lisinipril"
    (r"(.)\1+", r"\1"),
)


def spelling_key(word: str) -> str:
    """What a word sounds like, for matching misspellings: "ibuprophen" and "ibuprofen" are "ibuprofen"."""
    key = word.lower()
    for pattern, replacement in FOLDS:
        key = re.sub(pattern, replacement, key)
    return key


@lru_cache(maxsize=2)
def _drugs_by_key(names: frozenset[str]) -> dict[str, str]:
    """Spelling key -> the drug name of that key; keys two drugs share are left out."""
    owners: dict[str, dict[str, str]] = {}
    for name in sorted(names):
        drug = lookup(name)
        if drug is not None and name.isalpha() and len(name) >= MIN_LETTERS - 1:
            owners.setdefault(spelling_key(name), {}).setdefault(drug.drugbank_id, name)
    return {key: next(iter(drugs.values())) for key, drugs in owners.items() if len(drugs) == 1}


@lru_cache(maxsize=256)
def misspelt_drug(question: str) -> tuple[str, str] | None:
    """(the word as written, the drug name it is read as), or None; None without the data files."""
    data = get_settings().data_dir
    if not all((data / path).is_file() for path in (NODES, VOCABULARY, ABSTRACTS)):
        return None
    known = _known_words(str(data / NODES), str(data / VOCABULARY), str(data / ABSTRACTS))
    names = drug_names()
    by_key = _drugs_by_key(frozenset(names))
    for word in re.findall("[a-z]+", question.lower()):
        if (
            len(word) >= MIN_LETTERS
            and word not in known
            and word not in names
            and spelling_key(word) in by_key
        ):
            return word, by_key[spelling_key(word)]
    return None
