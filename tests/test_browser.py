"""The portal as a person sees it: headless Debian Chromium through Playwright.

Screenshots go to test-artifacts/ (look at them); every request must stay on the test server and
the console must stay clean.
"""
from urllib.parse import urlparse

from tests.support.browser import ARTIFACTS, BROWSER, CHROMIUM, browser_page, login  # noqa: F401 (fixture; names other modules import)
from townships.models import School

pytestmark = BROWSER


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


def test_county_officer_uploads_previews_confirms_and_saves(browser_page, live_server, world, tmp_path):
    from evaluation.imports.service import import_file
    from evaluation.models import SchoolYear
    from tests import import_files as f
    from townships.jurisdiction import resolve_jurisdiction

    officer = world.user("county_370881")
    last_year = [["7370881001", "", 2023, 400, 50, 10, 0.9, "是", "良", 30], ["7370881002", "", 2023, 630, 44, 8, 0.88, "否", "优", 28]]
    import_file(user=officer, jurisdiction=resolve_jurisdiction(officer), data=f.school_year_xlsx(rows=last_year), file_name="2023.xlsx", channel="test", dry_run=False)
    page, base = browser_page, live_server.url
    login(page, base, officer.username)
    page.click("text=学校数据")
    page.wait_for_selector("#upload-form")
    with page.expect_download() as download:
        page.click("text=下载填报模板")
    assert download.value.suggested_filename == "school-data-template-2024.xlsx"

    path = tmp_path / "曲阜2024.xlsx"
    path.write_bytes(f.school_year_xlsx())  # students 400 → 820: implausible
    page.set_input_files("input[name=file]", str(path))
    page.click("text=上传并预览")
    page.wait_for_selector("#counts")
    assert "已预览，待确认" in page.locator("#run-status").inner_text()
    assert page.locator("#flags tbody tr").count() == 1
    assert "400" in page.locator("#flags").inner_text() and "820" in page.locator("#flags").inner_text()
    page.screenshot(path=str(ARTIFACTS / "upload-preview.png"), full_page=True)
    assert SchoolYear.objects.filter(period=2024).count() == 0

    page.fill("#flags input[type=text]", "两校合并，学生数增加")
    page.click("#commit")
    page.wait_for_selector(".status.committed")
    assert "数据已保存" in page.locator(".messages").inner_text()
    page.screenshot(path=str(ARTIFACTS / "upload-committed.png"), full_page=True)
    assert SchoolYear.objects.get(school__code="7370881001", period=2024).students == 820
    assert page.console_errors == []


def test_upload_page_shows_every_error_in_chinese(browser_page, live_server, world, tmp_path):
    from tests import import_files as f

    page, base = browser_page, live_server.url
    login(page, base, "x_370881")
    page.goto(f"{base}/data/")
    rows = [list(r) for r in f.SY_ROWS]
    rows[0][4] = "十二"
    rows[1][0] = "7370883001"
    path = tmp_path / "bad.xlsx"
    path.write_bytes(f.school_year_xlsx(rows=rows))
    page.set_input_files("input[name=file]", str(path))
    page.click("text=上传并预览")
    page.wait_for_selector("#errors")
    text = page.locator("#errors").inner_text()
    assert "第2行「专任教师数」：应为非负整数，实际为「十二」" in text
    assert "第3行「学校标识码」：该学校不存在或不在您的辖区内，实际为「7370883001」" in text
    assert page.locator("#commit").count() == 0
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "upload-errors-phone.png"), full_page=True)


