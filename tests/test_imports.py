"""The upload: forgiving of how spreadsheets are really filled, strict about what is stored, and
all or nothing — every refusal leaves every domain table exactly as it was."""
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from evaluation.imports.service import ImportRefused, commit_import, import_file, preview_import, store_upload
from evaluation.models import ConfirmedFlag, HelpRelation, ImportRun, ImportStatus, SchoolYear, TownshipYear
from tests import import_files as f
from tests.conftest import snapshot
from townships.jurisdiction import resolve_jurisdiction
from townships.models import School

pytestmark = pytest.mark.django_db
DOMAIN = (School, SchoolYear, TownshipYear, HelpRelation, ConfirmedFlag)
TOWN_HEADERS = ["乡镇代码", "学年", "户籍小学适龄儿童数", "其中在本乡镇小学就读", "家长有效问卷数", "家长满意数"]


@pytest.fixture
def officer(world):
    return world.user("county_370881")


def upload(user, data, *, dry_run=False, name="data.xlsx", **kw):
    return import_file(user=user, jurisdiction=resolve_jurisdiction(user), data=data, file_name=name, channel="test", dry_run=dry_run, **kw)


def stored_rows():
    rows = {}
    for sy in SchoolYear.objects.select_related("school"):
        rows[(sy.school.code, sy.period)] = {
            "students": sy.students,
            "teachers": sy.teachers,
            "backbone_teachers": sy.backbone_teachers,
            "physical_health_pass_rate": str(sy.physical_health_pass_rate),
            "has_canteen": sy.has_canteen,
            "safety_grade": sy.safety_grade,
            "books_per_student": str(sy.books_per_student),
        }
    return rows


def test_clean_file_imports_exactly(officer):
    run = upload(officer, f.school_year_xlsx())
    assert run.status == ImportStatus.COMMITTED, run.errors
    assert stored_rows() == f.SY_EXPECTED
    assert run.summary["sheets"][0] | {} == {**run.summary["sheets"][0], "new": 2, "changed": 0, "unchanged": 0, "invalid": 0}
    assert all(sy.township_id.startswith("370881") and sy.updated_by_import_id == run.pk for sy in SchoolYear.objects.all())


def row_with(index, value, base=None):
    rows = [list(r) for r in (base or f.SY_ROWS)]
    rows[0][index] = value
    return rows


CROSS_COUNTY = [["7370883001", "", 2024, 500, 40, 5, 0.9, "是", "良", 20]]

