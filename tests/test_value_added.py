"""增值性评价 on a hand-made province whose answer is known.

Six seat primary schools (x = last year's academic average, w = students) lie around the line
y = 5 + 0.9·x with residuals chosen by hand so that Σw·e = 0 and Σw·x·e = 0 — the weighted least
squares normal equations — so the fitted line is exactly that line: school B (residual 0) has a
value-added of 0, school A (residual +10) one of +10. The 95 % interval is computed here in closed
form with numpy (and scipy's t quantile), independently of statsmodels. With six schools A's +10
is within the spread (as expected); with twenty more schools on the line the spread shrinks and
A is significantly above expected — the interval excludes 0 only then.
"""
from decimal import Decimal

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from scipy import stats

from evaluation.models import ObservationPoint, SchoolYear, ValueAdded, ValueAddedVerdict
from evaluation.rollup import rollup_all
from evaluation.rollup.value_added import rollup_value_added
from evaluation.services.framework import load_framework
from tests.factories import SchoolFactory
from townships.models import Division, Stage

pytestmark = pytest.mark.django_db

# name: (last year, residual, students); all in one county's first two 乡镇 (A, B in the first).
HAND = {"A": (50, 10, 100), "B": (60, 0, 300), "C": (40, -4, 200), "D": (70, -8, 100), "E": (80, 2, 200), "F": (30, 2, 100)}
COUNTY = "370881"


def line(x):
    return 5 + 0.9 * x


def closed_form(xs, ys, ws, x0, w0):
    """The WLS prediction interval at x0 for a unit of weight w0, by the textbook formulae."""
    X = np.column_stack([np.ones(len(xs)), xs])
    W = np.diag(ws)
    xtwx_inv = np.linalg.inv(X.T @ W @ X)
    beta = xtwx_inv @ X.T @ W @ ys
    resid = ys - X @ beta
    sigma2 = float(resid @ W @ resid) / (len(xs) - 2)
    x0v = np.array([1.0, x0])
    expected = float(x0v @ beta)
    se = np.sqrt(sigma2 / w0 + sigma2 * float(x0v @ xtwx_inv @ x0v))
    t = stats.t.ppf(0.975, len(xs) - 2)
    return expected, expected - t * se, expected + t * se


def _towns():
    return list(Division.objects.filter(parent_id=COUNTY, kind="town").order_by("code").values_list("code", flat=True)[:3])


def _school(code, town, last, this, students):
    school = SchoolFactory(code=code, name=f"学校{code}", township_id=town, stage=Stage.PRIMARY, is_seat=True)
    SchoolYear.objects.create(school=school, township_id=town, period=2023, students=students, academic_average=Decimal(str(last)))
    SchoolYear.objects.create(school=school, township_id=town, period=2024, students=students, academic_average=Decimal(str(this)))
    return school


@pytest.fixture
def hand(geography):
    load_framework()
    towns = _towns()
    placed = {"A": towns[0], "B": towns[0]}
    for i, (name, (x, e, w)) in enumerate(sorted(HAND.items())):
        _school(f"9{COUNTY}{i:03d}", placed.get(name, towns[1]), x, round(line(x) + e, 2), w)
    return towns


def _point():
    return ObservationPoint.objects.get(code="2.6", target__framework__version__isnull=False)


def _hand_arrays(extra=()):
    rows = [(x, line(x) + e, w) for x, e, w in HAND.values()] + [(x, line(x), w) for x, w in extra]
    xs, ys, ws = (np.array(v, dtype=float) for v in zip(*rows, strict=True))
    return xs, ys, ws


def _row(town, school=""):
    return ValueAdded.objects.get(division_code=town, school_code=school, point=_point(), period=2024, stage="primary")


def test_a_school_on_the_line_has_zero_and_one_ten_above_has_ten_with_the_closed_form_interval(hand):
    rollup_value_added(period=2024, province="37")
    codes = {name: f"9{COUNTY}{i:03d}" for i, name in enumerate(sorted(HAND))}
    xs, ys, ws = _hand_arrays()
    on_line = _row(hand[0], codes["B"])
    assert on_line.value_added == Decimal("0")
    assert on_line.expected == Decimal("59")
    above = _row(hand[0], codes["A"])
    assert above.value_added == Decimal("10")
    expected, lo, hi = closed_form(xs, ys, ws, 50, 100)
    assert float(above.expected) == pytest.approx(expected, abs=1e-6) == 50
    # The value-added interval is actual minus the prediction interval.
    assert float(above.lower) == pytest.approx(60 - hi, abs=1e-5)
    assert float(above.upper) == pytest.approx(60 - lo, abs=1e-5)
    assert above.lower < 0 < above.upper  # six schools: +10 is within the spread
    assert above.verdict == ValueAddedVerdict.AS_EXPECTED
    assert above.schools_fitted == 6


