"""The inspectors' form on a phone: no sideways scrolling, the judgment inputs before the computed
data (folded), and no verdict word broken across lines — at 360×640 and 390×844. Screenshots go
to test-artifacts/ (look at them)."""
import pytest

from tests.test_browser import ARTIFACTS, browser_page, login  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

# For every element showing a short word (a verdict, a status, a level, a navigation link): the
# number of distinct lines its text occupies.
LINES_OF_SHORT_WORDS = """() => {
  const out = [];
  const els = document.querySelectorAll('.verdict, .status, .levels label, .topbar nav a, .topbar .who, th');
  for (const el of els) {
    const text = el.innerText.trim();
    if (!text || text.length > 8) continue;
    // Only the text, not a radio button beside it: one rectangle per line of each text node.
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const tops = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) {
        if (r.width > 0 && !tops.some(t => Math.abs(t - r.top) < 6)) tops.push(r.top);
      }
    }
    out.push([text, tops.length]);
  }
  return out;
}"""


@pytest.mark.parametrize("width,height", [(360, 640), (390, 844)])
def test_the_form_fits_a_phone_and_breaks_no_verdict_word(browser_page, live_server, world, width, height):
    from evaluation.services.forms import assign_team, create_round
    from evaluation.services.framework import load_framework
    from tests.factories import UserFactory
    from townships.models import Role

    framework = load_framework()
    rnd = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=["370881109"], created_by=world.user("province"))
    lead = UserFactory(username="insp_lead", role=Role.INSPECTOR, unit_id="37", first_name="陈刚")
    form = assign_team(round=rnd, township_code="370881109", inspectors=[lead], lead=lead)

    page, base = browser_page, live_server.url
    page.set_viewport_size({"width": width, "height": height})
    login(page, base, "insp_lead")
    page.goto(f"{base}/data/inspect/{form.pk}/")
    page.wait_for_selector("#judgments")
    # The header is compact: the brand and one line of navigation.
    assert page.locator("header.topbar").bounding_box()["height"] < 100
    assert "陈刚" in page.locator(".topbar .who").inner_text()
    # The judgment inputs come before the computed data, which is folded.
    order = page.evaluate("""() => { const s = document.querySelector('fieldset.judgment'); const d = document.querySelector('details.data');
      return [!!s, !!d, d ? !d.open : null]; }""")
    assert order[0] and order[1] and order[2]
    sections = page.evaluate("""() => [...document.querySelectorAll('fieldset.judgment')].map(f => {
      const next = f.parentElement.querySelectorAll('details.data'); return next.length; })""")
    assert sections
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("document.documentElement.clientWidth")
    # Open every fold: the computed data's verdicts must not break either.
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("document.documentElement.clientWidth")
    words = page.evaluate(LINES_OF_SHORT_WORDS)
    assert any(t in ("达成", "数据不足", "未达成") for t, _n in words) and any(t.startswith("数据不足") or t.startswith("达成") for t, _n in words)
    broken = [(t, n) for t, n in words if n > 1]
    assert broken == [], broken
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = false)")
    page.screenshot(path=str(ARTIFACTS / f"inspector-form-{width}x{height}.png"), full_page=False)
    page.screenshot(path=str(ARTIFACTS / f"inspector-form-{width}x{height}-full.png"), full_page=True)
    assert page.console_errors == []
