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
