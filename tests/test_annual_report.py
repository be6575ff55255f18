"""The annual report (one PDF per area and school year): its figures, read back from the PDF's text,
are the dashboard's and the workflow's; a county's report holds nothing of another county; another
area's report is "not found"."""
import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from evaluation.models import ObservationPoint, SchoolYear, ValueAdded
from evaluation.rollup import framework_for_period, rollup_all
from evaluation.services.demo import load_demo_facts
from evaluation.services.forms import create_round
from evaluation.services.framework import load_framework
from townships.models import Division, PilotTownship
from townships.services.demo import load_demo_schools
from workflow.models import Funding, GoodPractice, Plan, PlanStatus, RectificationItem
from workflow.services.cases import review_case, submit_case
from workflow.services.plans import save_funding, save_plan

pytestmark = pytest.mark.django_db
OWN, OTHER = "370881", "370883"  # 曲阜市, 邹城市 (济宁)
IN_YEAR = timezone.make_aware(datetime(2024, 11, 5, 10, 0))


@pytest.fixture
def year(world):
    """Two school years of results in 济宁 and 青岛; for 2024 in each 济宁 county a filed plan,
    funding of a pilot, rectification items (one closed), a published case — all named apart."""
    framework = load_framework()
    rnd = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=[], created_by=world.user("province"))
    for prefix in ("3708", "3702"):
        load_demo_schools(province_prefix=prefix, villages_per_township=1)
        load_demo_facts(province_prefix=prefix, periods=(2023, 2024))
        rollup_all(period=None, prefix=prefix)
    point = ObservationPoint.objects.filter(target__framework=framework, code="2.1").first()
    for county, amount, opened in ((OWN, "12.50", 3), (OTHER, "7.25", 2)):
        officer = world.user(f"county_{county}")
        plan = save_plan(user=officer, year=2024, title=f"{county}年度实施方案")
        Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.FILED, filed_at=IN_YEAR, filed_by=officer)
        pilot = PilotTownship.objects.filter(township__code__startswith=county).order_by("township_id").first().township_id
        save_funding(user=officer, township_code=pilot, year=2024, purpose="teacher_training",
                     amounts={"provincial_planned": Decimal(amount), "provincial_spent": Decimal("5"), "local_planned": Decimal("3"), "local_spent": Decimal("1")})
        towns = list(Division.objects.filter(parent_id=county, kind="town").order_by("code").values_list("code", flat=True))
        for i in range(opened):
            RectificationItem.objects.create(round=rnd, township_id=towns[i], point=point, stage="primary", problem=f"问题{county}{i}", owner_note="镇教办",
                                             due_on=date(2025, 6, 30), status="closed" if i == 0 else "open")
        case = submit_case(user=officer, title=f"案例{county}经验", theme="lesson", summary="……")
        review_case(user=world.user("province"), case=case, publish=True)
        GoodPractice.objects.filter(pk=case.pk).update(reviewed_at=IN_YEAR)
    return world


