"""Browser tests: the real app under uvicorn on a loopback port, driven by headless Debian Chromium.

Needs `apt-get install chromium` and `pip install playwright` (never `playwright install`: the
browser is the system one). Without them the tests skip with the reason, unless
HYGEIA_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, Platform

CHROMIUM = Path(os.environ.get("HYGEIA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
TIMEOUT_MS = 20_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the console in headless Chromium (tests/browser)")


def _unavailable(reason: str) -> None:
    if os.environ.get("HYGEIA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        import axe_playwright_python  # noqa: F401  (axe-core, for the accessibility audits)
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"{exc.name} is not installed (pip install playwright axe-playwright-python)")
    if not CHROMIUM.exists() and not shutil.which(str(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
    finally:
        playwright.stop()


@pytest.fixture
def live_server(platform: Platform) -> Iterator[str]:
    """The same app `hygeia serve` runs, on a free loopback port, in this test's environment."""
    import uvicorn

    from hygeia.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the console server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)
    sock.close()


class PageProblems:
    """Uncaught script errors and CSP violations seen by a page; a test ends with none."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def on_console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(f"CSP: {message.text}")

    def on_page_error(self, error: Any) -> None:
        self.errors.append(f"script error: {error}")


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    problems = PageProblems()
    tab.on("console", problems.on_console)
    tab.on("pageerror", problems.on_page_error)
    yield tab
    context.close()
    assert not problems.errors, "\n".join(problems.errors)


def login(page: Any, key: str, next_path: str = "/") -> None:
    page.goto(f"/login?next={next_path}")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{next_path}")


def screenshot(page: Any, name: str) -> None:
    """Full-page screenshots at desktop and phone width, for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("1280", DESKTOP), ("375", PHONE)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(100)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


WIDEST_ELEMENTS = """
(() => {
  const width = document.documentElement.clientWidth;
  const clipped = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  return [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > width + 1 && !clipped(e))
    .slice(0, 5)
    .map((e) => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`);
})()
"""


def assert_no_horizontal_overflow(page: Any) -> None:
    """At phone width the page itself must not scroll sideways (wide tables scroll in their own box)."""
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(100)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    culprits = page.evaluate(WIDEST_ELEMENTS) if overflow > 1 else []
    page.set_viewport_size(DESKTOP)
    assert overflow <= 1, f"the page is {overflow}px wider than a 375px screen: {culprits}"


def build_evidence_index(tmp_path: Path) -> None:
    """A hybrid index built by the evidence domain's own `build_index` from the small real-format
    corpus its unit tests write (the project ships no data), plus the feedback table if the
    migrations do not create it yet."""
    from hygeia.core.db import get_engine
    from hygeia.core.registry import get_registry
    from hygeia.evidence.runtime import index_dir
    from hygeia.evidence.store import build_index
    from hygeia.evidence.tables import EvidenceFeedback
    from tests.unit.evidence.corpus_fixture import write_corpus

    EvidenceFeedback.__table__.create(get_engine(), checkfirst=True)  # type: ignore[attr-defined]
    encoder = get_registry().load("evidence").path  # the production model's encoder: dense + BM25
    build_index(write_corpus(tmp_path / "evidence-data"), index_dir(), encoder_dir=encoder)


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def assert_accessible(page: Any) -> None:
    """axe-core's WCAG 2.1 A/AA rules (labels, names, contrast, landmarks …) on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert results.response["passes"], "axe-core ran no checks on this page"
    violations = results.response["violations"]
    report = [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:4]}"
        for v in violations
    ]
    assert not violations, "\n".join(report)
