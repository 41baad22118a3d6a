"""Which HAM10000 source dataset each image came from (the metadata's `dataset` column).

HAM10000 pools four collections photographed with different devices and protocols (vidir_modern,
vidir_molemax, rosendahl, vienna_dermatology...). Scoring per source is the in-repository proxy for
how the model behaves on another site's camera, which is the shift a deployment meets.
"""

from __future__ import annotations

import csv
from pathlib import Path

METADATA_FILE = "HAM10000_metadata.csv"


def read_sources(data_dir: Path) -> dict[str, str]:
    """image_id -> source dataset; empty when the metadata file is not in the data directory."""
    path = Path(data_dir) / METADATA_FILE
    if not path.is_file():
        return {}
    with path.open(newline="") as handle:
        return {row["image_id"]: row.get("dataset") or "unknown" for row in csv.DictReader(handle)}
