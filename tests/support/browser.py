"""Headless Debian Chromium through Playwright, for the browser tests: the marks that skip them
without Chromium, the page fixture (every request and console error recorded), logging in, and
the checks and downloads several pages' tests share."""
import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", settings.BASE_DIR / "test-artifacts"))

# A browser test module's `pytestmark`.
BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed (.ci/run installs it)"),
]


@pytest.fixture
def browser_page(live_server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself between page actions are still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        page = context.new_page()
        page.requests_seen = []
        page.console_errors = []
        page.on("request", lambda r: page.requests_seen.append(r.url))
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        yield page
        context.close()
        browser.close()


def login(page, base, username, password="pw-for-tests-1"):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def assert_clean(page, base):
    """Nothing left the test server and the console stayed clean."""
    host = urlparse(base).netloc
    outside = [u for u in page.requests_seen if urlparse(u).scheme in ("http", "https") and urlparse(u).netloc != host]
    assert outside == [], outside
    assert page.console_errors == []


def download(page, selector):
    with page.expect_download() as info:
        page.click(selector)
    path = info.value.path()
    with open(path, "rb") as f:
        return info.value.suggested_filename, f.read()
