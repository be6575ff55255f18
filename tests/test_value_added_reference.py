"""The roll-up computes value-added in SQL (the lines' sums, the intervals); this holds every row
it writes — schools and 乡镇, every continuous point and stage of a demo city — to the statsmodels
fit it replaced: WLS of this year on last year weighted by students, and `get_prediction`'s 95 %
observation interval for a unit of that many students. The reference reads the facts through the
ORM and fits in Python, sharing nothing with the SQL but the table it checks."""
from collections import defaultdict

import numpy as np
import pytest
from statsmodels.regression.linear_model import WLS

from evaluation.models import SchoolYear, ValueAdded, ValueAddedVerdict
from evaluation.rollup.scope import framework_for_period
from evaluation.rollup.value_added import MIN_SCHOOLS, continuous_points, rollup_value_added
from evaluation.services.demo import load_demo_facts
from evaluation.services.framework import load_framework
from evaluation.vocabulary import SCHOOL_STAGES
from townships.services.demo import load_demo_schools

pytestmark = pytest.mark.django_db

CITY = "3708"


def _value(row, point):
    x = row[point.column]
    if x is None:
        return None
    if point.denominator:
        d = row[point.denominator]
        return float(x) / float(d) if d else None
    return float(x)


def _interval(fit, xs, ws):
    frame = fit.get_prediction(np.column_stack([np.ones(len(xs)), xs]), weights=np.asarray(ws, dtype=float)).summary_frame(alpha=0.05)
    return frame["mean"].tolist(), frame["obs_ci_lower"].tolist(), frame["obs_ci_upper"].tolist()


def _reference(period: int) -> dict:
    """{(乡镇, school or '', point, stage): (students, previous, actual, expected, lower, upper, verdict, n)}."""
    points = continuous_points(framework_for_period(period))
    columns = sorted({c for p in points for c in (p.column, p.denominator) if c})
    years = defaultdict(dict)
    for row in SchoolYear.objects.filter(period__in=[period - 1, period], school__is_seat=True).values(
        "school__code", "school__stage", "township_id", "period", "students", *columns
    ):
        years[row["school__code"]][row["period"]] = row
    out = {}
    for point in points:
        for stage in point.stage_list:
            units = []
            for code, by_year in sorted(years.items()):
                cur, prev = by_year.get(period), by_year.get(period - 1)
                if not cur or not prev or not cur["students"] or stage not in SCHOOL_STAGES[cur["school__stage"]]:
                    continue
                x, y = _value(prev, point), _value(cur, point)
                if x is not None and y is not None:
                    units.append((cur["township_id"], code, float(cur["students"]), x, y))
            xs = np.array([u[3] for u in units])
            if len(units) < MIN_SCHOOLS or np.ptp(xs) == 0:
                continue
            ws = [u[2] for u in units]
            fit = WLS(np.array([u[4] for u in units]), np.column_stack([np.ones(len(xs)), xs]), weights=np.array(ws)).fit()
            towns = defaultdict(list)
            for u in units:
                towns[u[0]].append(u)
            rows = [(town, code, w, x, y) for town, code, w, x, y in units]
            for town, members in sorted(towns.items()):
                total = sum(u[2] for u in members)
                rows.append((town, "", total, sum(u[2] * u[3] for u in members) / total, sum(u[2] * u[4] for u in members) / total))
            # statsmodels reads a weights vector of two rows as misshapen (the model has two
            # parameters): predict each row alone.
            for town, code, w, x, y in rows:
                (e,), (lo,), (hi,) = _interval(fit, [x], [w])
                va_lo, va_hi = y - hi, y - lo
                verdict = ValueAddedVerdict.ABOVE if va_lo > 0 else ValueAddedVerdict.BELOW if va_hi < 0 else ValueAddedVerdict.AS_EXPECTED
                out[(town, code, point.pk, stage)] = (int(w), x, y, e, va_lo, va_hi, verdict, len(units))
    return out


def test_every_row_equals_the_statsmodels_fit(geography):
    load_framework()
    load_demo_schools(province_prefix=CITY, villages_per_township=1)
    load_demo_facts(province_prefix=CITY, periods=(2023, 2024))
    rollup_value_added(period=2024, province="37")
    expected = _reference(2024)
    rows = {
        (r.division_code, r.school_code, r.point_id, r.stage): r
        for r in ValueAdded.objects.filter(period=2024)
    }
    assert len(expected) > 1000 and len({k[2] for k in expected}) >= 5  # many lines, schools and 乡镇
    assert set(rows) == set(expected)
    for key, (students, x, y, e, lo, hi, verdict, n) in expected.items():
        row = rows[key]
        assert row.students == students and row.schools_fitted == n, key
        for field, value in (("previous", x), ("actual", y), ("expected", e), ("value_added", y - e), ("lower", lo), ("upper", hi)):
            assert float(getattr(row, field)) == pytest.approx(value, rel=1e-9, abs=2e-6), (key, field)
        if min(abs(lo), abs(hi)) > 1e-6:  # a bound at zero to the sixth decimal may round either way
            assert row.verdict == verdict, key