BAD_FILES = {
    "no recognisable header": (lambda: f.xlsx({"Sheet1": [["a", "b"], [1, 2]]}), "表头"),
    "required column missing": (lambda: f.school_year_xlsx(rows=[r[:3] + r[4:] for r in f.SY_ROWS], headers=f.SY_HEADERS[:3] + f.SY_HEADERS[4:]), "缺少必填列「在校生数」"),
    "words for a number": (lambda: f.school_year_xlsx(rows=row_with(4, "十二")), "第2行「专任教师数」：应为非负整数，实际为「十二」"),
    "negative number": (lambda: f.school_year_xlsx(rows=row_with(3, -5)), "应为非负整数"),
    "rate over 100%": (lambda: f.school_year_xlsx(rows=row_with(6, "120%")), "比例"),
    "rate as 93": (lambda: f.school_year_xlsx(rows=row_with(6, 93)), "比例"),
    "backbone teachers > teachers": (lambda: f.school_year_xlsx(rows=row_with(5, 99)), "骨干教师数不能多于专任教师数"),
    "attending > registered": (lambda: f.xlsx({"乡镇年度数据": [TOWN_HEADERS, ["370881101", 2024, 100, 120, 50, 40]]}), "不能多于户籍"),
    "satisfied > valid surveys": (lambda: f.xlsx({"乡镇年度数据": [TOWN_HEADERS, ["370881101", 2024, 100, 90, 50, 60]]}), "满意数不能多于有效问卷数"),
    "unknown school": (lambda: f.school_year_xlsx(rows=row_with(0, "7999999999")), "不在您的辖区"),
    "another county's school": (lambda: f.school_year_xlsx(rows=f.SY_ROWS + CROSS_COUNTY), "不在您的辖区"),
    "another county's township": (lambda: f.xlsx({"乡镇年度数据": [TOWN_HEADERS, ["370883101", 2024, 100, 90, 50, 40]]}), "不在您的辖区"),
    "duplicate rows": (lambda: f.school_year_xlsx(rows=f.SY_ROWS + [f.SY_ROWS[0]]), "重复"),
    "empty file": (lambda: b"", "文件是空的"),
    "not a spreadsheet": (lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "不是电子表格"),
    "a PDF": (lambda: b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "不是电子表格"),
    "password-protected xlsx": (f.encrypted_ooxml, "密码"),
    "zip bomb disguised as xlsx": (lambda: f.zip_bomb_xlsx(30), "解压"),
    "zip that is not a workbook": (lambda: _zip_of_text(), "不是 Excel"),
    "damaged xlsx": (lambda: f.school_year_xlsx()[:600], "损坏"),
    "formula cells": (lambda: f.school_year_xlsx(rows=row_with(3, "=400+420")), "公式"),
    "bad school year": (lambda: f.school_year_xlsx(rows=row_with(2, "2024-2026")), "学年"),
    "bad yes/no": (lambda: f.school_year_xlsx(rows=row_with(7, "可能")), "是 或 否"),
    "bad grade": (lambda: f.school_year_xlsx(rows=row_with(8, "很好")), "不合格"),
    "school code of 9 digits": (lambda: f.school_year_xlsx(rows=row_with(0, "737088100")), "10位"),
    "header without rows": (lambda: f.school_year_xlsx(rows=[]), "没有数据"),
    "a column twice": (lambda: f.school_year_xlsx(rows=[r + [1] for r in f.SY_ROWS], headers=f.SY_HEADERS + ["在校生数"]), "出现了两次"),
    "formula text in CSV name": (lambda: f.csv_bytes([["学校标识码", "学校名称", "学段", "所在乡镇代码", "是否乡镇驻地学校", "是否城区学校", "是否城区优质学校"], ["7370881009", "=HYPERLINK(\"http://x\")", "小学", "370881101", "否", "否", "否"]]), "公式"),
    "HTML saved as xls": (lambda: "<html><body><table><tr><td>学校标识码</td></tr></table></body></html>".encode(), "不是电子表格"),
}


def _zip_of_text():
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "hello")
    return out.getvalue()


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_refused_with_a_clear_chinese_error_and_changes_nothing(officer, case, settings):
    settings.IMPORT_MAX_UNPACKED_BYTES = 10 * 1024 * 1024
    make, expected = BAD_FILES[case]
    upload(officer, f.school_year_xlsx(rows=[f.SY_ROWS[1]]))  # some existing data to keep
    before = snapshot(*DOMAIN)
    run = upload(officer, make())
    assert run.status == ImportStatus.INVALID
    texts = [e["text"] for e in run.errors]
    assert any(expected in t for t in texts), texts
    assert snapshot(*DOMAIN) == before


def test_oversized_file_is_refused(officer, settings):
    settings.IMPORT_MAX_BYTES = 1000
    before = snapshot(*DOMAIN)
    run = upload(officer, f.school_year_xlsx())
    assert run.status == ImportStatus.INVALID and "MB" in run.errors[0]["text"]
    assert snapshot(*DOMAIN) == before


def test_every_error_is_reported_at_once(officer):
    rows = row_with(4, "十二")
    rows[1][6] = "2"
    rows[1][0] = "7999999999"
    run = upload(officer, f.school_year_xlsx(rows=rows), dry_run=True)
    assert len(run.errors) == 3
    assert {e["row"] for e in run.errors} == {2, 3}


def _variant_rows():
    rows = [list(r) for r in f.SY_ROWS]
    return [f.SY_HEADERS] + rows