def test_the_interval_excludes_zero_only_when_the_spread_allows(hand):
    towns = hand
    extra = [(30 + 2 * i, 150) for i in range(20)]
    for i, (x, w) in enumerate(extra):
        _school(f"8{COUNTY}{i:03d}", towns[2], x, round(line(x), 2), w)
    rollup_value_added(period=2024, province="37")
    xs, ys, ws = _hand_arrays(extra)
    code_a = f"9{COUNTY}000"
    above = _row(towns[0], code_a)
    expected, lo, hi = closed_form(xs, ys, ws, 50, 100)
    assert float(above.value_added) == pytest.approx(10, abs=1e-6)
    assert float(above.lower) == pytest.approx(60 - hi, abs=1e-5) and float(above.upper) == pytest.approx(60 - lo, abs=1e-5)
    assert above.lower > 0
    assert above.verdict == ValueAddedVerdict.ABOVE
    # D (residual −8, x 70, 100 students) is significantly below; C (−4, x 40, 200 students) is not.
    below = _row(towns[1], f"9{COUNTY}003")
    _e, lo_d, hi_d = closed_form(xs, ys, ws, 70, 100)
    assert below.value_added == Decimal("-8") and float(below.upper) == pytest.approx(line(70) - 8 - lo_d, abs=1e-5) and below.upper < 0
    assert below.verdict == ValueAddedVerdict.BELOW
    within = _row(towns[1], f"9{COUNTY}002")
    _e, lo_c, hi_c = closed_form(xs, ys, ws, 40, 200)
    assert within.value_added == Decimal("-4") and float(within.upper) == pytest.approx(line(40) - 4 - lo_c, abs=1e-5)
    assert within.lower < 0 < within.upper and within.verdict == ValueAddedVerdict.AS_EXPECTED
    # Every school on the line: 0, as expected.
    assert set(ValueAdded.objects.filter(division_code=towns[2], school_code__startswith="8").values_list("value_added", "verdict")) == {
        (Decimal("0"), ValueAddedVerdict.AS_EXPECTED)}


def test_township_value_added_is_the_student_weighted_mean_with_the_interval_of_that_mean(hand):
    rollup_value_added(period=2024, province="37")
    town = _row(hand[0])
    # A (+10, 100 students) and B (0, 300 students): (100·10 + 300·0) / 400.
    assert town.value_added == Decimal("2.5")
    assert town.students == 400
    x_mean = (100 * 50 + 300 * 60) / 400
    xs, ys, ws = _hand_arrays()
    expected, lo, hi = closed_form(xs, ys, ws, x_mean, 400)
    actual = (100 * 60 + 300 * 59) / 400
    assert float(town.expected) == pytest.approx(expected, abs=1e-6)
    assert float(town.actual) == pytest.approx(actual, abs=1e-6)
    assert float(town.lower) == pytest.approx(actual - hi, abs=1e-5)
    assert float(town.upper) == pytest.approx(actual - lo, abs=1e-5)


def test_recomputation_is_idempotent_and_follows_changes_elsewhere(hand):
    rollup_value_added(period=2024, province="37")
    first = sorted(ValueAdded.objects.values_list("division_code", "school_code", "value_added", "lower", "upper"))
    assert rollup_value_added(period=2024, province="37") == set()  # nothing changed, nothing written
    assert sorted(ValueAdded.objects.values_list("division_code", "school_code", "value_added", "lower", "upper")) == first
    # Another school's figure changes: the line moves, so B (elsewhere) is no longer on it.
    SchoolYear.objects.filter(school__code=f"9{COUNTY}004", period=2024).update(academic_average=Decimal("90"))
    changed = rollup_value_added(period=2024, province="37")
    assert hand[0] in changed
    assert _row(hand[0], f"9{COUNTY}001").value_added != Decimal("0")
    # A school losing last year's figure leaves the fit and its row goes.
    SchoolYear.objects.filter(school__code=f"9{COUNTY}000", period=2023).update(academic_average=None)
    rollup_value_added(period=2024, province="37")
    assert not ValueAdded.objects.filter(school_code=f"9{COUNTY}000").exists()
    assert ValueAdded.objects.filter(school_code=f"9{COUNTY}001", point=_point()).get().schools_fitted == 5


@pytest.mark.parametrize("prefix", ["37", "3708"])
def test_the_full_recomputation_computes_it(hand, prefix):
    rollup_all(prefix=prefix)  # a city's recomputation too: the fit is the province's
    assert _row(hand[0], f"9{COUNTY}001").value_added == Decimal("0")


