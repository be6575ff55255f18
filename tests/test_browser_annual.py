"""The annual report from the dashboard, in headless Debian Chromium: a county officer finds the
button, downloads the PDF of their county and school year, and it holds nothing of another county."""
import io

import pytest

from evaluation.services.framework import load_framework
from tests.support.browser import ARTIFACTS, BROWSER, assert_clean, browser_page, download, login  # noqa: F401 (fixture)
from tests.test_reports import load_area

pytestmark = BROWSER


@pytest.fixture
def results(world):
    load_framework()
    load_area("3708")
    return world


def test_a_county_officer_downloads_the_annual_report_from_the_dashboard(browser_page, live_server, results):
    from pypdf import PdfReader

    page, base = browser_page, live_server.url
    login(page, base, "x_370881")
    page.goto(f"{base}/dashboard/")
    button = page.locator("#annual-report")
    assert button.inner_text() == "年度报告"
    page.screenshot(path=str(ARTIFACTS / "dashboard-annual-report-button.png"))
    name, content = download(page, "#annual-report")
    assert name.startswith("annual-report-370881-") and name.endswith(".pdf") and content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "曲阜市" in text and "年度报告" in text and "邹城" not in text and "370883" not in text
    assert_clean(page, base)
