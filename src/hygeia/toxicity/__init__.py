"""Tox21 toxicity prediction: standardised molecules in, calibrated probabilities for 12 assays out.

The endpoint order below is the contract of the CLI output, the API and every stored model.
"""

from __future__ import annotations

ENDPOINTS: tuple[str, ...] = (
    "NR-AR",
    "NR-AR-LBD",
    "NR-AhR",
    "NR-Aromatase",
    "NR-ER",
    "NR-ER-LBD",
    "NR-PPAR-gamma",
    "SR-ARE",
    "SR-ATAD5",
    "SR-HSE",
    "SR-MMP",
    "SR-p53",
)
MODEL_NAME = "toxicity"
# What a training set's rows are standardised under (the rules live in `molecules`); here, so that the
# CLI can name them without importing RDKit at start-up.
ORGANIC_SCOPE = "organic-v2"  # what is scored, and what models trained from now on learn from
LARGEST_FRAGMENT_SCOPE = "largest-fragment-v1"  # the rule of toxicity models up to 2.6.0 and 2.10.0-2.13.0
CHEMISTRY_SCOPES = (ORGANIC_SCOPE, LARGEST_FRAGMENT_SCOPE)