def _client(user):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def test_township_page_shows_it_and_county_officer_sees_only_his_ranking(world, hand):
    rollup_all()
    officer = world.user(f"county_{COUNTY}")
    client = _client(officer)
    page = client.get(reverse("reports:township", args=[hand[0]]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="value-added-chart"' in html and 'data-point="2.6"' in html
    dash = client.get(reverse("reports:dashboard"), {"area": COUNTY, "va_point": "2.6", "va_stage": "primary"}).content.decode()
    assert 'id="value-added-ranking-table"' in dash
    assert f'data-code="{hand[0]}"' in dash and f'data-code="{hand[1]}"' in dash
    # Another county's dashboard (and its ranking) is not found.
    assert client.get(reverse("reports:dashboard"), {"area": "370883"}).status_code == 404
    assert client.get(reverse("reports:township", args=["370883100"])).status_code == 404
    # The other county's officer sees none of these 乡镇 in his ranking.
    other = _client(world.user("county_370883")).get(reverse("reports:dashboard"), {"area": "370883", "va_point": "2.6"}).content.decode()
    assert hand[0] not in other
    city = _client(world.user("city_3708")).get(reverse("reports:dashboard"), {"area": "3708", "va_point": "2.6"}).content.decode()
    assert f'data-code="{hand[0]}"' in city
    assert _client(world.user("city_3702")).get(reverse("reports:dashboard"), {"area": "3708"}).status_code == 404


def test_exports_carry_it(world, hand):
    rollup_all()
    client = _client(world.user(f"county_{COUNTY}"))
    xlsx = client.get(reverse("reports:dashboard_xlsx"), {"area": COUNTY, "va_point": "2.6"})
    assert xlsx.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(xlsx.content))
    sheet = next(ws for ws in book.worksheets if "增值" in ws.title)
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert any(str(c) == Division.objects.get(code=hand[0]).name for c in cells)
    town_xlsx = client.get(reverse("reports:township_xlsx", args=[hand[0]]))
    town_book = load_workbook(BytesIO(town_xlsx.content))
    assert any("增值" in ws.title for ws in town_book.worksheets)
    pdf = client.get(reverse("reports:township_pdf", args=[hand[0]]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    from tests.test_reports import _pdf_text

    text = _pdf_text(pdf.content)
    assert "增值性评价" in text and "与预期相当" in text
    assert client.get(reverse("reports:dashboard_pdf"), {"area": COUNTY}).status_code == 200


def test_alliances_are_uploaded_counted_and_helped_schools_compared(world, hand):
    from evaluation.models import HelpRelation
    from tests import import_files as f
    from tests.test_imports import upload

    helper = world.schools["370883"][0]
    a_code = f"9{COUNTY}000"
    rows = [["帮扶学校标识码", "受帮扶学校标识码", "帮扶方式", "学年"], [helper.code, a_code, "联盟", 2024]]
    city = world.user("city_3708")
    refused = upload(city, f.xlsx({"帮扶关系": [rows[0], [helper.code, a_code, "联合体", 2024]]}))
    assert refused.status == "invalid" and not HelpRelation.objects.exists()
    run = upload(city, f.xlsx({"帮扶关系": rows}))
    assert run.status == "committed", run.errors
    assert HelpRelation.objects.get().kind == "alliance"
    rollup_all()
    page = _client(world.user(f"county_{COUNTY}")).get(reverse("reports:dashboard"), {"area": COUNTY, "va_point": "2.6", "va_stage": "primary"})
    html = page.content.decode()
    # The county's own row: one alliance (the kinds' order: groups, alliances, pairings, …).
    row = html.split(f'<tr data-code="{COUNTY}">', 1)[1].split("</tr>", 1)[0]
    assert [c.split("</td>")[0] for c in row.split('<td class="num">')[1:]] == ["0", "1", "0", "0", "0", "1"]
    # A (+10) helped, the five others not: means +10 and (0 − 4 − 8 + 2 + 2) / 5 = −1.6, with their n.
    helped = html.split('data-group="helped"', 1)[1].split("</tr>", 1)[0]
    other = html.split('data-group="other"', 1)[1].split("</tr>", 1)[0]
    assert ">1<" in helped and "+10" in helped
    assert ">5<" in other and "-1.6" in other


def test_a_recomputation_job_computes_it_once_its_last_county_is_done(hand, django_capture_on_commit_callbacks, monkeypatch):
    from evaluation.models import RollupJob
    from evaluation.services.rollup_jobs import start_job
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        job = start_job(periods=[2023, 2024], prefix="3708")
    assert RollupJob.objects.get(pk=job.pk).status == "done"
    assert _row(hand[0], f"9{COUNTY}001").value_added == Decimal("0")
    assert _row(hand[0], f"9{COUNTY}000").value_added == Decimal("10")
