"""The first admin key can come from the operator's secret store and is then never printed."""

from __future__ import annotations

import pytest

from hygeia.core import auth
from hygeia.core.bootstrap import bootstrap
from hygeia.core.errors import ProblemError
from tests.conftest import reset_caches

SUPPLIED = "hyg_" + "k" * 43


def test_a_supplied_bootstrap_key_is_registered_and_never_returned(tmp_path, monkeypatch):
    monkeypatch.setenv("HYGEIA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HYGEIA_BOOTSTRAP_ADMIN_KEY", SUPPLIED)
    reset_caches()
    result = bootstrap(register_models=False)
    assert result.admin_key is None and result.supplied_key_prefix == SUPPLIED[:12]
    principal = auth.authenticate(SUPPLIED)
    assert (principal.tenant_id, principal.role) == ("platform", "admin")
    again = bootstrap(register_models=False)  # an admin exists: nothing new, nothing printed
    assert again.admin_key is None and again.supplied_key_prefix is None
    reset_caches()


def test_a_weak_supplied_key_is_refused(platform):
    with pytest.raises(ProblemError, match="40"):
        auth.create_api_key("platform", "admin", "weak", plaintext="hyg_short")
    with pytest.raises(ProblemError):
        auth.create_api_key("platform", "admin", "foreign", plaintext="x" * 60)
