"""HAM10000 labels and the lesion-level train/validation/test split.

The split is made over lesions, not images: two photographs of one lesion in different splits would
let the model recognise the lesion instead of the disease and inflate every metric. The labelled
pool here has one image per lesion, but the grouping is kept so a larger pool stays leak-free.
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

CLASSES: tuple[str, ...] = ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")
CLASS_NAMES: dict[str, str] = {
    "akiec": "actinic keratosis / intraepithelial carcinoma (Bowen's disease)",
    "bcc": "basal cell carcinoma",
    "bkl": "benign keratosis-like lesion",
    "df": "dermatofibroma",
    "mel": "melanoma",
    "nv": "melanocytic nevus",
    "vasc": "vascular lesion",
}
TRAIN_POOL = "ham10000_train"  # the rows of labels.csv whose images are present
SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class LesionImage:
    """One labelled dermatoscopic image and the patient attributes used for subgroup metrics."""

    image_id: str
    dx: str
    lesion_id: str
    dx_type: str
    age: float | None
    sex: str
    localization: str
    path: Path

    @property
    def label(self) -> int:
        return CLASSES.index(self.dx)


def _age(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_labels(data_dir: Path, pool: str = TRAIN_POOL) -> list[LesionImage]:
    """Rows of `labels.csv` in `pool` whose image file exists; a missing image is an error, not a skip."""
    data_dir = Path(data_dir)
    labels_csv = data_dir / "labels.csv"
    if not labels_csv.is_file():
        raise FileNotFoundError(f"{labels_csv} not found: point --data-dir (or HYGEIA_DATA_DIR) at the data")
    records = []
    with labels_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["split"] != pool:
                continue
            path = data_dir / "images" / f"{row['image_id']}.jpg"
            if not path.is_file():
                raise FileNotFoundError(f"labels.csv lists {row['image_id']} but {path} is missing")
            records.append(
                LesionImage(
                    image_id=row["image_id"],
                    dx=row["dx"],
                    lesion_id=row["lesion_id"],
                    dx_type=row["dx_type"],
                    age=_age(row["age"]),
                    sex=row["sex"] or "unknown",
                    localization=row["localization"] or "unknown",
                    path=path,
                )
            )
    unknown = sorted({r.dx for r in records} - set(CLASSES))
    if unknown:
        raise ValueError(f"labels.csv has classes outside {CLASSES}: {unknown}")
    return records


def labels_sha256(data_dir: Path) -> str:
    """Fingerprint of the label file, recorded on the model card as the training data hash."""
    return hashlib.sha256((Path(data_dir) / "labels.csv").read_bytes()).hexdigest()


def _cut(lesions: list[str], fractions: Sequence[float]) -> list[list[str]]:
    n = len(lesions)
    n_val = round(n * fractions[1])
    n_test = round(n * fractions[2])
    n_train = n - n_val - n_test
    return [lesions[:n_train], lesions[n_train : n_train + n_val], lesions[n_train + n_val :]]


def lesion_split(
    records: Iterable[LesionImage], seed: int = 20240605, fractions: Sequence[float] = (0.70, 0.15, 0.15)
) -> dict[str, list[LesionImage]]:
    """Stratified split by lesion: every class is cut 70/15/15 so rare classes reach every split."""
    if abs(sum(fractions) - 1.0) > 1e-9 or len(fractions) != 3:
        raise ValueError("fractions must be three numbers summing to 1 (train, val, test)")
    by_lesion: dict[str, list[LesionImage]] = defaultdict(list)
    for record in records:
        by_lesion[record.lesion_id].append(record)
    lesions_by_class: dict[str, list[str]] = defaultdict(list)
    for lesion_id, images in sorted(by_lesion.items()):
        lesions_by_class[images[0].dx].append(lesion_id)
    rng = random.Random(seed)
    split_of: dict[str, str] = {}
    for dx in sorted(lesions_by_class):
        lesions = lesions_by_class[dx]
        rng.shuffle(lesions)
        for name, part in zip(SPLITS, _cut(lesions, fractions), strict=True):
            split_of.update(dict.fromkeys(part, name))
    splits: dict[str, list[LesionImage]] = {name: [] for name in SPLITS}
    for lesion_id, images in sorted(by_lesion.items()):
        splits[split_of[lesion_id]].extend(images)
    return splits


def age_band(age: float | None) -> str:
    """Coarse bands keep subgroups large enough to say something; exact ages would be noise."""
    if age is None:
        return "unknown"
    for upper, name in ((30, "<30"), (45, "30-44"), (60, "45-59"), (75, "60-74")):
        if age < upper:
            return name
    return "75+"


def holdout_source_split(
    records: Iterable[LesionImage], sources: dict[str, str], holdout: str, seed: int = 20240605
) -> dict[str, list[LesionImage]]:
    """Leave one source dataset out: its images are the test split; the others are split by lesion
    into train and validation (85/15). This is the in-repository proxy for another site's camera."""
    records = list(records)
    held = [r for r in records if sources.get(r.image_id) == holdout]
    if not held:
        known = sorted({sources.get(r.image_id, "unknown") for r in records})
        raise ValueError(f"no images from source {holdout!r}; sources present: {known}")
    rest = lesion_split([r for r in records if sources.get(r.image_id) != holdout], seed, (0.85, 0.15, 0.0))
    return {"train": rest["train"], "val": rest["val"], "test": held}


def split_from_file(records: Iterable[LesionImage], split_csv: Path) -> dict[str, list[LesionImage]]:
    """A model's own lesion split (its split.csv), so a retrained model keeps the same held-out lesions;
    an image the file names that the labels lack is an error, not a skip."""
    by_id = {r.image_id: r for r in records}
    splits: dict[str, list[LesionImage]] = {name: [] for name in SPLITS}
    with Path(split_csv).open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["image_id"] not in by_id:
                raise ValueError(f"{split_csv} names {row['image_id']}, which labels.csv lacks")
            splits[row["split"]].append(by_id[row["image_id"]])
    return splits
