"""Pilots against comparable 乡镇 and the path to the goal, on a small province written out by hand.

City 3708: in county 370881, t1 and t2 are the pilots of a 2022 batch, t3–t5 non-pilots; u1 is a
non-pilot of county 370883. Their targets attained (TargetResult, TownshipResult) in 2022 and
2023 are written below, and every expected count comes from this table, by hand:

        2022: targets (score)      2023: targets
  t1    1,2        (50)            all seven
  t2    1          (40)            1,2,3
  t3    1,2        (52)            1,2
  t4    —          (10)            1
  t5    all seven  (95)            all seven
  u1    1          (41)            all seven

Matched by the 2022 figures: t1 (2 targets, 50) → t3 (2, 52); t2 (1, 40) → u1 (1, 41).
"""
import pytest
from django.test import Client, override_settings
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.models import AreaResult, TargetResult, TownshipResult
from evaluation.vocabulary import EvaluationStage, Verdict
from reports.selectors import parse_filters
from reports.selectors.programme import goal_for, goal_path, pilot_comparison
from townships.jurisdiction import Jurisdiction
from townships.models import PROGRAMME_KINDS, Division, PilotBatch, PilotTownship

pytestmark = pytest.mark.django_db

ALL = set(range(1, 8))
HAND = {  # name: (county, {2022: (targets, score), 2023: targets})
    "t1": ("370881", {2022: ({1, 2}, 50), 2023: (ALL, 80)}),
    "t2": ("370881", {2022: ({1}, 40), 2023: ({1, 2, 3}, 60)}),
    "t3": ("370881", {2022: ({1, 2}, 52), 2023: ({1, 2}, 55)}),
    "t4": ("370881", {2022: (set(), 10), 2023: ({1}, 20)}),
    "t5": ("370881", {2022: (ALL, 95), 2023: (ALL, 96)}),
    "u1": ("370883", {2022: ({1}, 41), 2023: (ALL, 90)}),
}


def _area(code, period, population, townships, attained, target=0):
    AreaResult.objects.create(division_code=code, period=period, round_key=0, population=population, stage=EvaluationStage.ALL,
                              target_number=target, townships=townships, attained=attained)


@pytest.fixture
def small(geography):
    PilotTownship.objects.all().delete()  # the fixture's batch: this province has only the hand-made one
    towns = {}
    for county in ("370881", "370883"):
        codes = list(Division.objects.filter(parent_id=county, kind__in=PROGRAMME_KINDS).order_by("code").values_list("code", flat=True))
        towns[county] = iter(codes)
    codes = {name: next(towns[county]) for name, (county, _y) in HAND.items()}
    batch = PilotBatch.objects.create(year=2022, name="手工批次", source_document="test")
    PilotTownship.objects.bulk_create([PilotTownship(batch=batch, township_id=codes[n]) for n in ("t1", "t2")])
    for name, (_county, years) in HAND.items():
        for period, (targets, score) in years.items():
            TownshipResult.objects.create(division_code=codes[name], period=period, round_key=0, targets_attained=len(targets),
                                          all_seven=targets == ALL, score=score)
            TargetResult.objects.bulk_create([
                TargetResult(division_code=codes[name], target_number=n, period=period, round_key=0,
                             verdict=Verdict.ATTAINED if n in targets else Verdict.NOT_ATTAINED) for n in range(1, 8)])
    for period in (2022, 2023):
        _area("3708", period, "all", 6, 1 if period == 2022 else 3)
    return codes, batch


def _filters(area, **params):
    return parse_filters({"area": area, **params}, Jurisdiction(everything=True))


