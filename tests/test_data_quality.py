"""Data-quality checks on every upload: warned with the reason, never refused when legal, nothing
written by a preview, kept with the committed upload and listed for the city and province of the
area only."""
import random

import pytest
from django.urls import reverse

from evaluation.models import ImportStatus, SchoolYear
from tests import import_files as f
from tests.conftest import snapshot
from tests.test_imports import DOMAIN, upload
from townships.models import School
from townships.services.demo import load_demo_schools

pytestmark = pytest.mark.django_db
HEADERS = ["学校标识码", "学校名称", "学年", "在校生数", "专任教师数", "核定教师岗位数", "教学用计算机（台）", "生均图书（册）"]


@pytest.fixture
def officer(world):
    return world.user("county_370881")


def _preview(officer, rows, headers=HEADERS):
    before = snapshot(*DOMAIN)
    run = upload(officer, f.school_year_xlsx(rows=rows, headers=headers), dry_run=True)
    assert run.status == ImportStatus.PREVIEWED, run.errors  # legal: never refused
    assert snapshot(*DOMAIN) == before  # a preview writes nothing
    return run


def _checks(run):
    return [w["check"] for w in run.warnings]


def test_a_clean_file_has_no_warning(officer):
    run = _preview(officer, [["7370881001", "a", 2024, 823, 58, 60, 95, 31.5], ["7370881002", "b", 2024, 641, 45, 47, 71, 28]])
    assert run.warnings == [] and run.warning_count == 0


def test_internal_consistency_is_warned_with_the_reason(client, officer):
    run = _preview(officer, [["7370881001", "a", 2024, 913, 11, 7, 4000, 31.5], ["7370881002", "b", 2024, 641, 45, 47, 71, 28]])
    reasons = [w["reason"] for w in run.warnings if w["row"] == 2]
    assert set(_checks(run)) == {"consistency"} and len(reasons) == 3
    assert any("专任教师数" in r and "核定教师岗位数" in r for r in reasons)  # 11 teachers on 7 posts
    assert any("83.0" in r for r in reasons)  # 913 students per 11 teachers
    assert any("4000" in r for r in reasons)  # computers for 913 students
    client.force_login(officer)
    page = client.get(reverse("evaluation:run", args=[run.pk])).content.decode()
    assert 'id="warnings"' in page and "核定教师岗位数" in page.split('id="warnings"')[1] and 'id="commit"' in page


def test_a_row_copied_from_last_year_is_warned(officer):
    upload(officer, f.school_year_xlsx(rows=[["7370881001", "a", 2023, 823, 58, 60, 95, 31.5]], headers=HEADERS))
    run = _preview(officer, [["7370881001", "a", 2024, 823, 58, 60, 95, 31.5], ["7370881002", "b", 2024, 641, 45, 47, 71, 28]])
    copied = [w for w in run.warnings if w["check"] == "copied_last_year"]
    assert len(copied) == 1 and copied[0]["row"] == 2 and "上一学年" in copied[0]["reason"]
    # One figure differs: not a copy.
    run = _preview(officer, [["7370881001", "a", 2024, 824, 58, 60, 95, 31.5]])
    assert "copied_last_year" not in _checks(run)


def test_schools_with_identical_rows_are_warned(officer):
    run = _preview(officer, [["7370881001", "a", 2024, 641, 45, 47, 71, 28], ["7370881002", "b", 2024, 641, 45, 47, 71, 28]])
    identical = [w for w in run.warnings if w["check"] == "identical_rows"]
    assert [w["row"] for w in identical] == [2, 3]
    assert "7370881002" in identical[0]["reason"] and "7370881001" in identical[1]["reason"] and "完全相同" in identical[0]["reason"]


def _many(officer, students):
    codes = list(School.objects.filter(township__code__startswith="370881").order_by("code").values_list("code", flat=True)[: len(students)])
    assert len(codes) == len(students)
    rng = random.Random(7)
    return [[code, "x", 2024, n, max(3, n // 14 + rng.randint(0, 3)), None, None, None] for code, n in zip(codes, students, strict=True)]


def test_round_number_heaping_is_warned_and_natural_figures_are_not(officer, world):
    load_demo_schools(province_prefix="370881", villages_per_township=1)
    rng = random.Random(11)
    heaped = [rng.randint(20, 90) * 10 for _ in range(30)]
    run = _preview(officer, _many(officer, heaped))
    heaping = [w for w in run.warnings if w["check"] == "heaping"]
    assert len(heaping) == 1 and heaping[0]["row"] is None and "在校生数" in heaping[0]["reason"] and "0 结尾" in heaping[0]["reason"]
    hundreds = [rng.randint(2, 9) * 100 for _ in range(30)]
    assert "00 结尾" in next(w for w in _preview(officer, _many(officer, hundreds)).warnings if w["check"] == "heaping")["reason"]
    natural = [rng.randint(200, 900) for _ in range(30)]
    assert "heaping" not in _checks(_preview(officer, _many(officer, natural)))


def test_warnings_are_kept_with_the_committed_upload_and_listed_in_the_area_only(client, officer, world):
    run = upload(officer, f.school_year_xlsx(rows=[["7370881001", "a", 2024, 913, 11, 7, None, None]], headers=HEADERS))
    assert run.status == ImportStatus.COMMITTED and SchoolYear.objects.filter(school__code="7370881001", period=2024, students=913).exists()
    run.refresh_from_db()
    assert run.warning_count == 2 and {w["check"] for w in run.warnings} == {"consistency"}
    for key, sees in (("city_3708", True), ("province", True), ("county_370881", True), ("city_3702", False), ("county_370883", False)):
        client.force_login(world.user(key))
        page = client.get(reverse("evaluation:quality")).content.decode()
        assert (f'data-run="{run.pk}"' in page) is sees, key
        if not sees:
            assert client.get(reverse("evaluation:run", args=[run.pk])).status_code == 404
    client.force_login(world.user("city_3708"))
    assert client.get(f"/api/imports/{run.pk}/").json()["warnings"] == run.warnings
