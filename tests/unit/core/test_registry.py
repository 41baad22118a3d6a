"""Model registry: hash verification, tamper refusal, no pickle, promote and rollback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hygeia.core.errors import Conflict
from hygeia.core.registry import (
    SERVED_SETTINGS,
    SETTINGS_ENTRY,
    ModelIntegrityError,
    get_registry,
    verify_folder,
    write_card,
)


def make_model(root: Path, version: str, weights: str = '{"coef": [0.5, -1.25]}') -> Path:
    folder = root / "logit" / version
    folder.mkdir(parents=True)
    (folder / "weights.json").write_text(weights)
    (folder / "MODEL_CARD.md").write_text("# human notes are not hashed\n")
    write_card(folder, {"name": "logit", "version": version, "task": "test fixture"})
    return folder


def test_card_lists_sha256_of_each_artifact(tmp_path):
    card = verify_folder(make_model(tmp_path, "1.0.0"))
    assert list(card["artifacts"]) == ["weights.json"]
    assert len(card["sha256"]) == 64


def test_tampered_artifact_is_refused_with_clear_error(platform, tmp_path):
    folder = make_model(tmp_path, "1.0.0")
    get_registry().register(folder)
    get_registry().promote("logit", "1.0.0")
    assert get_registry().load("logit").card["task"] == "test fixture"
    (folder / "weights.json").write_text('{"coef": [9.9, 9.9]}')
    with pytest.raises(ModelIntegrityError, match=r"weights\.json.*was modified; refusing to load it"):
        get_registry().load("logit")


def test_card_edit_that_relists_hashes_is_still_detected(platform, tmp_path):
    folder = make_model(tmp_path, "1.0.0")
    get_registry().register(folder)
    get_registry().promote("logit", "1.0.0")
    (folder / "weights.json").write_text('{"coef": [9.9, 9.9]}')
    write_card(folder, {"name": "logit", "version": "1.0.0", "task": "test fixture"})  # attacker re-signs
    with pytest.raises(ModelIntegrityError, match="differ from the registered version"):
        get_registry().load("logit")


def _settled_model(root: Path, version: str = "1.0.0") -> Path:
    """A card whose own values set answers: a threshold and a blend weight, named as served settings."""
    folder = root / "logit" / version
    folder.mkdir(parents=True)
    (folder / "weights.json").write_text('{"coef": [0.5]}')
    card = {"name": "logit", "version": version, "serving": {"threshold": 0.35, "weight": 0.4, "note": "x"}}
    write_card(folder, {**card, SERVED_SETTINGS: ["serving.threshold", "serving.weight"]})
    return folder


def _edit_card(folder: Path, edit) -> None:  # type: ignore[no-untyped-def]
    card = json.loads((folder / "card.json").read_text())
    edit(card)
    (folder / "card.json").write_text(json.dumps(card))


def test_an_edited_served_setting_is_refused_like_an_edited_file(tmp_path):
    folder = _settled_model(tmp_path)
    card = verify_folder(folder)
    assert set(card["artifacts"]) == {"weights.json", SETTINGS_ENTRY}
    _edit_card(folder, lambda c: c["serving"].update(note="documentation may change"))
    verify_folder(folder)
    _edit_card(folder, lambda c: c["serving"].update(threshold=0.5))
    with pytest.raises(ModelIntegrityError, match=r"served settings .* were edited"):
        verify_folder(folder)


def test_dropping_the_served_settings_is_refused(tmp_path):
    folder = _settled_model(tmp_path)
    _edit_card(folder, lambda c: c.pop(SERVED_SETTINGS))
    with pytest.raises(ModelIntegrityError, match="served settings"):
        verify_folder(folder)


def test_a_re_signed_setting_changes_the_identity_the_registry_holds(platform, tmp_path):
    folder = _settled_model(tmp_path)
    sha = get_registry().register(folder).sha256
    get_registry().promote("logit", "1.0.0")
    card = json.loads((folder / "card.json").read_text())
    card["serving"]["weight"] = 0.9
    assert write_card(folder, card)["sha256"] != sha  # an attacker re-signs the card
    with pytest.raises(ModelIntegrityError, match="differ from the registered version"):
        get_registry().load("logit")


def test_a_served_setting_the_card_lacks_is_refused_when_written(tmp_path):
    folder = tmp_path / "logit" / "1.0.0"
    folder.mkdir(parents=True)
    (folder / "weights.json").write_text("{}")
    with pytest.raises(ValueError, match="lacks its served settings"):
        write_card(folder, {"name": "logit", "version": "1.0.0", SERVED_SETTINGS: ["serving.threshold"]})


def test_pickle_artifacts_are_refused(tmp_path):
    folder = tmp_path / "bad" / "1"
    folder.mkdir(parents=True)
    (folder / "model.pkl").write_bytes(b"\x80\x04N.")
    with pytest.raises(ModelIntegrityError, match="execute code"):
        write_card(folder, {"name": "bad", "version": "1"})
    (folder / "model.pkl").unlink()
    (folder / "ok.json").write_text("{}")
    card = write_card(folder, {"name": "bad", "version": "1"})
    card["artifacts"]["model.pkl"] = "0" * 64
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelIntegrityError, match="execute code"):
        verify_folder(folder)


def test_path_escape_in_card_is_refused(tmp_path):
    folder = make_model(tmp_path, "1.0.0")
    card = json.loads((folder / "card.json").read_text())
    card["artifacts"]["../../../etc/passwd"] = "0" * 64
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelIntegrityError, match="escapes"):
        verify_folder(folder)


def test_promote_and_rollback(platform, tmp_path):
    registry = get_registry()
    for version in ("1.0.0", "1.1.0"):
        registry.register(make_model(tmp_path, version, weights=f'{{"v": "{version}"}}'))
    registry.promote("logit", "1.0.0")
    registry.promote("logit", "1.1.0")
    assert registry.load("logit").version == "1.1.0"
    assert {r.version: r.stage for r in registry.versions("logit")} == {
        "1.0.0": "archived",
        "1.1.0": "production",
    }
    assert registry.rollback("logit").version == "1.0.0"
    assert registry.load("logit").version == "1.0.0"
    with pytest.raises(Conflict, match="no earlier production version") as refused:
        registry.rollback("logit")
    assert refused.value.status == 409


def test_registering_same_version_with_other_artifacts_conflicts(platform, tmp_path):
    get_registry().register(make_model(tmp_path / "a", "1.0.0"))
    with pytest.raises(Conflict, match="different artifacts") as refused:
        get_registry().register(make_model(tmp_path / "b", "1.0.0", weights='{"other": 1}'))
    assert (refused.value.status, refused.value.title) == (409, "Version exists")


def test_versions_sort_by_pep440_even_when_mixed():
    from hygeia.core.registry import version_sort_key

    mixed = ["1.10.0", "1.0.0", "1.0.rc1", "2.0.0", "1.2.0", "nightly"]
    assert sorted(mixed, key=version_sort_key) == ["nightly", "1.0.rc1", "1.0.0", "1.2.0", "1.10.0", "2.0.0"]


def test_newest_version_folder_ignores_folders_without_a_card(tmp_path):
    from hygeia.core.registry import newest_version_folder

    assert newest_version_folder(tmp_path / "logit") is None
    make_model(tmp_path, "1.0.rc1")
    make_model(tmp_path, "1.0.0")
    (tmp_path / "logit" / "9.9.9").mkdir()  # no card: not a model
    assert newest_version_folder(tmp_path / "logit") == tmp_path / "logit" / "1.0.0"


def test_an_unchanged_artifact_is_hashed_once_and_a_rewritten_one_again(tmp_path, monkeypatch):
    import os

    from hygeia.core import registry

    folder = make_model(tmp_path, "1.0.0")
    weights = folder / "weights.json"
    old = 1_600_000_000
    os.utime(weights, (old, old))  # mtime in the past; ctime is now, so the first hashes are "racy"
    monkeypatch.setattr(registry, "_RACY_NS", 0)  # trust a hash as soon as the ctime predates it
    hashed: list[Path] = []
    real = registry.file_sha256
    monkeypatch.setattr(registry, "file_sha256", lambda p: hashed.append(p) or real(p))
    verify_folder(folder)
    verify_folder(folder)
    assert hashed.count(weights.resolve()) == 1  # served every request: hashed once per process

    weights.write_text(weights.read_text().replace("0.5", "0.7"))  # same size, new content
    with pytest.raises(ModelIntegrityError, match="modified"):
        verify_folder(folder)
