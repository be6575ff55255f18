"""A survey window's whole life in a browser: the county opens it and prints the slips, parents
answer on a phone-sized screen (390×844), a double submit from two tabs, a closed window and a
foreign code count nothing, and the township's figures equal the hand count."""
from datetime import timedelta

import pytest
from django.utils import timezone

from evaluation.models import TownshipYear
from surveys.models import Answer, SurveyWindow
from surveys.services.questionnaires import load_questionnaires
from surveys.services.windows import open_window
from tests.conftest import snapshot
from tests.test_browser import ARTIFACTS, CHROMIUM, login
from townships.jurisdiction import resolve_jurisdiction

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not __import__("shutil").which(CHROMIUM), reason="Debian chromium is not installed")]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        yield chromium
        chromium.close()


def _watch(page):
    page.requests_seen, page.console_errors = [], []
    page.on("request", lambda r: page.requests_seen.append(r.url))
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    return page


def _answer(page, overall):
    for n, choice in ((1, overall), (2, "满意"), (3, "一般"), (4, "满意"), (5, "非常满意"), (6, "满意")):
        page.check(f'input[name="q{n}"][value="{choice}"]')


def test_a_survey_windows_whole_life(browser, live_server, world, monkeypatch):
    from django.core.cache import cache

    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # counting in-process, as on the embedded default
    cache.clear()
    base = live_server.url
    load_questionnaires()
    school = world.schools["370881"][0]
    officer_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    officer = _watch(officer_ctx.new_page())
    login(officer, base, "x_370881")
    officer.goto(f"{base}/surveys/new/?township={school.township_id}")
    officer.select_option("select[name=questionnaire]", label="家长满意度调查问卷（2021）（家长）")
    now = timezone.localtime()
    officer.fill("input[name=opens_at]", (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    officer.fill("input[name=closes_at]", (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    officer.fill(f"input[name=target_{school.pk}]", "6")
    officer.click("text=创建调查并生成答题码")
    officer.wait_for_selector("#fig-issued")
    assert officer.locator("#fig-issued").inner_text() == "6"
    window = SurveyWindow.objects.get()
    codes = list(window.codes.order_by("id").values_list("code", flat=True))
    officer.goto(f"{base}/surveys/{window.pk}/slips/")
    assert officer.locator(".slip").count() == 6 and officer.locator(".slip svg").count() == 6
    officer.screenshot(path=str(ARTIFACTS / "survey-slips.png"), full_page=True)

    # Parents on phones: a small page in Chinese, nothing from elsewhere, no script.
    phone_ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
    hand = {"valid": 0, "satisfied": 0}
    for i, overall in enumerate(["非常满意", "满意", "一般"]):
        phone = _watch(phone_ctx.new_page())
        phone.goto(f"{base}/s/{codes[i]}/")
        assert phone.locator("h1").inner_text() == "家长满意度调查问卷（2021）"
        assert phone.locator("script").count() == 0
        _answer(phone, overall)
        if i == 0:
            phone.screenshot(path=str(ARTIFACTS / "survey-phone-form.png"), full_page=True)
        phone.click("button[type=submit]")
        phone.wait_for_selector("text=感谢您的参与")
        hand["valid"] += 1
        hand["satisfied"] += overall in ("非常满意", "满意")
        if i == 0:
            phone.screenshot(path=str(ARTIFACTS / "survey-phone-thanks.png"))
            # Fits the phone: nothing wider than the screen.
            assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        host = base.split("//")[1]
        assert all(u.split("//")[1].startswith(host) for u in phone.requests_seen if u.startswith("http")), phone.requests_seen
        assert not phone.console_errors, phone.console_errors
        phone.close()

    # An unanswered question: shown again, marked, the code not spent.
    phone = _watch(phone_ctx.new_page())
    phone.goto(f"{base}/s/{codes[3]}/")
    phone.check('input[name="q1"][value="满意"]')
    phone.click("button[type=submit]")
    assert "题未作答" in phone.locator(".error").inner_text() and phone.locator("fieldset.missing").count() == 5
    phone.screenshot(path=str(ARTIFACTS / "survey-phone-missing.png"), full_page=True)

    # Two tabs, one code: the first counts, the second gets a clear page and counts nothing.
    tab_a, tab_b = _watch(phone_ctx.new_page()), _watch(phone_ctx.new_page())
    for tab in (tab_a, tab_b):
        tab.goto(f"{base}/s/{codes[4]}/")
        _answer(tab, "满意")
    tab_a.click("button[type=submit]")
    tab_a.wait_for_selector("text=感谢您的参与")
    hand["valid"] += 1
    hand["satisfied"] += 1
    before = snapshot(Answer)
    tab_b.click("button[type=submit]")
    assert "已经提交过" in tab_b.locator(".error").inner_text()
    tab_b.screenshot(path=str(ARTIFACTS / "survey-phone-spent.png"))
    assert snapshot(Answer) == before

    # Another township's code typed under this window's prefix: unknown, nothing counted.
    other = world.schools["370883"][0]
    other_officer = world.user("county_370883")
    foreign = open_window(user=other_officer, jurisdiction=resolve_jurisdiction(other_officer), township_code=other.township_id,
                          questionnaire=window.questionnaire, period=window.period, opens_at=timezone.now() - timedelta(minutes=5),
                          closes_at=timezone.now() + timedelta(days=1), targets={other.pk: 2})
    foreign_code = foreign.codes.first().code
    phone.goto(f"{base}/s/{window.prefix}{foreign_code[3:]}/")
    assert "答题码不存在" in phone.locator(".error").inner_text()

    # The county closes the window: the next code gets a clear page, nothing counted.
    officer.goto(f"{base}/surveys/{window.pk}/")
    officer.click("text=立即结束调查")
    officer.wait_for_selector("text=调查已结束")
    before = snapshot(Answer, TownshipYear)
    phone.goto(f"{base}/s/{codes[5]}/")
    assert "已结束" in phone.locator(".error").inner_text()
    phone.screenshot(path=str(ARTIFACTS / "survey-phone-closed.png"))
    assert snapshot(Answer, TownshipYear) == before

    # Counted: the township's year holds the hand count, marked as collected in the portal.
    officer.click("text=立即统计")
    officer.wait_for_selector("text=已统计")
    row = TownshipYear.objects.get(township_id=school.township_id, period=window.period)
    assert (row.parent_surveys_issued, row.parent_surveys_valid, row.parents_satisfied, row.parent_surveys_collected) == (6, hand["valid"], hand["satisfied"], True)
    assert officer.locator("#fig-valid").inner_text() == str(hand["valid"])
    officer.screenshot(path=str(ARTIFACTS / "survey-county-results.png"), full_page=True)
    assert not officer.console_errors, officer.console_errors
