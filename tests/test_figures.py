"""What a reader sees is true: a target without all its data has no score (never 100 for
missing), the trend starts at the first year with data, and exports are numbers with formats."""
import io
import re

import pytest

from evaluation.models import TargetResult, TownshipResult, TownshipYear
from evaluation.rollup import rollup_all
from evaluation.services.framework import load_framework
from tests.test_reports import COUNTY, load_area, login

pytestmark = pytest.mark.django_db


@pytest.fixture
def results(world):
    load_framework()
    load_area("3708")
    return world


def _sheet(content: bytes, title_part: str):
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    return next(ws for ws in wb.worksheets if title_part in ws.title)


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_a_target_missing_one_point_has_no_score_anywhere(client, results):
    # Target 5 outside a round: 5.1 (the township's district management) and 5.2 (help relations).
    # A 乡镇 that attains it loses 5.1's figure; 5.2 alone would have scored 100 before.
    attained = TargetResult.objects.filter(division_code__startswith=COUNTY, period=2024, round_key=0, target_number=5, verdict="attained")
    town = attained.order_by("division_code").values_list("division_code", flat=True).first()
    assert town, "the demo data should have a 乡镇 attaining target 5"
    TownshipYear.objects.filter(township_id=town, period=2024).update(district_management=None)
    rollup_all(period=2024, prefix=COUNTY)

    target = TargetResult.objects.get(division_code=town, period=2024, round_key=0, target_number=5)
    assert (target.verdict, target.score) == ("insufficient", None)
    assert TownshipResult.objects.get(division_code=town, period=2024, round_key=0).score is None
    # Another 乡镇 with every point's data keeps its score (the rule is not "no scores at all").
    assert TownshipResult.objects.filter(division_code__startswith=COUNTY, period=2024, round_key=0).exclude(score=None).exists()

    login(client, results, f"county_{COUNTY}")
    page = client.get(f"/dashboard/township/{town}/", {"period": 2024, "round": 0}).content.decode()
    cell = re.search(r'<td class="verdict insufficient" data-target="5"[^>]*>(.*?)</td>', page, re.S)
    assert cell and "100" not in cell.group(1) and "<small>" not in cell.group(1)
    summary = re.search(r'id="township-score">(.*?)<', page).group(1)
    assert summary.strip() == "—"

    county = client.get("/dashboard/", {"period": 2024, "round": 0}).content.decode()
    row = re.search(rf'<tr data-code="{town}".*?</tr>', county, re.S).group(0)
    assert re.search(r'<td class="num" data-value="-1">—</td>', row)

    xlsx = client.get(f"/dashboard/township/{town}/export.xlsx", {"period": 2024, "round": 0}).content
    ws = _sheet(xlsx, "目标")
    rows = {r[0]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert rows[5][3] is None  # the score cell of target 5 is empty, not 100
    assert all(r[3] is None or isinstance(r[3], (int, float)) for r in rows.values())

    pdf = _pdf_text(client.get(f"/dashboard/township/{town}/report.pdf", {"period": 2024, "round": 0}).content)
    lines = [line for line in pdf.splitlines() if "辐射带动" in line]
    assert lines and not any("100" in line for line in lines), lines


def test_the_trend_starts_with_a_gap_where_no_previous_year_exists(client, results):
    from django.db.models import F

    # No 乡镇 at the ceiling in the first year: target 7 ("rising year on year") cannot be judged
    # there, since there is no year before it.
    TownshipYear.objects.filter(period=2023).update(
        attending_preschool=F("registered_preschool") * 9 / 10, attending_primary=F("registered_primary") * 9 / 10,
        attending_junior=F("registered_junior") * 9 / 10,
    )
    for period in (2023, 2024):
        rollup_all(period=period, prefix="37")
    assert not TargetResult.objects.filter(period=2023, round_key=0, target_number=7).exclude(verdict="insufficient").exists()
    assert TargetResult.objects.filter(period=2024, round_key=0, target_number=7).exclude(verdict="insufficient").exists()

    login(client, results, "province")
    response = client.get("/dashboard/", {"period": 2024, "round": 0})
    page = response.content.decode()
    # The wording explained where both words appear, and the rankings' note, in Chinese.
    assert "街道虽同属乡级单位，但不计入" in page and "请结合其乡镇数看待排名" in page
    trend = response.context["trend"]
    assert [t["period"] for t in trend] == [2023, 2024]
    first, second = trend
    assert first["shares"][6] is None and first["shares"][7] is None  # target 7 and all seven: gaps
    # The other targets have their shares; target 3 (judgments only) has none without a round.
    assert all(first["shares"][n - 1] is not None for n in (1, 2, 4, 5, 6)) and first["shares"][2] is None
    assert second["shares"][6] is not None and second["shares"][7] is not None
    series = response.context["trend_data"]["series"]
    assert series[6]["data"][0] is None and series[7]["data"][0] is None  # null for ECharts, not 0

    # The XLSX trend sheet: an empty cell for the gap, numbers elsewhere.
    ws = _sheet(client.get("/dashboard/export.xlsx", {"period": 2024, "round": 0}).content, "趋势")
    header = [c.value for c in ws[2]]
    first_row = next(r for r in ws.iter_rows(min_row=3) if r[0].value == "2023–2024学年")
    seven = header.index("七项全部达成")
    assert first_row[seven].value is None
    assert isinstance(first_row[1].value, (int, float)) and first_row[1].number_format == "0.0%"


def test_exports_are_numbers_with_formats_and_a_sheet_to_pivot(client, results):
    login(client, results, "province")
    content = client.get("/dashboard/export.xlsx", {"period": 2024, "round": 0, "area": "3708"}).content
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    ws = wb.worksheets[0]
    assert ws["A1"].value.endswith("2024–2025学年")  # the school year as the pages write it
    header = [c.value for c in ws[2]]
    assert header[3].endswith("达成数") and header[4].endswith("达成占比")
    assert ws.freeze_panes == "C3"
    row = next(r for r in ws.iter_rows(min_row=3) if r[0].value == COUNTY)
    townships, count, share = row[2], row[3], row[4]
    assert isinstance(townships.value, int) and isinstance(count.value, int)
    assert isinstance(share.value, (int, float)) and share.number_format == "0.0%"
    assert share.value == pytest.approx(count.value / townships.value, abs=1e-4)
    # Widths follow the content: the long target headings are not cut at 13 characters.
    assert ws.column_dimensions["D"].width > 13
    data = next(w for w in wb.worksheets if w.title.endswith("数据"))
    head = [c.value for c in data[2]]
    assert head[:2] == ["学年", "年度"]
    rows = list(data.iter_rows(min_row=3, values_only=True))
    assert {r[2] for r in rows} >= {COUNTY, "3708"} and all(isinstance(r[1], int) for r in rows)
    assert all(r[8] is None or isinstance(r[8], (int, float)) for r in rows)

    # A county's data sheet has its 乡镇 too, one row per target, attained 1 or 0 of 1.
    county = load_workbook(io.BytesIO(client.get("/dashboard/export.xlsx", {"period": 2024, "round": 0, "area": COUNTY}).content))
    data = next(w for w in county.worksheets if w.title.endswith("数据"))
    towns = [r for r in data.iter_rows(min_row=3, values_only=True) if len(r[2]) == 9]
    stored = TargetResult.objects.filter(division_code__startswith=COUNTY, period=2024, round_key=0)
    assert len(towns) == stored.count()
    assert sum(r[7] for r in towns) == stored.filter(verdict="attained").count()


def test_each_figure_is_written_by_its_point_format(client, results):
    from evaluation.models import PointResult

    login(client, results, f"county_{COUNTY}")
    computers = PointResult.objects.filter(division_code__startswith=COUNTY, period=2024, round_key=0, point__code="1.6").exclude(value=None).first()
    town = computers.division_code
    page = client.get(f"/dashboard/township/{town}/", {"period": 2024, "round": 0}).content.decode()
    row = re.search(rf'<tr data-point="1.6" data-stage="{computers.stage}">(.*?)</tr>', page, re.S).group(1)
    per_100 = f"{float(computers.value) * 100:,.1f} 台/百生"
    assert per_100 in row  # a per-student figure written per 100 students, with its unit
    share = PointResult.objects.filter(division_code=town, period=2024, round_key=0, point__code="4.2").exclude(value=None).first()
    row = re.search(rf'<tr data-point="4.2" data-stage="{share.stage}">(.*?)</tr>', page, re.S).group(1)
    assert f"{float(share.value) * 100:.1f}%" in row  # a share as a percentage

    ws = _sheet(client.get(f"/dashboard/township/{town}/export.xlsx", {"period": 2024, "round": 0}).content, "观测点")
    rows = list(ws.iter_rows(min_row=3))
    computer_cells = [r[3] for r in rows if r[0].value == "1.6" and r[3].value is not None]
    assert any(c.value == pytest.approx(float(computers.value) * 100) for c in computer_cells)
    assert computer_cells and all(c.number_format == "#,##0.0" for c in computer_cells)
    assert all(r[3].number_format == "0.0%" for r in rows if r[0].value == "4.2" and r[3].value is not None)
    assert {r[6].value for r in rows if r[0].value == "1.3"} == {"元"}


def test_pdf_reports_keep_names_whole_and_the_township_report_lists_its_rectification_items(client, results):
    import datetime

    from evaluation.models import ObservationPoint, Round
    from evaluation.services.forms import create_round
    from workflow.models import RectificationItem

    town = f"{COUNTY}109"
    framework = ObservationPoint.objects.first().target.framework
    rnd = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=[town], created_by=results.user("province"))
    RectificationItem.objects.create(round=Round.objects.get(pk=rnd.pk), township_id=town, point=ObservationPoint.objects.get(code="5.1", target__framework=framework),
                                     stage="all", problem="5.1 域内实行学区化管理（全乡镇：尚未实行）", owner_note="曲阜市教育局", due_on=datetime.date(2025, 3, 1))
    login(client, results, "province")
    pdf = _pdf_text(client.get(f"/dashboard/township/{town}/report.pdf", {"period": 2024}).content)
    assert "整改事项" in pdf and "域内实行学区化管理（全乡镇：尚未实行）" in pdf.replace("\n", "")
    assert "2025-03-01" in pdf

    area = _pdf_text(client.get("/dashboard/report.pdf", {"period": 2024, "round": 0}).content)
    # Short cells never break: each city's name is whole on its line of the table.
    for name in ("济南市", "济宁市", "青岛市", "菏泽市"):
        assert name in area, name
    assert "请结合其乡镇数看待排名" in area.replace("\n", "")  # the note under the ranking


def test_a_figure_that_rounds_to_zero_is_written_without_a_sign():
    # A value-added interval's bound a hair below (or above) zero was written "-0.0%" ("+0.0%").
    from types import SimpleNamespace

    from evaluation.figures import PointFormat
    from evaluation.templatetags.figures import figure_change

    share = SimpleNamespace(scale="share", decimals=1, unit="")
    assert [figure_change(v, share) for v in (-0.0004, 0.0004, -0.0005001, 0.012, -0.012)] == ["0.0%", "0.0%", "-0.1%", "+1.2%", "-1.2%"]
    money = PointFormat(scale="value", decimals=2, unit="元")
    assert (money.text(-0.004), money.text(-0.004, signed=True), money.text(-3.2, signed=True)) == ("0.00 元", "0.00 元", "-3.20 元")