def test_pilots_against_the_same_counties_and_a_matched_group(small):
    codes, batch = small
    [c] = pilot_comparison(_filters("3708", period=2023))
    assert c.batch == batch and c.years == [2022, 2023]
    assert c.sizes["pilots"] == 2 and c.sizes["matched"] == 2
    p, s, m = (c.groups[g] for g in ("pilots", "same_counties", "matched"))
    # Number of 乡镇 judged each year: pilots t1 t2, same counties t3 t4 t5, matched t3 u1.
    assert [p[y].townships for y in (2022, 2023)] == [2, 2]
    assert [s[y].townships for y in (2022, 2023)] == [3, 3]
    assert [m[y].townships for y in (2022, 2023)] == [2, 2]
    # Shares: index 0 = target 1, 1 = target 2, 7 = all seven.
    assert (p[2022].shares[0], p[2022].shares[1], p[2022].shares[7]) == (1, 0.5, 0)
    assert (p[2023].shares[0], p[2023].shares[1], p[2023].shares[7]) == (1, 1, 0.5)
    assert (s[2022].shares[0], s[2022].shares[1], s[2022].shares[7]) == (2 / 3, 2 / 3, 1 / 3)
    assert (s[2023].shares[0], s[2023].shares[1], s[2023].shares[7]) == (1, 2 / 3, 1 / 3)
    assert (m[2022].shares[7], m[2023].shares[7]) == (0, 0.5)
    # DiD in points: all seven +50 − 0 vs the same counties, +50 − 50 vs the matched; target 1 0 − 33.3.
    assert c.did["same_counties"][2023][7] == 50.0
    assert c.did["matched"][2023][7] == 0.0
    assert c.did["same_counties"][2023][0] == -33.3
    assert c.did["same_counties"][2023][1] == 50.0
    assert c.did["same_counties"][2022] == [0.0] * 8


def test_a_county_sees_only_its_own_pilots_and_non_pilots(small):
    codes, _batch = small
    _area("370883", 2023, "all", 1, 1)
    assert pilot_comparison(_filters("370883", period=2023)) == []  # no pilots there
    _area("370881", 2022, "all", 5, 1)
    _area("370881", 2023, "all", 5, 2)
    [c] = pilot_comparison(_filters("370881", period=2023))
    # u1 (the other county) is outside the area: t2 (1 target, 40) now matches t3 (1 apart, score
    # 12 apart) rather than t4 (1 apart, 30): t3 twice, once per pilot, never attaining all seven.
    assert c.groups["matched"][2023].townships == 2
    assert c.groups["matched"][2023].shares[7] == 0
    assert c.did["matched"][2023][7] == 50.0
    assert c.groups["same_counties"][2023].townships == 3


def _province(rows):
    for period, population, townships, attained in rows:
        _area("37", period, population, townships, attained)


def test_the_path_to_half_by_2025(small):
    _province([(2021, "all", 100, 10), (2022, "all", 100, 25), (2023, "all", 100, 28), (2022, "pilots", 20, 8), (2023, "pilots", 20, 9)])
    path = goal_path(_filters("37", period=2023))
    years = {y["period"]: y for y in path["years"]}
    assert path["start_share"] == 0.1
    # Straight from 10 % (2021) to 50 % (2025): 20 % in 2022, 30 % in 2023.
    assert years[2022]["path_count"] == 20 and years[2022]["behind"] == 0
    assert years[2023]["path_count"] == 30 and years[2023]["behind"] == 2
    assert (years[2023]["pilots"], years[2023]["pilots_attained"]) == (20, 9)


@pytest.fixture
def cities(geography):
    _province([(2021, "all", 100, 10), (2023, "all", 100, 28)])
    for code, n, a in (("3708", 40, 4), ("3702", 30, 12), ("3701", 20, 5)):
        _area(code, 2023, "all", n, a)


def test_the_cities_furthest_behind_their_share(cities):
    behind = goal_path(_filters("37", period=2023))["behind"]
    # Path share 30 % in 2023: 3708 at 10 % is 20 points behind, 3701 at 25 % 5; 3702 at 40 % is ahead.
    assert [(r["code"], r["gap"]) for r in behind] == [("3708", 20.0), ("3701", 5.0)]


@override_settings(PROGRAMME_GOALS=[{"start": 2021, "year": 2025, "share": 0.5}, {"start": 2025, "year": 2030, "share": 0.8}])
def test_after_2025_the_next_goal_applies(geography):
    assert goal_for(2024)["year"] == 2025 and goal_for(2025)["year"] == 2025
    assert goal_for(2026) == {"start": 2025, "year": 2030, "share": 0.8}
    _province([(2025, "all", 100, 50), (2026, "all", 100, 55)])
    path = goal_path(_filters("37", period=2026))
    # From 50 % in 2025 to 80 % in 2030: 56 % in 2026 → 56 乡镇, 1 behind.
    years = {y["period"]: y for y in path["years"]}
    assert years[2026]["path_count"] == 56 and years[2026]["behind"] == 1


