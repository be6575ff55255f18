"""The oracle: whatever changes results, the incremental path (the tasks each change queues) leaves
exactly what a full recomputation from scratch gives.

A hypothesis state machine over the test world (two cities, two counties each, their schools and
pilots) takes random steps — uploads of school and township facts for any year (earlier ones
included), schools moved or re-flagged through the school list, new framework versions, rounds
with forms submitted and returned, pilots withdrawn or put in another phase, admin edits of
facts — and after every step compares every result table, row by row, with a recomputation of
every year held from empty tables. A new version leaves every round's results as they were, and
a withdrawal leaves the years before it as they were.

Each example runs in a savepoint rolled back at its end. Tasks run in-process, after the step's
commit, as a worker would run them (test_tasks holds a real worker to the same recomputation).
CI runs a few examples; `HYPOTHESIS_PROFILE=long` runs many more (README).
"""
import os

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from evaluation.imports.service import import_file
from evaluation.models import AreaResult, FormStatus, InspectionForm, Judgment, PointResult, TargetResult, TownshipResult, ValueAdded
from evaluation.rollup import counties_holding, framework_for_period, held_periods, rollup_county, rollup_levels
from evaluation.services.forms import assign_team, create_round, return_form, save_draft, submit_form
from evaluation.services.framework import load_framework
from tests import import_files as f
from tests.conftest import COUNTIES
from tests.test_multi_year import SCHOOL_HEADERS, TY_HEADERS, framework_document
from townships.jurisdiction import resolve_jurisdiction
from townships.models import Division, Phase, PilotTownship, School
from townships.services.pilot_status import save_pilot_entry, withdraw_pilot

pytestmark = pytest.mark.django_db

PERIODS = [2022, 2023, 2024]
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
EXAMPLES, STEPS = (150, 25) if LONG else (10, 10)
# ValueAdded: no round; the province-wide fit of a year follows its area counts.
RESULT_MODELS = (PointResult, TargetResult, TownshipResult, AreaResult, ValueAdded)
STAGE_NAMES = {"primary": "小学", "junior": "初中", "nine_year": "九年一贯制"}
YES_NO = {True: "是", False: "否"}


def results() -> dict:
    return {m.__name__: sorted(m.objects.values_list(*[x.attname for x in m._meta.concrete_fields if x.attname not in ("id", "computed_at")]), key=_order)
            for m in RESULT_MODELS}


def _order(row):
    # Blank values (None) sort apart from numbers, which they cannot be compared with.
    return tuple((v is None, 0 if v is None else v) for v in row)


def round_results() -> dict:
    return {k: [row for row in rows if row[_round_column(k)] != 0] for k, rows in results().items() if k not in ("AreaResult", "ValueAdded")}


def _round_column(model_name: str) -> int:
    model = {m.__name__: m for m in RESULT_MODELS}[model_name]
    return [x.attname for x in model._meta.concrete_fields if x.attname not in ("id", "computed_at")].index("round_key")


def full_recomputation() -> dict:
    """Every year held, oldest first, from empty result tables; undone afterwards."""
    counties, periods = counties_holding(), held_periods()
    savepoint = transaction.savepoint()
    try:
        for model in RESULT_MODELS:
            model.objects.all().delete()
        for period in periods:
            for county in counties:
                rollup_county(period=period, county=county)
            rollup_levels(period=period, prefix="37")
        return results()
    finally:
        transaction.savepoint_rollback(savepoint)