def _text(content: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _report(world, key, **params):
    client = Client()
    client.force_login(world.user(key))
    return client.get("/dashboard/annual-report/", params), client


def _dashboard_goal(client, area, period):
    page = client.get("/dashboard/", {"area": area, "period": period}).content.decode()
    attained = int(re.search(r'id="goal-attained">(\d+)<', page).group(1))
    townships = int(re.search(r'id="goal-townships">(\d+)<', page).group(1))
    return attained, townships


def _dashboard_targets(client, area, period) -> dict[int, int]:
    page = client.get("/dashboard/", {"area": area, "period": period}).content.decode()
    table = page[page.index('id="total-table"'):]
    return {int(n): int(a) for n, a in re.findall(r'data-target="(\d)" data-attained="(\d+)"', table[:table.index("</table>")])}


def _pct(attained, townships):
    return f"{attained / townships * 100:.1f}%"


@pytest.mark.parametrize("key,area", [(f"county_{OWN}", OWN), ("city_3708", "3708"), ("province", "37")])
def test_the_reports_figures_are_the_dashboards(year, key, area):
    response, client = _report(year, key, area=area, period=2024)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _flat(_text(response.content))
    attained, townships = _dashboard_goal(client, area, 2024)
    before_attained, before_townships = _dashboard_goal(client, area, 2023)
    assert townships > 0
    assert f"{townships}个乡镇中，{attained}个全部七项目标均达成" in text, text[:800]
    assert f"上一学年为{before_townships}个中的{before_attained}个" in text
    assert f"{attained - before_attained:+d}个" in text
    # Each target, this year beside last, as the dashboards' target tables count them.
    now, before = _dashboard_targets(client, area, 2024), _dashboard_targets(client, area, 2023)
    for n, name in framework_for_period(2024).targets.order_by("number").values_list("number", "name"):
        row = f"目标{n}{name}{now[n]}{_pct(now[n], townships)}{before[n]}{_pct(before[n], before_townships)}{now[n] - before[n]}"
        assert row in text, row
    schools = SchoolYear.objects.filter(period=2024, township__code__startswith=area)
    students = schools.aggregate(n=Sum("students"))["n"]
    assert f"{schools.count()}所学校报送了本学年数据" in text and f"在校生{students:,}人" in text
    money = Funding.objects.filter(year=2024, township__code__startswith=area).aggregate(p=Sum("provincial_planned"), s=Sum("provincial_spent"))
    assert f"省级资金计划{money['p'] or 0:,.2f}" in text and f"已支出{money['s'] or 0:,.2f}" in text
    items = RectificationItem.objects.filter(round__period=2024, township__code__startswith=area)
    assert f"共产生整改事项{items.count()}项，已销号{items.filter(status='closed').count()}项" in text
    published = GoodPractice.objects.filter(unit__code__startswith=area, status="published").count()
    assert f"本学年发布优秀案例{published}个" in text
    # Value-added: the counts are the area's significant township rows; each leader is named.
    va = ValueAdded.objects.filter(period=2024, school_code="", division_code__startswith=area)
    assert va.exists()  # two school years of facts: the fit has run
    above, below = va.filter(verdict="above"), va.filter(verdict="below")
    assert f"本学年有{above.count()}项乡镇指标显著高于" in text and f"{below.count()}项显著低于预期" in text
    for row in above.order_by("point__target__number", "point__order", "point__code", "-value_added", "division_code")[:3]:  # the first listed
        assert row.division_code in text


def test_a_countys_report_holds_nothing_of_another_county(year):
    response, _client = _report(year, f"county_{OWN}", area=OWN, period=2024)
    text = _flat(_text(response.content))
    assert f"{OWN}年度实施方案" in text and f"案例{OWN}经验" in text and "12.50" in text
    others = list(Division.objects.filter(parent_id=OTHER).values_list("name", flat=True)) + [Division.objects.get(code=OTHER).name]
    for marker in [OTHER, f"{OTHER}年度实施方案", f"案例{OTHER}经验", "7.25", *others]:
        assert _flat(marker) not in text, marker


def test_the_citys_report_covers_its_counties(year):
    response, _client = _report(year, "city_3708", area="3708", period=2024)
    text = _flat(_text(response.content))
    for county in (OWN, OTHER):
        assert f"{county}年度实施方案" in text and Division.objects.get(code=county).name in text
    assert "未报送方案" in text  # 济宁's other counties filed none
    assert "青岛" not in text


@pytest.mark.parametrize("key,area", [(f"county_{OWN}", OTHER), (f"county_{OWN}", "3708"), ("city_3702", "3708"), ("city_3702", OWN),
                                      ("inspector_a", OWN), (f"county_{OWN}", "99"), (f"county_{OWN}", "370881001")])
def test_another_areas_report_is_not_found(year, key, area):
    response, _client = _report(year, key, area=area, period=2024)
    assert response.status_code == 404


def test_the_dashboard_links_the_report(year):
    client = Client()
    client.force_login(year.user(f"county_{OWN}"))
    page = client.get("/dashboard/", {"area": OWN, "period": 2024}).content.decode()
    link = re.search(r'id="annual-report" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert client.get(link).status_code == 200


def test_the_query_count_does_not_grow_with_the_area(year, django_assert_max_num_queries):
    for key, area in ((f"county_{OWN}", OWN), ("province", "37")):
        client = Client()
        client.force_login(year.user(key))
        with django_assert_max_num_queries(35):
            assert client.get("/dashboard/annual-report/", {"area": area, "period": 2024}).status_code == 200