def _fullwidth(rows):
    table = str.maketrans("0123456789.%", "０１２３４５６７８９．％")
    out = [rows[0]]
    for row in rows[1:]:
        out.append([str(v).translate(table) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in row])
    return out


def _percent(rows):
    out = [list(r) for r in rows]
    for row in out[1:]:
        row[6] = f"{round(row[6] * 100)}%"
    return out


def _messy_headers(rows):
    out = [list(r) for r in rows]
    out[0] = [" 学校标识码 ", "学校 名称", "学年", "在校生数 ", "专任教师数", "县级以上骨干教师数", "体质健康达标率", "有食堂", "安全管理等级", "生均图书(册)"]
    return out


TOLERATED = {
    "utf-8 csv": lambda: f.csv_bytes(_variant_rows()),
    "utf-8 csv with BOM": lambda: f.csv_bytes(_variant_rows(), bom=True),
    "GBK csv": lambda: f.csv_bytes(_variant_rows(), encoding="gbk"),
    "GB18030 csv": lambda: f.csv_bytes(_variant_rows(), encoding="gb18030"),
    "legacy xls": lambda: f.xls(_variant_rows()),
    "WPS-written xlsx": lambda: f.wps_style_xlsx(_variant_rows()),
    "title row above the header": lambda: f.titled_xlsx(_variant_rows()),
    "a million phantom rows": lambda: f.phantom_rows_xlsx(_variant_rows()),
    "full-width digits": lambda: f.xlsx({"学校年度数据": _fullwidth(_variant_rows())}),
    "95% instead of 0.95": lambda: f.xlsx({"学校年度数据": _percent(_variant_rows())}),
    "stray spaces and half-width brackets in headers": lambda: f.xlsx({"学校年度数据": _messy_headers(_variant_rows())}),
}


@pytest.mark.parametrize("variant", sorted(TOLERATED))
def test_tolerated_variant_imports_to_the_same_rows_as_the_clean_file(officer, variant):
    run = upload(officer, TOLERATED[variant](), name="variant.dat")
    assert run.status == ImportStatus.COMMITTED, (run.errors, run.message)
    assert stored_rows() == f.SY_EXPECTED


def test_preview_writes_no_domain_data_and_queues_nothing(officer, django_capture_on_commit_callbacks):
    before = snapshot(*DOMAIN)
    with django_capture_on_commit_callbacks() as callbacks:
        run = upload(officer, f.school_year_xlsx(), dry_run=True)
    assert run.status == ImportStatus.PREVIEWED and run.summary["sheets"][0]["new"] == 2
    assert snapshot(*DOMAIN) == before and callbacks == []


def test_preview_shows_changed_cells_old_to_new(officer):
    upload(officer, f.school_year_xlsx())
    run = upload(officer, f.school_year_xlsx(rows=row_with(4, 60)), dry_run=True)
    assert run.summary["sheets"][0] | {} == {**run.summary["sheets"][0], "new": 0, "changed": 1, "unchanged": 1}
    assert run.changes["changed"] == [["7370881001 吴村镇学校1 2024", "专任教师数", "58", "60"]]


def test_reuploading_the_same_file_changes_nothing(officer):
    data = f.school_year_xlsx()  # one file: openpyxl stamps the time into each workbook it writes
    first = upload(officer, data)
    stamps = list(SchoolYear.objects.order_by("id").values_list("id", "updated_at", "updated_by_import_id"))
    second = upload(officer, data)
    assert second.status == ImportStatus.COMMITTED and second.sha256 == first.sha256
    assert second.summary["sheets"][0]["unchanged"] == 2 and second.summary["sheets"][0]["new"] == 0
    assert list(SchoolYear.objects.order_by("id").values_list("id", "updated_at", "updated_by_import_id")) == stamps


