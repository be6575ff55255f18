"""通报 and 约谈 as provincial staff do them in a browser, and the county reading its record."""
import pytest

from tests.test_browser import ARTIFACTS, browser_page, login  # noqa: F401  (fixture)
from workflow.models import Notice, RectificationItem, Talk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_province_issues_a_notice_records_a_talk_and_the_county_reads_its_record(browser_page, live_server, world):
    page, base = browser_page, live_server.url
    town = world.schools["370881"][0].township_id
    login(page, base, world.user("province").username)
    page.goto(f"{base}/workflow/accountability/")
    form = page.locator("#notice-form")
    form.locator("input[name=title]").fill("关于整改工作滞后的通报")
    form.locator("textarea[name=body]").fill("曲阜市整改工作滞后，予以通报。")
    form.locator("input[name=counties]").fill("370881")
    form.locator("input[name=issued_on]").fill("2026-03-02")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "/workflow/notices/" in page.url, page.locator(".messages").inner_text()
    notice = Notice.objects.get()
    assert notice.number in page.locator("#number").inner_text()
    page.goto(f"{base}/workflow/accountability/?year=2026")
    talk = page.locator("#talk-form")
    talk.locator("select[name=county]").select_option("370881")
    talk.locator("input[name=held_on]").fill("2026-04-01")
    talk.locator("input[name=talked_to]").fill("曲阜市教育局局长")
    talk.locator("textarea[name=minutes]").fill("限期整改。")
    talk.locator("input[name=notice]").fill(str(notice.pk))
    talk.locator("textarea[name=commitments]").fill(f"{town} | 三个月内完成校园文化建设 | 2026-07-01")
    talk.locator("button[type=submit]").click()
    page.wait_for_url("**/workflow/talks/*/")
    assert Talk.objects.count() == 1 and RectificationItem.objects.filter(talk__isnull=False).count() == 1
    page.goto(f"{base}/workflow/accountability/?year=2026")
    page.screenshot(path=str(ARTIFACTS / "accountability.png"), full_page=True)
    page.context.clear_cookies()
    login(page, base, world.user("county_370881").username)
    page.goto(f"{base}/workflow/counties/370881/record/")
    assert notice.number in page.locator("#record-notices").inner_text()
    assert "曲阜市教育局局长" in page.locator("#record-talks").inner_text()
    assert "三个月内完成校园文化建设" in page.locator("#record-talks").inner_text()  # the commitment, now an item
    page.screenshot(path=str(ARTIFACTS / "county_record.png"), full_page=True)
    assert page.console_errors == []
