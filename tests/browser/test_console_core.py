"""Sign in, dashboard, sign out, role gating and administration, in a real browser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    assert_accessible,
    assert_no_horizontal_overflow,
    login,
    screenshot,
)
from tests.conftest import Platform

pytestmark = pytest.mark.browser


def test_sign_in_dashboard_and_sign_out(page: Any, platform: Platform) -> None:
    page.goto("/")
    assert "/login" in page.url  # signed out: sent to the login page
    page.get_by_label("API key").fill("hyg_not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    assert "unknown API key" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    screenshot(page, "login-error")

    login(page, platform.admin_key)
    page.get_by_role("heading", name="Dashboard").wait_for()
    cards = page.locator("#capabilities li")
    assert cards.count() >= 5
    signals = page.locator('[data-capability="signals"]')
    assert "available" in signals.inner_text()
    for card in cards.all():  # an unavailable capability always says why
        if "unavailable" in card.locator(".badge").inner_text():
            assert card.locator(".reason").inner_text().strip()
    assert page.get_by_role("link", name="Admin").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "hygeia_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # scripts cannot read the session
    assert_no_horizontal_overflow(page)
    assert_accessible(page)
    screenshot(page, "dashboard")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login**")
    page.goto("/admin")
    assert "/login" in page.url


def test_keyboard_reaches_navigation_and_skip_link(page: Any, platform: Platform) -> None:
    login(page, platform.admin_key)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_viewer_sees_no_admin_and_cannot_run(page: Any, make_key) -> None:
    login(page, make_key("acme", "viewer"))
    assert page.get_by_role("link", name="Admin").count() == 0
    response = page.goto("/admin")
    assert response is not None and response.status == 403
    assert "needs the admin role" in page.get_by_role("alert").inner_text()
    page.goto("/signals")
    assert page.get_by_role("button", name="Score").is_disabled()
    assert "viewer" in page.get_by_role("note").inner_text()


def _tiny_model(root: Path, version: str) -> Path:
    """A real registrable model folder (one JSON artifact), to exercise promote and rollback."""
    from hygeia.core.registry import write_card

    folder = root / "console-test" / version
    folder.mkdir(parents=True)
    (folder / "weights.json").write_text(json.dumps({"bias": float(version.split(".")[1])}))
    write_card(
        folder,
        {
            "name": "console-test",
            "version": version,
            "task": "registry round trip in the browser tests",
            "intended_use": "tests only",
            "limitations": ["not a model of anything"],
            "metrics": {"accuracy": None},
        },
    )
    return folder


def test_admin_registry_promote_rollback_jobs_audit_keys(
    page: Any, platform: Platform, tmp_path: Path
) -> None:
    from hygeia.core.registry import get_registry

    for version in ("1.0.0", "1.1.0"):
        get_registry().register(_tiny_model(tmp_path, version))
    get_registry().promote("console-test", "1.0.0")
    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() before promote/rollback
    login(page, platform.admin_key, "/admin")

    page.get_by_role("button", name="Card of console-test 1.1.0").click()
    card = page.locator("#model-card")
    card.get_by_text("registry round trip in the browser tests").wait_for()
    assert "weights.json" in card.text_content()  # listed in a closed <details>

    page.get_by_role("button", name="Promote console-test 1.1.0").click()
    page.locator("#models .notice").get_by_text("console-test 1.1.0 is now in production").wait_for()
    row = page.locator('#models tr[data-model="console-test"][data-version="1.1.0"]')
    assert row.locator(".stage").inner_text() == "production"

    page.get_by_role("button", name="Roll back console-test").click()
    page.locator("#models .notice").get_by_text("1.0.0 is in production again").wait_for()
    page.get_by_role("button", name="Roll back console-test").click()  # nothing earlier: a 409, shown
    problem = page.locator("#models .problem")
    problem.wait_for()
    assert "has no earlier production version" in problem.inner_text()

    page.get_by_role("button", name="Verify every registered model (integrity job)").click()
    page.locator('#jobs tr[data-job-status="succeeded"]').first.wait_for()
    assert "all artifacts verified" in page.locator("#jobs").inner_text()

    page.get_by_label("Key name").fill("console test viewer")
    page.get_by_label("Role").select_option("viewer")
    page.get_by_role("button", name="Create key").click()
    assert page.locator("#new-key").inner_text().startswith("hyg_")

    page.get_by_label("Action").fill("model.promote")
    page.get_by_role("button", name="Filter").click()
    page.locator("#audit td", has_text="model.promote").first.wait_for()
    assert "model.rollback" not in page.locator("#audit").inner_text()
    assert_no_horizontal_overflow(page)
    assert_accessible(page)
    screenshot(page, "admin")


def test_expired_session_sends_htmx_actions_to_login(page: Any, platform: Platform) -> None:
    login(page, platform.admin_key, "/admin")
    page.context.clear_cookies()  # the session ends while the page is open
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/login?next=/admin**")  # back to the page after signing in, not the fragment
    page.get_by_label("API key").fill(platform.admin_key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Administration").wait_for()
