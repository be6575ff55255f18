"""The seven targets as data: the shipped framework is complete, traceable and sourced."""
import json
import unicodedata

import pytest
from django.conf import settings

from evaluation.models import Aggregation, Framework, ObservationPoint, RuleKind, SchoolYear, SourceKind, TownshipYear
from evaluation.services.forms import create_round
from evaluation.services.framework import copy_framework, load_framework

pytestmark = pytest.mark.django_db
SEED = (settings.BASE_DIR.parent / "shared" / "seeds" / "003_f3ea52e9bb952a7e.txt")
FIXTURE = settings.BASE_DIR / "fixtures" / "framework" / "framework-2021.json"


@pytest.fixture
def framework(db):
    return load_framework()


def test_seven_targets_each_with_points(framework):
    targets = list(framework.targets.prefetch_related("points"))
    assert [t.number for t in targets] == [1, 2, 3, 4, 5, 6, 7]
    assert all(t.points.exists() for t in targets)


def test_every_point_names_an_existing_source_and_a_rule(framework):
    columns = {
        SourceKind.SCHOOL_COLUMN: {f.name for f in SchoolYear._meta.concrete_fields},
        SourceKind.TOWNSHIP_COLUMN: {f.name for f in TownshipYear._meta.concrete_fields},
    }
    for point in ObservationPoint.objects.filter(target__framework=framework):
        assert point.rule in RuleKind.values and point.source_quote
        if point.source_kind in columns:
            assert point.column in columns[point.source_kind], point.code
            assert not point.denominator or point.denominator in columns[point.source_kind], point.code
        if point.source_kind == SourceKind.SCHOOL_COLUMN:
            assert set(point.stage_list) <= {"kindergarten", "primary", "junior"} and point.stage_list, point.code
            assert point.aggregation in Aggregation.values and point.aggregation != Aggregation.NONE
        if point.rule in (RuleKind.THRESHOLD, RuleKind.QUALITY_GAP, RuleKind.AT_MOST):
            assert point.threshold is not None, point.code


def test_the_programmes_numbers_are_traced_to_its_sentences(framework):
    # The seed prints half-width punctuation; compare after NFKC so （ and ( are one character.
    seed = unicodedata.normalize("NFKC", SEED.read_text(encoding="utf-8")) if SEED.exists() else None
    quality = ObservationPoint.objects.get(target__framework=framework, code="2.6")
    assert quality.rule == RuleKind.QUALITY_GAP and str(quality.threshold) == "0.1500" and not quality.portal_default
    assert "差异率低于0.15" in quality.source_quote
    satisfaction = ObservationPoint.objects.filter(target__framework=framework, target__number=6, rule=RuleKind.THRESHOLD, source_kind=SourceKind.TOWNSHIP_COLUMN)
    assert {str(p.threshold) for p in satisfaction} == {"0.9000"} and satisfaction.count() == 2
    assert all("90%以上" in p.source_quote and not p.portal_default for p in satisfaction)
    for target in framework.targets.all():
        assert not seed or unicodedata.normalize("NFKC", target.source_quote) in seed, target.number
    for point in ObservationPoint.objects.filter(target__framework=framework):
        for fragment in unicodedata.normalize("NFKC", point.source_quote).replace("...", "…").split("…"):
            if seed and fragment:
                assert fragment in seed, (point.code, fragment)


def test_unsourced_numbers_are_marked_portal_defaults(framework):
    defaults = set(ObservationPoint.objects.filter(target__framework=framework, portal_default=True).values_list("column", flat=True))
    assert {"physical_health_pass_rate", "arts_skill_rate", "clubs"} <= defaults
    assert "academic_average" not in defaults


def test_kindergartens_have_their_own_points_and_veto_is_violations(framework):
    kindergarten = set(ObservationPoint.objects.filter(target__framework=framework, stages="kindergarten").values_list("column", flat=True))
    assert {"care_quality_grade", "play_based_curriculum", "safety_grade"} <= kindergarten
    assert list(ObservationPoint.objects.filter(target__framework=framework, veto=True).values_list("column", flat=True)) == ["violations"]


def test_a_framework_used_by_a_round_is_frozen(framework, world):
    create_round(name="r", period=2024, framework=framework, township_codes=["370881109"], created_by=world.user("province"))
    framework.refresh_from_db()
    assert framework.frozen
    point = ObservationPoint.objects.get(target__framework=framework, code="2.4")
    load_framework()  # reloading the file never edits a frozen version
    assert ObservationPoint.objects.get(pk=point.pk).threshold == point.threshold
    new = copy_framework(framework=framework, version="2021.2")
    assert not new.frozen and ObservationPoint.objects.filter(target__framework=new).count() == ObservationPoint.objects.filter(target__framework=framework).count()


def test_provincial_staff_cannot_edit_a_frozen_framework_in_the_admin(client, framework, world):
    create_round(name="r", period=2024, framework=framework, township_codes=["370881109"], created_by=world.user("province"))
    client.force_login(world.user("province"))
    point = ObservationPoint.objects.get(target__framework=framework, code="2.4")
    client.post(f"/admin/evaluation/observationpoint/{point.pk}/change/", {"threshold": "0.5"})
    point.refresh_from_db()
    assert str(point.threshold) == "0.9000"
    client.force_login(world.user("county_370881"))
    assert client.get("/admin/evaluation/framework/").status_code == 403


def test_fixture_is_the_loaded_framework(framework):
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert framework.version == doc["version"]
    assert ObservationPoint.objects.filter(target__framework=framework).count() == sum(len(t["points"]) for t in doc["targets"])
    assert Framework.objects.count() == 1
