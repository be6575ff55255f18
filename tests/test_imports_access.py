"""A county officer can neither upload into nor download another county's data — through the page,
the admin, the API or the command line — and the template and exports hold only their own area."""
import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from evaluation.imports.service import import_file
from evaluation.models import ImportRun, ImportStatus, SchoolYear
from tests import import_files as f
from tests.conftest import snapshot
from tests.test_imports import CROSS_COUNTY, DOMAIN
from townships.jurisdiction import resolve_jurisdiction
from townships.models import School

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(world):
    return world.user("county_370881")


@pytest.fixture
def other_run(world):
    """An upload by the neighbouring county's officer."""
    other = world.user("county_370883")
    rows = [["7370883001", "", 2024, 500, 40, 5, 0.9, "是", "良", 20]]
    return import_file(user=other, jurisdiction=resolve_jurisdiction(other), data=f.school_year_xlsx(rows=rows), file_name="zc.xlsx", channel="test", dry_run=False)


def test_page_upload_of_another_countys_rows_is_refused(client, officer):
    client.force_login(officer)
    before = snapshot(*DOMAIN)
    response = client.post("/data/upload/", {"file": SimpleUploadedFile("x.xlsx", f.school_year_xlsx(rows=f.SY_ROWS + CROSS_COUNTY))}, follow=True)
    html = response.content.decode()
    assert "第4行「学校标识码」：该学校不存在或不在您的辖区内，实际为「7370883001」" in html
    run = ImportRun.objects.latest("id")
    assert run.status == ImportStatus.INVALID
    assert client.post(f"/data/imports/{run.pk}/commit/", follow=True).status_code == 200
    assert snapshot(*DOMAIN) == before


def test_page_preview_then_commit(client, officer):
    client.force_login(officer)
    response = client.post("/data/upload/", {"file": SimpleUploadedFile("ok.xlsx", f.school_year_xlsx())}, follow=True)
    assert "已预览，待确认" in response.content.decode()
    assert SchoolYear.objects.count() == 0
    run = ImportRun.objects.latest("id")
    response = client.post(f"/data/imports/{run.pk}/commit/", follow=True)
    assert "数据已保存" in response.content.decode()
    assert SchoolYear.objects.count() == 2


def test_other_countys_uploads_and_files_are_not_found(client, officer, other_run):
    client.force_login(officer)
    for url in (f"/data/imports/{other_run.pk}/", f"/data/imports/{other_run.pk}/file", f"/data/imports/{other_run.pk}/status.json"):
        assert client.get(url).status_code == 404, url
    before = snapshot(*DOMAIN)
    assert client.post(f"/data/imports/{other_run.pk}/commit/").status_code == 404
    assert snapshot(*DOMAIN) == before
    assert other_run.pk not in {run.pk for run in client.get("/data/").context["runs"]}
    # The city above both counties sees it, and its file is an attachment, never inline.
    client.force_login(other_run.uploaded_by.__class__.objects.get(username="c_3708"))
    response = client.get(f"/data/imports/{other_run.pk}/file")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")


def test_template_is_prefilled_with_own_schools_and_has_dropdowns(client, officer, world):
    client.force_login(officer)
    response = client.get("/data/template.xlsx", {"period": 2024})
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["填报说明", "学校名录", "学校年度数据", "乡镇年度数据", "帮扶关系"]
    codes = {row[0] for row in wb["学校年度数据"].iter_rows(min_row=2, values_only=True)}
    assert codes == {s.code for s in world.schools["370881"]}
    towns = {row[0] for row in wb["乡镇年度数据"].iter_rows(min_row=2, values_only=True)}
    assert towns and all(t.startswith("370881") for t in towns)
    validations = wb["学校年度数据"].data_validations.dataValidation
    assert any('"是,否"' in v.formula1 for v in validations)
    assert any("不合格" in v.formula1 for v in validations)


def test_exports_hold_only_own_rows_and_escape_formulas(client, officer, world, other_run):
    School.objects.filter(code="7370881001").update(name='=HYPERLINK("http://evil","x")')
    import_file(user=officer, jurisdiction=resolve_jurisdiction(officer), data=f.school_year_xlsx(), file_name="a.xlsx", channel="test", dry_run=False)
    client.force_login(officer)
    xlsx = load_workbook(io.BytesIO(client.get("/data/export.xlsx", {"period": 2024}).content))
    rows = list(xlsx["学校年度数据"].iter_rows(min_row=2, values_only=True))
    assert {r[0] for r in rows} == {s.code for s in world.schools["370881"]}
    names = {r[0]: r[1] for r in rows}
    assert names["7370881001"].startswith("'=")
    assert xlsx["学校年度数据"]["B2"].data_type == "s"
    text = client.get("/data/export.csv", {"period": 2024}).content.decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    assert {r[0] for r in parsed[1:]} == {s.code for s in world.schools["370881"]}
    assert "7370883001" not in text and parsed[1][1].startswith("'=")


def test_admin_lists_and_exports_only_own_rows(client, officer, other_run):
    import_file(user=officer, jurisdiction=resolve_jurisdiction(officer), data=f.school_year_xlsx(), file_name="a.xlsx", channel="test", dry_run=False)
    client.force_login(officer)
    response = client.get("/admin/evaluation/schoolyear/")
    assert {sy.school.code for sy in response.context["cl"].queryset} == {"7370881001", "7370881002"}
    runs = client.get("/admin/evaluation/importrun/").context["cl"].queryset
    assert other_run.pk not in {r.pk for r in runs}
    assert client.get(f"/admin/evaluation/importrun/{other_run.pk}/change/", follow=True).redirect_chain[-1][0] == "/admin/"
    export = client.post("/admin/evaluation/schoolyear/export/", {"format": "0", "resource": "0", **{f"schoolyearresource_{k}": "on" for k in ["school", "period", "students"]}})
    body = export.content.decode("utf-8-sig")
    assert export.status_code == 200 and "7370883001" not in body and str(other_run.pk) not in body.split("\n")[0]


def test_api_upload_and_reads_are_scoped(client, officer, other_run):
    client.force_login(officer)
    before = snapshot(*DOMAIN)
    response = client.post("/api/imports/", {"file": SimpleUploadedFile("x.xlsx", f.school_year_xlsx(rows=CROSS_COUNTY)), "dry_run": "false"})
    assert response.status_code == 422
    assert "不在您的辖区" in response.json()["errors"][0]["text"]
    assert snapshot(*DOMAIN) == before
    assert client.get(f"/api/imports/{other_run.pk}/").status_code == 404
    assert client.post(f"/api/imports/{other_run.pk}/commit/", {}, content_type="application/json").status_code == 404
    response = client.post("/api/imports/", {"file": SimpleUploadedFile("ok.xlsx", f.school_year_xlsx())})
    assert response.status_code == 201 and response.json()["status"] == "previewed"
    run_id = response.json()["id"]
    response = client.post(f"/api/imports/{run_id}/commit/", {"confirmations": {}}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "committed"
    years = client.get("/api/school-years/", {"limit": 100}).json()["results"]
    assert {y["school"] for y in years} == {"7370881001", "7370881002"}


def test_inspector_cannot_upload(client, world):
    client.force_login(world.user("inspector_a"))
    assert client.get("/data/").status_code == 403
    assert client.post("/api/imports/", {"file": SimpleUploadedFile("ok.xlsx", f.school_year_xlsx())}).status_code == 403