def test_incremental_results_equal_a_full_recomputation_after_every_change(world, django_capture_on_commit_callbacks, monkeypatch):
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    load_framework()
    province = world.user("province")
    admin = world.user("province")
    admin.is_superuser = True
    admin.save()
    school_codes = sorted(s.code for schools in world.schools.values() for s in schools)
    world_counties = [c for counties in COUNTIES.values() for c in counties]
    towns = sorted(set(Division.objects.filter(parent_id__in=world_counties, kind="town").order_by("code").values_list("code", flat=True)[:0])
                   | {s.township_id for schools in world.schools.values() for s in schools}
                   | set(PilotTownship.objects.filter(township__parent_id__in=world_counties).values_list("township_id", flat=True)))
    pilots = list(PilotTownship.objects.filter(township__parent_id__in=world_counties).order_by("township_id").values_list("pk", flat=True))
    inspectors = {"3708": world.user("inspector_a"), "3702": world.user("inspector_b")}

    def committed(fn):
        """Run a change and what it queued after its commit, as a worker would."""
        with django_capture_on_commit_callbacks(execute=True):
            return fn()

    def upload(sheets):
        run = committed(lambda: import_file(user=province, jurisdiction=resolve_jurisdiction(province), data=f.xlsx(sheets), file_name="o.xlsx",
                                            channel="test", dry_run=False, confirm_all="已核实"))
        assert run.status == "committed", (run.status, run.message)

    class Province(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            self.versions = 0
            self.forms: list[int] = []

        def teardown(self):
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

        @initialize(periods=st.lists(st.sampled_from(PERIODS), min_size=1, max_size=2, unique=True), students=st.integers(100, 900),
                    attending=st.sampled_from([85, 95, 100]))
        def some_years_held(self, periods, students, attending):
            """Most changes matter only against years already held: start with one or two."""
            rows = [[code, "", period, students + i, 40, 6 + i % 3, 0.9, "是", "良", 30] for period in periods for i, code in enumerate(school_codes)]
            upload({"学校年度数据": [f.SY_HEADERS, *rows], "乡镇年度数据": [TY_HEADERS, *([t, p, 100, attending, 100, attending, 100, attending] for t in towns for p in periods)]})

        @rule(schools=st.lists(st.sampled_from(school_codes), min_size=1, max_size=3, unique=True), period=st.sampled_from(PERIODS),
              students=st.integers(50, 1500), teachers=st.integers(5, 80), backbone=st.integers(0, 5),
              health=st.sampled_from([0.82, 0.9, 0.95, 1.0]), canteen=st.booleans())
        def upload_school_years(self, schools, period, students, teachers, backbone, health, canteen):
            rows = [[code, "", period, students + i, teachers, backbone + i, health, YES_NO[canteen], "良", 30] for i, code in enumerate(schools)]
            upload({"学校年度数据": [f.SY_HEADERS, *rows]})

        @rule(town=st.sampled_from(towns), period=st.sampled_from(PERIODS), attending=st.sampled_from([80, 90, 98, 100]))
        def upload_township_year(self, town, period, attending):
            upload({"乡镇年度数据": [TY_HEADERS, [town, period, 100, attending, 100, attending, 100, min(attending + 1, 100)]]})

        @rule(code=st.sampled_from(school_codes), town=st.sampled_from(towns), stage=st.sampled_from(list(STAGE_NAMES)),
              seat=st.booleans(), urban=st.booleans(), quality=st.booleans())
        def change_school(self, code, town, stage, seat, urban, quality):
            """The school list: a move to another 乡镇 (maybe another county), stage and flags."""
            name = School.objects.get(code=code).name
            upload({"学校名录": [SCHOOL_HEADERS, [code, name, STAGE_NAMES[stage], town, YES_NO[seat], YES_NO[urban], YES_NO[urban and quality]]]})

        @rule(applies_from=st.sampled_from(PERIODS), threshold=st.sampled_from([0.85, 0.92, 0.97]))
        def new_framework_version(self, applies_from, threshold):
            before = round_results()
            self.versions += 1
            doc = framework_document(version=f"oracle.{self.versions}", applies_from=applies_from, thresholds={"2.4": threshold, "6.3": threshold})
            committed(lambda: load_framework(document=doc))
            assert round_results() == before, "a new version changed a round's results"

        @rule(period=st.sampled_from(PERIODS), picks=st.lists(st.sampled_from(towns), min_size=1, max_size=2, unique=True))
        def open_round(self, period, picks):
            rnd = committed(lambda: create_round(name=f"评估{period}", period=period, framework=framework_for_period(period),
                                                 township_codes=picks, created_by=province))
            for town in picks:
                lead = inspectors[town[:4]]
                self.forms.append(committed(lambda town=town, lead=lead: assign_team(round=rnd, township_code=town, inspectors=[lead], lead=lead)).pk)

        @precondition(lambda self: self.forms)
        @rule(data=st.data(), fail_one=st.booleans())
        def submit(self, data, fail_one):
            form = InspectionForm.objects.select_related("round").get(pk=data.draw(st.sampled_from(self.forms)))
            if form.status == FormStatus.SUBMITTED:
                return
            lead = inspectors[form.township_id[:4]]
            codes = sorted(Judgment.objects.filter(form=form).values_list("point__code", flat=True))
            answers = {c: {"level": "not_attained" if fail_one and i == 0 else "attained"} for i, c in enumerate(codes)}
            form = committed(lambda: save_draft(form=form, user=lead, version=form.version, answers=answers))
            committed(lambda: submit_form(form=form, user=lead, version=form.version))

        @precondition(lambda self: self.forms)
        @rule(data=st.data())
        def return_one(self, data):
            form = InspectionForm.objects.get(pk=data.draw(st.sampled_from(self.forms)))
            if form.status == FormStatus.SUBMITTED:
                committed(lambda: return_form(form=form, user=province, reason="证据不足"))

        @rule(pilot=st.sampled_from(pilots), year=st.sampled_from(PERIODS))
        def withdraw(self, pilot, year):
            entry = PilotTownship.objects.select_related("batch").get(pk=pilot)
            if entry.withdrawn_in is not None:
                return
            before = {k: [r for r in rows if r[_period_column(k)] < year] for k, rows in results().items()}
            committed(lambda: withdraw_pilot(entry=entry, year=year, user=province))
            after = {k: [r for r in rows if r[_period_column(k)] < year] for k, rows in results().items()}
            assert after == before, "a withdrawal changed a year before it"

        @rule(pilot=st.sampled_from(pilots), phase=st.sampled_from(list(Phase.values)))
        def change_phase(self, pilot, phase):
            entry = PilotTownship.objects.select_related("batch").get(pk=pilot)
            entry.phase = phase
            committed(lambda: save_pilot_entry(entry=entry, user=province))

        @rule(code=st.sampled_from(school_codes), town=st.sampled_from(towns))
        def admin_edit(self, code, town):
            """Around the services: refused, so nothing the results read changes."""
            client = Client(HTTP_HOST="127.0.0.1")
            client.force_login(admin)
            school = School.objects.get(code=code)
            response = client.post(reverse("admin:townships_school_change", args=[school.pk]),
                                   {"code": code, "name": "改名", "stage": "junior", "township": town, "is_seat": "on"})
            assert response.status_code == 403

        @invariant()
        def incremental_equals_full(self):
            incremental = results()
            assert incremental == full_recomputation()
            seen["value_added"] += bool(incremental["ValueAdded"])

    seen = {"value_added": 0}
    run_state_machine_as_test(Province, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=not LONG,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
    ))
    # Not vacuous: some steps held two years of seat schools, so the value-added fit had rows to compare.
    assert seen["value_added"]


def _period_column(model_name: str) -> int:
    model = {m.__name__: m for m in RESULT_MODELS}[model_name]
    return [x.attname for x in model._meta.concrete_fields if x.attname not in ("id", "computed_at")].index("period")