def test_a_file_with_some_columns_leaves_the_others_alone(officer):
    upload(officer, f.school_year_xlsx())
    upload(officer, f.school_year_xlsx(headers=["学校标识码", "学年", "在校生数"], rows=[["7370881001", 2024, 830]]))
    sy = SchoolYear.objects.get(school__code="7370881001", period=2024)
    assert (sy.students, sy.teachers, sy.safety_grade) == (830, 58, "good")


@pytest.fixture
def last_year(officer):
    rows = [["7370881001", "", 2023, 400, 50, 10, 0.6, "是", "良", 30], ["7370881002", "", 2023, 630, 44, 8, 0.88, "否", "优", 28]]
    assert upload(officer, f.school_year_xlsx(rows=rows)).status == ImportStatus.COMMITTED


def test_implausible_changes_are_flagged_and_need_a_reason(officer, last_year, world):
    before = snapshot(*DOMAIN)
    run = upload(officer, f.school_year_xlsx())  # students 400 → 820, pass rate 0.6 → 0.93
    assert run.status == ImportStatus.PREVIEWED and "原因" in run.message
    assert {(fl["subject"].split()[0], fl["header"], fl["previous"], fl["value"]) for fl in run.flags} == {
        ("7370881001", "在校生数", "400", "820"),
        ("7370881001", "体质健康达标率", "0.6", "0.93"),
    }
    assert snapshot(*DOMAIN) == before
    with pytest.raises(ImportRefused):
        commit_import(run=run, user=officer, jurisdiction=resolve_jurisdiction(officer), confirmations={run.flags[0]["id"]: "新校区并入"})
    assert snapshot(*DOMAIN) == before
    reasons = {fl["id"]: "新校区并入，学生数翻倍" for fl in run.flags}
    commit_import(run=run, user=officer, jurisdiction=resolve_jurisdiction(officer), confirmations=reasons)
    assert stored_rows()[("7370881001", 2024)]["students"] == 820
    assert ConfirmedFlag.objects.filter(run=run).count() == 2


def test_confirmed_flags_are_listed_for_city_and_province_only_in_their_area(client, officer, last_year, world):
    upload(officer, f.school_year_xlsx(), confirm_all="合并办学")
    for key, sees in [("city_3708", True), ("province", True), ("city_3702", False)]:
        client.force_login(world.user(key))
        html = client.get("/data/flags/").content.decode()
        assert ("合并办学" in html) is sees, key
    client.force_login(officer)
    assert client.get("/data/flags/").status_code == 403


def test_stale_preview_is_rechecked_at_commit(officer):
    run = upload(officer, f.school_year_xlsx(), dry_run=True)
    School.objects.filter(code="7370881002").update(township_id="370883101")  # moved out of the county meanwhile
    before = snapshot(*DOMAIN)
    with pytest.raises(ImportRefused):
        commit_import(run=run, user=officer, jurisdiction=resolve_jurisdiction(officer))
    assert snapshot(*DOMAIN) == before
    run.refresh_from_db()
    assert run.status == ImportStatus.INVALID


def test_schools_sheet_creates_schools_used_by_the_same_file(officer):
    schools = [["学校标识码", "学校名称", "学段", "所在乡镇代码", "是否乡镇驻地学校", "是否城区学校", "是否城区优质学校"], ["7370881050", "息陬镇新建小学", "小学", "370881109", "是", "否", "否"]]
    years = [["学校标识码", "学年", "在校生数"], ["7370881050", 2024, 300]]
    run = upload(officer, f.xlsx({"学校名录": schools, "学校年度数据": years}))
    assert run.status == ImportStatus.COMMITTED, run.errors
    assert SchoolYear.objects.get(school__code="7370881050").students == 300


def test_schools_sheet_cannot_take_over_another_countys_school(officer, world):
    other = world.schools["370883"][0]
    schools = [["学校标识码", "学校名称", "学段", "所在乡镇代码", "是否乡镇驻地学校", "是否城区学校", "是否城区优质学校"], [other.code, "抢来的学校", "小学", "370881109", "是", "否", "否"]]
    before = snapshot(*DOMAIN)
    run = upload(officer, f.xlsx({"学校名录": schools}))
    assert run.status == ImportStatus.INVALID and snapshot(*DOMAIN) == before


