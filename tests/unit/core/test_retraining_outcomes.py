"""Outcomes as training rows (core): the newest per (input, label) in a tenant, the kept input borrowed
by outcomes of the same input given only by key, tenants kept apart, and a provenance hash."""

from __future__ import annotations

from hygeia.core.auth import Principal
from hygeia.core.outcomes import OutcomeKind, add_outcomes, register_outcome_kind
from hygeia.core.retraining import outcome_ids_sha256, training_outcomes

KIND = OutcomeKind(
    capability="test.assay",
    model_name="test-model",
    family="binary",
    labels=("A", "B"),
    input_key=lambda given: given.strip().upper(),  # the key, e.g. what an InChIKey is to a SMILES
    keep_input=lambda given: None if given.isupper() else given.strip(),  # a key alone keeps nothing
)


def test_newest_outcome_per_input_and_label_with_its_kept_input(platform, make_key) -> None:  # type: ignore[no-untyped-def]
    register_outcome_kind(KIND)
    make_key("lab", "analyst")
    make_key("other", "analyst")
    lab = Principal("lab", "analyst", "test", "standard")
    rows = [
        {"input": "ccO", "label": "A", "observed": 1, "source": "run 1"},
        {"input": "CCO", "label": "A", "observed": 0, "source": "run 2 (correction, by key)"},
        {"input": "CCO", "label": "B", "observed": 1, "source": "run 2"},
        {"input": "NNN", "label": "A", "observed": 1, "source": "run 3 (key only)"},
    ]
    accepted = add_outcomes(lab, "test.assay", rows)
    assert [r.status for r in accepted] == ["accepted"] * 4
    add_outcomes(Principal("other", "analyst", "t", "standard"), "test.assay", [rows[0]])

    chosen = training_outcomes(["lab"], "test.assay")
    assert [(o.input_key, o.label, o.observed, o.input_text) for o in chosen] == [
        ("CCO", "A", "0", "ccO"),  # the correction wins; the structure comes from the first report
        ("CCO", "B", "1", "ccO"),
        ("NNN", "A", "1", None),  # never given as anything but a key: nothing to train on
    ]
    assert {o.tenant_id for o in chosen} == {"lab"}
    both = training_outcomes(["other", "lab"], "test.assay")
    assert len(both) == 4 and outcome_ids_sha256(both) == outcome_ids_sha256(list(reversed(both)))
    assert outcome_ids_sha256(both) != outcome_ids_sha256(chosen)
