"""Lesion-level split: no lesion in two splits, every class in every split, same split every time."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from hygeia.dermatology.dataset import CLASSES, LesionImage, age_band, lesion_split, read_labels


def records(per_class: dict[str, int], images_per_lesion: int = 1) -> list[LesionImage]:
    rows = []
    for dx, n in per_class.items():
        for i in range(n):
            for k in range(images_per_lesion):
                rows.append(
                    LesionImage(
                        f"{dx}_{i}_{k}", dx, f"L_{dx}_{i}", "histo", 50.0, "female", "back", Path("x")
                    )
                )
    return rows


def test_split_is_by_lesion_and_stratified():
    rows = records({"nv": 400, "mel": 60, "df": 20, "vasc": 20}, images_per_lesion=2)
    splits = lesion_split(rows, seed=1)
    lesions = {name: {r.lesion_id for r in part} for name, part in splits.items()}
    assert not (
        lesions["train"] & lesions["val"]
        or lesions["train"] & lesions["test"]
        or lesions["val"] & lesions["test"]
    )
    assert sum(len(p) for p in splits.values()) == len(rows)
    for name in ("val", "test"):
        counts = Counter(r.dx for r in splits[name])
        assert counts["nv"] == 2 * 60 and counts["mel"] == 2 * 9 and counts["df"] == 2 * 3


def test_split_is_deterministic_and_seeded():
    rows = records({"nv": 100, "bcc": 30})
    ids = lambda s: [r.image_id for r in lesion_split(rows, seed=s)["test"]]  # noqa: E731
    assert ids(7) == ids(7)
    assert ids(7) != ids(8)


def test_fractions_must_sum_to_one():
    with pytest.raises(ValueError, match="sum"):
        lesion_split(records({"nv": 10}), fractions=(0.5, 0.2, 0.2))


def test_age_bands():
    assert [age_band(a) for a in (None, 5, 30, 44.9, 45, 60, 74, 75, 90)] == [
        "unknown", "<30", "30-44", "30-44", "45-59", "60-74", "60-74", "75+", "75+",
    ]  # fmt: skip


def test_read_labels_keeps_the_training_pool_and_requires_images(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "ISIC_1.jpg").write_bytes(b"\xff\xd8\xff")
    header = "image_id,dx,split,lesion_id,dx_type,age,sex,localization\n"
    rows = "ISIC_1,mel,ham10000_train,HAM_1,histo,,,\nISIC_2,nv,isic2018_test,HAM_2,histo,40,male,back\n"
    (tmp_path / "labels.csv").write_text(header + rows)
    [record] = read_labels(tmp_path)
    assert (record.dx, record.age, record.sex, record.localization) == ("mel", None, "unknown", "unknown")
    assert record.label == CLASSES.index("mel")
    (tmp_path / "labels.csv").write_text(
        header + rows.replace("ISIC_2,nv,isic2018_test", "ISIC_2,nv,ham10000_train")
    )
    with pytest.raises(FileNotFoundError, match="ISIC_2"):
        read_labels(tmp_path)


def test_missing_labels_file_says_where_to_point(tmp_path):
    with pytest.raises(FileNotFoundError, match="data-dir"):
        read_labels(tmp_path)


def test_holdout_source_split_tests_on_the_held_out_source_only():
    from hygeia.dermatology.dataset import holdout_source_split

    rows = records({"nv": 200, "mel": 40, "bkl": 40})
    sources = {r.image_id: ("rosendahl" if i % 4 == 0 else "vidir_modern") for i, r in enumerate(rows)}
    splits = holdout_source_split(rows, sources, "rosendahl", seed=3)
    assert {sources[r.image_id] for r in splits["test"]} == {"rosendahl"}
    assert all(sources[r.image_id] == "vidir_modern" for r in splits["train"] + splits["val"])
    assert len(splits["test"]) == 70 and len(splits["train"]) + len(splits["val"]) == 210
    with pytest.raises(ValueError, match="sources present"):
        holdout_source_split(rows, sources, "vienna_dermatology")
