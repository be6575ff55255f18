"""The portal as a person sees it: headless Debian Chromium through Playwright.

Screenshots go to test-artifacts/ (look at them); every request must stay on the test server and
the console must stay clean.
"""
import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings

from townships.models import School

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", settings.BASE_DIR / "test-artifacts"))

pytestmark = [
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


def test_county_officer_sees_own_area_in_chinese(browser_page, live_server, world):
    page, base = browser_page, live_server.url
    page.goto(f"{base}/accounts/login/")
    assert page.locator("h1").inner_text() == "登录"
    page.screenshot(path=str(ARTIFACTS / "login.png"), full_page=True)

    login(page, base, "x_370881")
    page.wait_for_selector("#fig-schools")
    assert page.locator("h1").inner_text() == "我的辖区"
    assert "曲阜市" in page.locator(".area").inner_text()
    shown = int(page.locator("#fig-schools").inner_text())
    assert shown == School.objects.filter(township__code__startswith="370881").count() == len(world.schools["370881"])
    page.screenshot(path=str(ARTIFACTS / "home-county.png"), full_page=True)

    page.goto(f"{base}/admin/townships/school/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == len(world.schools["370881"])
    text = page.locator("#result_list").inner_text()
    assert all(s.code in text for s in world.schools["370881"])
    assert not any(s.code in text for s in world.schools["370883"])
    assert page.locator("#site-name").inner_text() == "教育强镇筑基 管理后台"
    page.screenshot(path=str(ARTIFACTS / "admin-schools-county.png"), full_page=True)

    host = urlparse(base).netloc
    assert all(urlparse(u).netloc == host for u in page.requests_seen if u.startswith("http")), page.requests_seen
    assert page.console_errors == []


def test_provincial_staff_home(browser_page, live_server, world):
    page, base = browser_page, live_server.url
    login(page, base, "p_staff")
    page.wait_for_selector("#fig-programme")
    assert page.locator("#fig-programme").inner_text() == "1129"
    assert "首批" in page.locator("table.grid").inner_text()
    page.screenshot(path=str(ARTIFACTS / "home-province.png"), full_page=True)
    assert page.console_errors == []