def test_dashboards_show_them_inside_the_jurisdiction(world, small):
    from evaluation.services.framework import load_framework

    load_framework()  # the exports name the seven targets
    _province([(2021, "all", 100, 10), (2022, "all", 100, 25), (2023, "all", 100, 28)])
    province = Client(HTTP_HOST="127.0.0.1")
    province.force_login(world.user("province"))
    page = province.get(reverse("reports:dashboard"), {"area": "37"}).content.decode()
    assert 'id="goal-path-table"' in page
    city = Client(HTTP_HOST="127.0.0.1")
    city.force_login(world.user("city_3708"))
    page = city.get(reverse("reports:dashboard"), {"area": "3708"}).content.decode()
    assert 'id="pilot-comparison"' in page and 'data-group="did:matched"' in page
    assert city.get(reverse("reports:dashboard"), {"area": "37"}).status_code == 404
    other = Client(HTTP_HOST="127.0.0.1")
    other.force_login(world.user("city_3702"))
    assert other.get(reverse("reports:dashboard"), {"area": "3708"}).status_code == 404
    assert city.get(reverse("reports:dashboard_xlsx"), {"area": "3708"}).status_code == 200
    from tests.test_reports import _pdf_text

    pdf = _pdf_text(city.get(reverse("reports:dashboard_pdf"), {"area": "3708"}).content)
    assert "试点2022 手工批次与可比乡镇对比" in pdf and "达标之路" in pdf


def test_the_pilot_comparison_api_serves_the_same_rows(world, small):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(world.user("city_3708"))
    body = api.get("/api/pilot-comparison/", {"area": "3708", "period": 2023}).json()
    rows = {(r["period"], r["group"]): r for r in body["results"]}
    assert body["count"] == 6  # two years × three groups
    assert rows[(2023, "pilots")]["shares"][7] == 0.5 and rows[(2023, "pilots")]["did"] is None
    assert rows[(2023, "same_counties")]["did"][7] == 50.0 and rows[(2023, "same_counties")]["townships"] == 3
    assert rows[(2023, "matched")]["did"][7] == 0.0
    other = APIClient()
    other.force_authenticate(world.user("city_3702"))
    assert other.get("/api/pilot-comparison/", {"area": "3708"}).status_code == 404


def _match_by_scanning(pilots, pool, start, results):
    # The rule as the module docstring states it: the minimum over the whole pool, per pilot.
    def key(p, c):
        a, b = results[(p, start)], results[(c, start)]
        return (abs(a["count"] - b["count"]), abs((a["score"] or 0) - (b["score"] or 0)), c)

    usable = [c for c in pool if (c, start) in results]
    return [min(usable, key=lambda c, p=p: key(p, c)) for p in pilots if (p, start) in results and usable]


@pytest.mark.django_db(False)
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.one_of(st.none(), st.sampled_from([0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 52.5]),
                                                      st.floats(0, 100, allow_nan=False))), min_size=1, max_size=40),
       st.integers(1, 10), st.integers(0, 5))
def test_the_matched_group_is_the_nearest_non_pilot_as_a_scan_of_the_pool_finds_it(rows, n_pilots, n_missing):
    from reports.selectors.programme import _match

    codes = [f"3708810{i:02d}" for i in range(len(rows))]
    results = {(c, 2022): {"count": n, "score": s} for c, (n, s) in zip(codes, rows, strict=True)}
    # Some 乡镇 without results that year, pilots and pool alike.
    for c in codes[:n_missing]:
        results.pop((c, 2022))
    pilots, pool = codes[:n_pilots], codes[n_pilots:] + codes[:2]
    assert _match(pilots, pool, 2022, results) == _match_by_scanning(pilots, pool, 2022, results)
