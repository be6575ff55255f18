"""Field verification on a phone: the inspector records the value found on site with a photo on
the form page, without sideways scrolling; the discrepancy and the finding are shown. Screenshots
go to test-artifacts/ (look at them)."""
import pytest

from tests.test_browser import ARTIFACTS, browser_page, login  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 100


def test_an_inspector_records_a_verified_value_on_a_phone(browser_page, live_server, world, tmp_path):
    from evaluation.models import DataQualityFinding, InspectionForm, VerificationItem
    from evaluation.rollup import rollup_all
    from evaluation.services.demo import load_demo_facts
    from evaluation.services.forms import assign_team, create_round
    from evaluation.services.framework import load_framework
    from evaluation.services.verification import draw_sample
    from townships.models import Division
    from townships.services.demo import load_demo_schools

    framework = load_framework()
    load_demo_schools(province_prefix="370881", villages_per_township=1)
    load_demo_facts(province_prefix="370881", periods=(2024,))
    town = Division.objects.filter(parent_id="370881", kind="town").order_by("code").first().code
    rnd = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=[town], created_by=world.user("province"))
    assign_team(round=rnd, township_code=town, inspectors=[world.user("inspector_a")], lead=world.user("inspector_a"))
    rollup_all(period=2024, prefix="370881")
    draw_sample(round=rnd, user=world.user("province"), seed="phone", per_township=4)
    item = VerificationItem.objects.filter(township_id=town, field="students").first() or VerificationItem.objects.filter(township_id=town).first()
    form = InspectionForm.objects.get(round=rnd, township_id=town)
    photo = tmp_path / "register.png"
    photo.write_bytes(PNG)

    page, base = browser_page, live_server.url
    page.set_viewport_size({"width": 360, "height": 640})
    login(page, base, "insp_a")
    page.goto(f"{base}/data/inspect/{form.pk}/#verify-{item.pk}")
    block = page.locator(f"#verify-{item.pk}")
    block.wait_for()
    assert page.locator("#verification form.verify-item").count() == 4
    far = "0" if item.reported > 1 else "1"
    block.locator("input[name=value]").fill(far)
    block.locator("input[name=file]").set_input_files(str(photo))
    block.locator("button[type=submit]").click()
    page.wait_for_selector(f"#verify-{item.pk} .verified")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("document.documentElement.clientWidth")
    page.locator(f"#verify-{item.pk}").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "verification-phone.png"))
    assert page.locator(f"#verify-{item.pk} .finding").count() == 1
    assert DataQualityFinding.objects.filter(item=item).count() == 1
    # The province's overview: the county's finding counted and listed.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.context.clear_cookies()
    login(page, base, "p_staff")
    page.goto(f"{base}/data/verification/")
    page.wait_for_selector("#verification-counts")
    assert page.locator("#verification-counts tr[data-county='370881'] .findings").inner_text() == "1"
    assert page.locator("#findings tbody tr").count() == 1
    page.screenshot(path=str(ARTIFACTS / "verification-province.png"), full_page=True)
