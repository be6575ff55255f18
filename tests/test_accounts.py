"""Accounts for every unit: a spreadsheet creates them all or none, each with a one-time password
changed at first login; deactivated accounts keep their history; listed by unit; the page, the
API and the admin scoped alike."""
import io

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from rest_framework.test import APIClient

from security.models import AuditEvent
from townships.accounts_sheets import accounts_template
from townships.jurisdiction import resolve_jurisdiction
from townships.models import User
from townships.services.accounts import create_accounts

pytestmark = pytest.mark.django_db
HEADER = ["登录名", "姓名", "手机号码", "角色", "单位代码"]
GOOD_ROWS = [
    ["jn_city_1", "张伟", "13800000001", "市级工作人员", "3708"],
    ["qf_county_1", "李娜", "13800000002", "县级管理员", "370881"],
    ["zc_county_1", "王芳", 13800000003, "县级管理员", 370883],  # numbers typed as numbers
    ["jn_insp_1", "刘洋", "", "督导评估专家", "3708"],
]


def xlsx(rows, header=HEADER):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, data, name="accounts.xlsx"):
    return client.post(reverse("townships:accounts_upload"), {"file": _file(data, name)})


def _file(data, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def can_log_in(username, password):
    client = Client()
    client.post("/accounts/login/", {"username": username, "password": password})
    return "_auth_user_id" in client.session


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_good_file_creates_exactly_its_accounts_with_one_time_passwords(world, django_assert_max_num_queries):
    before = set(User.objects.values_list("username", flat=True))
    client = logged_in(world.user("province"))
    response = upload(client, xlsx(GOOD_ROWS))
    assert response.status_code == 200
    created = User.objects.exclude(username__in=before)
    assert sorted(created.values_list("username", "full_name", "phone", "role", "unit_id")) == sorted([
        ("jn_city_1", "张伟", "13800000001", "city", "3708"), ("qf_county_1", "李娜", "13800000002", "county", "370881"),
        ("zc_county_1", "王芳", "13800000003", "county", "370883"), ("jn_insp_1", "刘洋", "", "inspector", "3708"),
    ])
    assert all(u.must_change_password and u.is_active for u in created)
    assert {u.username: u.is_staff for u in created} == {"jn_city_1": True, "qf_county_1": True, "zc_county_1": True, "jn_insp_1": False}
    page = response.content.decode()
    assert "一次性密码" in page
    # The page shows each password once; each one logs its account in.
    issued = response.context["issued"]
    assert len({a.password for a in issued}) == 4
    for account in issued:
        assert account.password in page
        assert can_log_in(account.username, account.password)
    # The XLSX holds the same passwords, for the one who created them, once.
    token = response.context["token"]
    assert logged_in(world.user("city_3708")).get(reverse("townships:accounts_issued", args=[token])).status_code == 404
    download = client.get(reverse("townships:accounts_issued", args=[token]))
    assert download.status_code == 200 and download["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(download.content)).active
    assert {(r[0], r[5]) for r in sheet.iter_rows(min_row=2, values_only=True)} == {(a.username, a.password) for a in issued}
    assert client.get(reverse("townships:accounts_issued", args=[token])).status_code == 404
    event = AuditEvent.objects.get(action="accounts_created", username="p_staff")
    assert sorted(event.detail["usernames"]) == sorted(r[0] for r in GOOD_ROWS)


def test_a_file_of_170_accounts_takes_a_handful_of_queries(world, django_assert_max_num_queries):
    rows = [[f"unit_{i:03d}", "某某", "", "县级管理员", "370881"] for i in range(170)]
    actor = world.user("province")
    with django_assert_max_num_queries(12):  # constant: SQLite splits the bulk insert into batches
        result = create_accounts(actor=actor, jurisdiction=resolve_jurisdiction(actor), data=xlsx(rows))
    assert result.ok and User.objects.filter(username__startswith="unit_").count() == 170


@pytest.mark.parametrize("rows, message", [
    ([["a_ok", "张三", "", "县级管理员", "370881"], ["b_bad", "李四", "", "县级管理员", "379999"]], "第 3 行"),  # unknown unit
    ([["a_ok", "张三", "", "县级管理员", "3708"]], "县级管理员"),  # a county role on a city
    ([["a_ok", "张三", "", "市级工作人员", "370881"]], "市级工作人员"),  # a city role on a county
    ([["a_ok", "张三", "", "县级管理员", "370881"], ["A_OK", "李四", "", "县级管理员", "370883"]], "重复"),  # twice in the file
    ([["a_ok", "张三", "", "县级管理员", "370881"], ["x_370883", "李四", "", "县级管理员", "370883"]], "已被使用"),  # an existing login
    ([["a_ok", "张三", "", "校长", "370881"]], "角色"),  # not a role
    ([["a_ok", "张三", "1380000", "县级管理员", "370881"]], "手机"),
    ([["a_ok", "", "", "县级管理员", "370881"]], "姓名"),
    ([["a_ok", "张三", "", "县级管理员", "370881109"]], "县（市、区），息陬镇不是"),
    ([["a_ok", "张三", "", "督导评估专家", "370881109"]], "不属于乡镇"),  # a township is no unit of accounts
])
def test_each_kind_of_bad_file_creates_no_account_and_says_why_in_chinese(world, rows, message):
    before = User.objects.count()
    response = upload(logged_in(world.user("province")), xlsx(rows))
    assert response.status_code == 400
    errors = " ".join(response.context["errors"])
    assert message in errors, errors
    assert User.objects.count() == before
    assert not User.objects.filter(username__iexact="a_ok").exists()
    assert not AuditEvent.objects.filter(action="accounts_created").exists()


@pytest.mark.parametrize("data, message", [
    (xlsx(GOOD_ROWS, header=["登录名", "姓名", "角色", "单位代码"]), "手机号码"),  # a missing column
    (xlsx([]), "没有账号"),
    (b"", "空"),
    (b"%PDF-1.4 not a sheet", "不是"),
])
def test_a_file_that_cannot_be_read_creates_nothing(world, data, message):
    before = User.objects.count()
    response = upload(logged_in(world.user("province")), data)
    assert response.status_code == 400 and message in " ".join(response.context["errors"])
    assert User.objects.count() == before


def test_a_city_creates_accounts_only_inside_the_city(world):
    before = User.objects.count()
    response = upload(logged_in(world.user("city_3702")), xlsx([["qd_ok", "张三", "", "县级管理员", "370281"], ["jn_no", "李四", "", "县级管理员", "370881"]]))
    assert response.status_code == 400
    # Another city's county is answered like a code that exists nowhere.
    assert "没有代码为“370881”的单位" in " ".join(response.context["errors"])
    assert User.objects.count() == before
    assert upload(logged_in(world.user("city_3702")), xlsx([["qd_prov", "张三", "", "省级工作人员", "37"]])).status_code == 400
    assert not User.objects.filter(username="qd_prov").exists()


def test_county_officers_and_inspectors_manage_no_accounts(world):
    before = User.objects.count()
    for key in ("county_370881", "inspector_a"):
        client = logged_in(world.user(key))
        assert client.get(reverse("townships:accounts")).status_code == 403
        assert upload(client, xlsx(GOOD_ROWS)).status_code == 403
        api = APIClient()
        api.force_authenticate(world.user(key))
        body = api.get("/api/accounts/").json()
        assert (body["results"] if isinstance(body, dict) else body) == []
        assert api.post("/api/accounts/", {"file": _file(xlsx(GOOD_ROWS), "a.xlsx")}, format="multipart").status_code == 403
    assert User.objects.count() == before


@override_settings(PASSWORD_POLICY_ENFORCED=True)
def test_an_issued_account_must_change_its_password_at_first_login(world):
    actor = world.user("province")
    result = create_accounts(actor=actor, jurisdiction=resolve_jurisdiction(actor), data=xlsx(GOOD_ROWS[1:2]))
    account = result.issued[0]
    client = Client()
    assert client.post("/accounts/login/", {"username": account.username, "password": account.password}).status_code == 302
    assert client.get(reverse("reports:dashboard")).url == reverse("password_change")
    new = "Qzzj-Mine-2026!"
    client.post(reverse("password_change"), {"old_password": account.password, "new_password1": new, "new_password2": new})
    user = User.objects.get(username=account.username)
    assert not user.must_change_password and user.check_password(new)
    assert client.get(reverse("reports:dashboard")).status_code == 200


def test_deactivating_ends_the_login_and_keeps_the_history(world):
    officer = world.user("county_370881")
    officer_client = logged_in(officer)
    assert officer_client.get(reverse("reports:dashboard")).status_code == 200
    history = AuditEvent.objects.create(user=officer, username=officer.username, action="login")
    staff = logged_in(world.user("province"))
    assert staff.post(reverse("townships:account_active", args=[officer.pk]), {"active": "0"}).status_code == 302
    officer.refresh_from_db()
    assert not officer.is_active and User.objects.filter(pk=officer.pk).exists()
    assert AuditEvent.objects.get(pk=history.pk).user_id == officer.pk
    assert AuditEvent.objects.filter(action="account_deactivated", target__contains=officer.username).exists()
    # The open session ends, and the password no longer logs in.
    assert officer_client.get(reverse("reports:dashboard")).status_code == 302
    assert not can_log_in(officer.username, "pw-for-tests-1")
    staff.post(reverse("townships:account_active", args=[officer.pk]), {"active": "1"})
    assert can_log_in(officer.username, "pw-for-tests-1")


def test_another_citys_account_is_not_found_and_stays_as_it_is(world):
    other = world.user("county_370881")
    client = logged_in(world.user("city_3702"))
    assert client.post(reverse("townships:account_active", args=[other.pk]), {"active": "0"}).status_code == 404
    assert client.post(reverse("townships:account_reset", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.is_active and other.check_password("pw-for-tests-1") and not other.must_change_password
    api = APIClient()
    api.force_authenticate(world.user("city_3702"))
    assert api.post(f"/api/accounts/{other.pk}/deactivate/").status_code == 404
    assert api.get(f"/api/accounts/{other.pk}/").status_code == 404
    other.refresh_from_db()
    assert other.is_active


def test_a_units_accounts_are_listed_by_unit(world):
    client = logged_in(world.user("city_3708"))
    page = client.get(reverse("townships:accounts"), {"unit": "370881"}).content.decode()
    assert "x_370881" in page and "x_370883" not in page
    everything = client.get(reverse("townships:accounts")).content.decode()
    assert "x_370881" in everything and "x_370883" in everything and "x_370281" not in everything and "p_staff" not in everything
    api = APIClient()
    api.force_authenticate(world.user("city_3708"))
    body = api.get("/api/accounts/", {"unit": "370883"}).json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [r["username"] for r in rows] == ["x_370883"]


def test_a_new_one_time_password_replaces_the_old_one(world):
    officer = world.user("county_370881")
    response = logged_in(world.user("province")).post(reverse("townships:account_reset", args=[officer.pk]))
    password = response.context["issued"][0].password
    officer.refresh_from_db()
    assert officer.must_change_password and officer.check_password(password) and not officer.check_password("pw-for-tests-1")


def test_the_api_creates_all_or_nothing(world):
    api = APIClient()
    api.force_authenticate(world.user("province"))
    before = User.objects.count()
    bad = api.post("/api/accounts/", {"file": _file(xlsx(GOOD_ROWS + [["jn_city_1", "又一个", "", "市级工作人员", "3708"]]), "a.xlsx")}, format="multipart")
    assert bad.status_code == 400 and any("重复" in e for e in bad.json()["errors"])
    assert User.objects.count() == before
    good = api.post("/api/accounts/", {"file": _file(xlsx(GOOD_ROWS), "a.xlsx")}, format="multipart")
    assert good.status_code == 201 and good["Cache-Control"] == "no-store"
    issued = good.json()["accounts"]
    assert {a["username"] for a in issued} == {r[0] for r in GOOD_ROWS}
    assert User.objects.count() == before + 4
    assert can_log_in(issued[0]["username"], issued[0]["password"])


def test_the_admin_deactivates_inside_the_area_only(world):
    officer = world.user("county_370881")
    client = logged_in(world.user("province"))
    url = reverse("admin:townships_user_changelist")
    listing = client.get(url)
    assert listing.status_code == 200 and reverse("townships:accounts") in listing.content.decode()
    client.post(url, {"action": "deactivate_accounts", "_selected_action": [officer.pk]})
    officer.refresh_from_db()
    assert not officer.is_active


def test_the_template_reads_back_as_an_empty_file(world):
    before = User.objects.count()
    response = upload(logged_in(world.user("province")), accounts_template())
    assert response.status_code == 400 and "没有账号" in " ".join(response.context["errors"])
    assert User.objects.count() == before