def test_help_across_the_county_line_is_entered_by_the_city(officer, world):
    helper = world.schools["370883"][0]
    rows = [["帮扶学校标识码", "受帮扶学校标识码", "帮扶方式", "学年"], [helper.code, "7370881001", "结对帮扶", 2024]]
    # The county sees no school of its neighbour: the helper is "not in your area" (issue 17).
    assert upload(officer, f.xlsx({"帮扶关系": rows})).status == ImportStatus.INVALID
    run = upload(world.user("city_3708"), f.xlsx({"帮扶关系": rows}))
    assert run.status == ImportStatus.COMMITTED, run.errors
    relation = HelpRelation.objects.get()
    assert (relation.helper_id, relation.kind, relation.township_id[:6]) == (helper.pk, "pairing", "370881")
    # …and the helped school must be the uploader's.
    rows[1] = ["7370881001", helper.code, "托管", 2024]
    assert upload(officer, f.xlsx({"帮扶关系": rows})).status == ImportStatus.INVALID


def test_history_keeps_the_original_file_and_what_changed(officer):
    data = f.school_year_xlsx()
    run = upload(officer, data, name="../../etc/曲阜.xlsx")
    run.refresh_from_db()
    assert run.file_name == "曲阜.xlsx" and run.size == len(data) and run.uploaded_by == officer
    assert "曲阜" not in run.stored_as and ".." not in run.stored_as
    from evaluation.imports.service import stored_bytes

    assert stored_bytes(run) == data
    assert sorted(run.changes["new"]) == [["school_years", "7370881001", 2024], ["school_years", "7370881002", 2024]]


def test_command_line_import_applies_the_users_jurisdiction(officer, tmp_path, capsys):
    path = tmp_path / "cross.xlsx"
    path.write_bytes(f.school_year_xlsx(rows=f.SY_ROWS + CROSS_COUNTY))
    before = snapshot(*DOMAIN)
    with pytest.raises(CommandError):
        call_command("import_school_data", str(path), "--as", officer.username)
    assert "第4行「学校标识码」" in capsys.readouterr().err
    assert snapshot(*DOMAIN) == before
    path.write_bytes(f.school_year_xlsx())
    call_command("import_school_data", str(path), "--as", officer.username, "--dry-run")
    assert snapshot(*DOMAIN) == before
    call_command("import_school_data", str(path), "--as", officer.username)
    assert stored_rows() == f.SY_EXPECTED


def test_large_uploads_run_as_a_job_with_progress(client, officer, settings, django_capture_on_commit_callbacks, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # the real worker's version is in test_tasks
    settings.IMPORT_ASYNC_BYTES = 100
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/data/upload/", {"file": SimpleUploadedFile("big.xlsx", f.school_year_xlsx())})
    run = ImportRun.objects.latest("id")
    assert response.status_code == 302 and run.status == ImportStatus.QUEUED
    assert client.get(f"/data/imports/{run.pk}/status.json").json()["status"] == "queued"
    assert "<progress" in client.get(f"/data/imports/{run.pk}/").content.decode()
    for callback in callbacks:
        callback()  # the worker's turn (eager here)
    run.refresh_from_db()
    assert run.status == ImportStatus.PREVIEWED and run.progress == 100
    assert SchoolYear.objects.count() == 0


def test_store_and_preview_do_not_write_domain_rows(officer):
    before = snapshot(*DOMAIN)
    run = store_upload(user=officer, jurisdiction=resolve_jurisdiction(officer), data=f.school_year_xlsx(), file_name="a.xlsx", channel="test")
    preview_import(run=run, jurisdiction=resolve_jurisdiction(officer))
    assert snapshot(*DOMAIN) == before


def test_decimal_values_round_trip(officer):
    upload(officer, f.school_year_xlsx())
    assert SchoolYear.objects.get(school__code="7370881001", period=2024).books_per_student == Decimal("31.50")