def test_inspector_fills_a_form_on_a_phone_attaches_a_photo_and_submits(browser_page, live_server, world, tmp_path):
    from evaluation.models import Evidence, FormStatus, InspectionForm
    from evaluation.services.forms import assign_team, create_round
    from evaluation.services.framework import load_framework
    from tests.factories import UserFactory
    from townships.models import Role

    framework = load_framework()
    rnd = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=["370881109"], created_by=world.user("province"))
    lead = UserFactory(username="insp_lead", role=Role.INSPECTOR, unit_id="37")
    form = assign_team(round=rnd, township_code="370881109", inspectors=[lead], lead=lead)

    page, base = browser_page, live_server.url
    page.set_viewport_size({"width": 390, "height": 844})
    photo = tmp_path / "课堂照片.png"
    photo.write_bytes(page.screenshot())  # a real PNG, as a phone camera would give a JPEG
    login(page, base, "insp_lead")
    page.get_by_role("link", name="督导评估", exact=True).click()
    page.click("#forms tbody a")
    page.wait_for_selector("#judgments")
    codes = [j.point.code for j in form.judgments.select_related("point")]
    for code in codes:
        page.check(f"input[name='level-{code}'][value='attained']")
    page.fill("textarea[name='comment-2.7']", "课堂教学改革有特色，学生参与度高")
    page.wait_for_selector("#autosave:has-text('已自动保存')")
    page.set_input_files("#point-2\\.7 input[type=file]", str(photo))
    page.click("#point-2\\.7 button.secondary")
    page.wait_for_selector("text=佐证材料已上传")
    assert "课堂照片.png" in page.locator("#point-2\\.7 .evidence").inner_text()
    page.screenshot(path=str(ARTIFACTS / "inspector-form-phone.png"), full_page=False)
    page.click("#submit-form")
    page.wait_for_selector("#form-status.submitted")
    page.screenshot(path=str(ARTIFACTS / "inspector-form-submitted-phone.png"), full_page=False)
    form.refresh_from_db()
    assert form.status == FormStatus.SUBMITTED
    assert form.judgments.get(point__code="2.7").comment == "课堂教学改革有特色，学生参与度高"
    assert Evidence.objects.get().file_name == "课堂照片.png"
    assert not InspectionForm.objects.exclude(pk=form.pk).exists()
    assert page.console_errors == []


def test_api_docs_admin_and_language_switch_run_under_the_content_security_policy(browser_page, live_server, world):
    """No inline script runs (CSP script-src 'self'): Swagger UI loads its set-up from a file, the
    language switch from portal.js; a violation would be a console error."""
    page, base = browser_page, live_server.url
    login(page, base, "p_staff")
    page.wait_for_selector("#fig-programme")
    policy = page.request.get(f"{base}/dashboard/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15000)
    assert "强镇筑基" in page.locator(".swagger-ui .info").inner_text()
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    page.goto(f"{base}/admin/")
    page.wait_for_selector("#site-name")
    page.goto(f"{base}/")
    # The switch submits its form from portal.js: a navigation each time.
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.console_errors == []


def test_provincial_staff_create_accounts_from_a_spreadsheet_and_print_the_passwords(browser_page, live_server, world, tmp_path):
    from tests.test_accounts import GOOD_ROWS, xlsx
    from townships.models import User

    page, base = browser_page, live_server.url
    login(page, base, "p_staff")
    page.goto(f"{base}/accounts/units/")
    assert page.locator("h1").inner_text() == "单位账号"
    bad = tmp_path / "坏的账号.xlsx"
    bad.write_bytes(xlsx([*GOOD_ROWS, ["jn_city_1", "重复的人", "", "市级工作人员", "3708"]]))
    page.set_input_files("input[name=file]", str(bad))
    page.click("main button[type=submit]")
    assert "重复" in page.locator("#account-errors").inner_text()
    page.screenshot(path=str(ARTIFACTS / "accounts-refused.png"), full_page=True)
    assert not User.objects.filter(username__in=[r[0] for r in GOOD_ROWS]).exists()
    good = tmp_path / "账号.xlsx"
    good.write_bytes(xlsx(GOOD_ROWS))
    page.goto(f"{base}/accounts/units/")
    page.set_input_files("input[name=file]", str(good))
    page.click("main button[type=submit]")
    page.wait_for_selector("#issued")
    assert page.locator("#issued tbody tr").count() == 4
    page.screenshot(path=str(ARTIFACTS / "accounts-issued.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=下载 XLSX（仅一次）")
    assert download.value.suggested_filename == "one-time-passwords.xlsx"
    assert User.objects.filter(username__in=[r[0] for r in GOOD_ROWS], must_change_password=True).count() == 4
    # The refused file's page answers 400 (Chromium notes it); nothing else went wrong.
    assert [e for e in page.console_errors if "status of 400" not in e] == []
