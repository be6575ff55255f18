"""Field verification (实地核查): a reproducible, weighted sample; values found on site with
evidence; exactly one data-quality finding per item beyond tolerance; verdicts that the verified
values change, marked 经核查; inspectors reach only their assignments."""
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from evaluation.models import DataQualityFinding, SchoolYear, VerificationItem, VerificationSample, VerifiedVerdict
from evaluation.rollup import rollup_all
from evaluation.services.demo import load_demo_facts
from evaluation.services.forms import assign_team, create_round
from evaluation.services.framework import load_framework
from evaluation.services.verification import VerificationRefused, draw_sample, record_verification
from evaluation.verification import DEFAULT_TOLERANCES, beyond_tolerance, field_weights
from security.models import AuditEvent
from tests.conftest import snapshot
from tests.factories import UserFactory
from townships.models import Division, Role, School
from townships.services.demo import load_demo_schools

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 100
OWN, OTHER = "370881", "370883"


def _town(county):
    return Division.objects.filter(parent_id=county, kind="town").order_by("code").first().code


@pytest.fixture
def rnd(world):
    framework = load_framework()
    load_demo_schools(province_prefix="3708", villages_per_township=1)
    load_demo_facts(province_prefix="3708", periods=(2024,))
    towns = {OWN: _town(OWN), OTHER: _town(OTHER)}
    r = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=list(towns.values()), created_by=world.user("province"))
    assign_team(round=r, township_code=towns[OWN], inspectors=[world.user("inspector_a")], lead=world.user("inspector_a"))
    assign_team(round=r, township_code=towns[OTHER], inspectors=[world.user("inspector_b")], lead=world.user("inspector_b"))
    rollup_all(period=2024, prefix="3708")
    r.towns = towns
    return r


def _items(sample):
    return list(VerificationItem.objects.filter(sample=sample).order_by("township_id", "school_id", "field")
                .values_list("township_id", "school_id", "field", "reported", "weight"))


def test_the_same_seed_draws_the_same_sample_and_another_seed_another(rnd, world):
    province = world.user("province")
    first = _items(draw_sample(round=rnd, user=province, seed="2024-核查-1", per_township=8))
    assert len(first) == 16 and {t for t, *_ in first} == set(rnd.towns.values())
    again = _items(draw_sample(round=rnd, user=province, seed="2024-核查-1", per_township=8))
    assert again == first
    assert VerificationSample.objects.get(round=rnd).seed == "2024-核查-1"
    other = _items(draw_sample(round=rnd, user=province, seed="another seed", per_township=8))
    assert other != first
    # Every item is a figure the school reported for its latest year, at that value.
    for town, school, field, reported, _w in other:
        assert Decimal(getattr(SchoolYear.objects.get(school_id=school, period=2024), field)) == reported
        assert School.objects.get(pk=school).is_seat and School.objects.get(pk=school).township_id == town
    assert AuditEvent.objects.filter(action="verification_draw").count() == 3


def test_figures_near_a_threshold_weigh_more():
    near = {"division_code": "t", "value": Decimal("0.91"), "reference": None, "point__rule": "threshold", "point__threshold": Decimal("0.90"),
            "point__column": "physical_health_pass_rate", "point__denominator": ""}
    far = {**near, "value": Decimal("0.50"), "point__column": "arts_skill_rate", "point__threshold": Decimal("0.80")}
    weights = field_weights([near, far])["t"]
    assert weights["physical_health_pass_rate"] > weights["arts_skill_rate"] >= 2


def test_only_provincial_staff_draw_and_a_recorded_sample_is_not_redrawn(rnd, world):
    with pytest.raises(VerificationRefused):
        draw_sample(round=rnd, user=world.user("city_3708"), seed="x")
    assert not VerificationSample.objects.exists()
    sample = draw_sample(round=rnd, user=world.user("province"), seed="s")
    item = sample.items.filter(township_id=rnd.towns[OWN]).first()
    record_verification(item=item, user=world.user("inspector_a"), value=str(item.reported), file_data=PNG, file_name="台账.png")
    before = snapshot(VerificationItem)
    with pytest.raises(VerificationRefused) as refused:
        draw_sample(round=rnd, user=world.user("province"), seed="other")
    assert "重新抽取" in refused.value.message and snapshot(VerificationItem) == before


def _count_item(rnd, world, county=OWN):
    sample = VerificationSample.objects.filter(round=rnd).first() or draw_sample(round=rnd, user=world.user("province"), seed="s")
    school = School.objects.filter(township_id=rnd.towns[county], is_seat=True, years__period=2024).order_by("code").first()
    item, _ = VerificationItem.objects.get_or_create(
        sample=sample, school=school, field="students",
        defaults={"township_id": school.township_id, "period": 2024, "reported": SchoolYear.objects.get(school=school, period=2024).students, "weight": 1},
    )
    return item


def test_a_discrepancy_beyond_tolerance_makes_exactly_one_finding(rnd, world):
    item = _count_item(rnd, world)
    inspector = world.user("inspector_a")
    far = item.reported * Decimal("0.8")
    record_verification(item=item, user=inspector, value=str(far.quantize(Decimal(1))), file_data=PNG, file_name="花名册.png")
    record_verification(item=item, user=inspector, value=str((far - 1).quantize(Decimal(1))))  # recorded again: still one
    findings = DataQualityFinding.objects.filter(item=item)
    assert findings.count() == 1 and findings.get().township_id == rnd.towns[OWN]
    item.refresh_from_db()
    assert item.discrepancy == item.verified - item.reported and item.evidence_type == "image/png"
    # Within tolerance (5 % of a count by default): the finding goes.
    record_verification(item=item, user=inspector, value=str(item.reported + 1))
    assert not DataQualityFinding.objects.filter(item=item).exists()
    assert AuditEvent.objects.filter(action="verification_record", target=f"verification-item:{item.pk}").count() == 3


def test_within_tolerance_there_is_no_finding(rnd, world):
    item = _count_item(rnd, world)
    record_verification(item=item, user=world.user("inspector_a"), value=str(item.reported), file_data=PNG, file_name="a.png")
    assert not DataQualityFinding.objects.exists()
    assert beyond_tolerance(reported=Decimal("0.90"), verified=Decimal("0.93"), tolerance=DEFAULT_TOLERANCES["rate"])
    assert not beyond_tolerance(reported=Decimal("0.90"), verified=Decimal("0.915"), tolerance=DEFAULT_TOLERANCES["rate"])


def test_the_framework_sets_the_tolerance(rnd, world):
    rnd.framework.verification_tolerances = {"students": {"relative": "0.5"}}
    rnd.framework.save()
    item = _count_item(rnd, world)
    record_verification(item=item, user=world.user("inspector_a"), value=str((item.reported * Decimal("0.8")).quantize(Decimal(1))),
                        file_data=PNG, file_name="a.png")
    assert not DataQualityFinding.objects.exists()


@pytest.mark.parametrize("value, words", [("abc", "数字"), ("-3", "负"), ("12.5", "整数"), ("", "数字"), ("NaN", "数字")])
def test_bad_input_is_refused_in_chinese_and_nothing_is_written(rnd, world, value, words):
    item = _count_item(rnd, world)
    before = snapshot(VerificationItem, DataQualityFinding, VerifiedVerdict)
    with pytest.raises(VerificationRefused) as refused:
        record_verification(item=item, user=world.user("inspector_a"), value=value, file_data=PNG, file_name="a.png")
    assert words in refused.value.message
    assert snapshot(VerificationItem, DataQualityFinding, VerifiedVerdict) == before


def test_the_first_record_needs_evidence_and_the_file_is_checked(rnd, world):
    item = _count_item(rnd, world)
    before = snapshot(VerificationItem)
    with pytest.raises(VerificationRefused) as refused:
        record_verification(item=item, user=world.user("inspector_a"), value="10")
    assert "照片" in refused.value.message
    with pytest.raises(VerificationRefused):
        record_verification(item=item, user=world.user("inspector_a"), value="10", file_data=b"MZ not a photo", file_name="x.exe")
    assert snapshot(VerificationItem) == before


def test_a_flipped_verdict_is_marked_on_the_township_page_and_counted(client, rnd, world):
    town = rnd.towns[OWN]
    # Every counted school of the township reports no violation: point 2.1 (every school at most 0) is attained.
    SchoolYear.objects.filter(township_id=town, period=2024).update(violations=0)
    rollup_all(period=2024, prefix="3708")
    sample = draw_sample(round=rnd, user=world.user("province"), seed="s")
    school = School.objects.filter(township_id=town, is_seat=True, stage="primary", years__period=2024).order_by("code").first()
    item, _ = VerificationItem.objects.get_or_create(sample=sample, school=school, field="violations",
                                                     defaults={"township_id": town, "period": 2024, "reported": 0, "weight": 1})
    record_verification(item=item, user=world.user("inspector_a"), value="2", file_data=PNG, file_name="a.png")
    flip = VerifiedVerdict.objects.get(township_id=town, point__code="2.1", stage="primary")
    assert (flip.reported_verdict, flip.verified_verdict) == ("attained", "not_attained")
    client.force_login(world.user(f"county_{OWN}"))
    page = client.get(reverse("reports:township", args=[town]) + f"?period=2024&round={rnd.pk}").content.decode()
    assert "经核查" in page and 'id="verified-flips"' in page
    counts = client.get(reverse("evaluation:verification")).content.decode()
    assert 'class="num flips">1<' in counts
    # Back to the reported value: no verdict changes any more.
    record_verification(item=item, user=world.user("inspector_a"), value="0")
    assert not VerifiedVerdict.objects.exists()


def test_inspectors_record_only_for_their_assignment(client, rnd, world):
    own_item, other_item = _count_item(rnd, world, OWN), _count_item(rnd, world, OTHER)
    inspector = world.user("inspector_a")
    with pytest.raises(VerificationRefused):
        record_verification(item=other_item, user=inspector, value="1", file_data=PNG, file_name="a.png")
    client.force_login(inspector)
    from evaluation.models import InspectionForm

    own_form = InspectionForm.objects.get(round=rnd, township_id=rnd.towns[OWN])
    other_form = InspectionForm.objects.get(round=rnd, township_id=rnd.towns[OTHER])
    before = snapshot(VerificationItem, DataQualityFinding)
    assert client.post(reverse("evaluation:verification_record", args=[other_form.pk, other_item.pk]), {"value": "1"}).status_code == 404
    assert client.post(reverse("evaluation:verification_record", args=[own_form.pk, other_item.pk]), {"value": "1"}).status_code == 404
    api = APIClient()
    api.force_authenticate(inspector)
    assert api.post(f"/api/verification-items/{other_item.pk}/record/", {"value": "1"}).status_code == 404
    assert api.get(f"/api/verification-items/{other_item.pk}/").status_code == 404
    assert snapshot(VerificationItem, DataQualityFinding) == before
    # Another inspector, not on the team: the township's form and its items are not found.
    stranger = UserFactory(username="insp_c", role=Role.INSPECTOR, unit_id="3708")
    client.force_login(stranger)
    assert client.post(reverse("evaluation:verification_record", args=[own_form.pk, own_item.pk]), {"value": "1"}).status_code == 404
    # Their own: the form page shows the item, and the page records it with a photo.
    client.force_login(inspector)
    page = client.get(reverse("evaluation:form", args=[own_form.pk])).content.decode()
    assert f'id="verify-{own_item.pk}"' in page and "实地核查" in page
    answer = client.post(reverse("evaluation:verification_record", args=[own_form.pk, own_item.pk]),
                         {"value": "abc", "file": SimpleUploadedFile("a.png", PNG, content_type="image/png")}, follow=True)
    assert "数字" in answer.content.decode() and VerificationItem.objects.get(pk=own_item.pk).verified is None
    client.post(reverse("evaluation:verification_record", args=[own_form.pk, own_item.pk]),
                {"value": str(own_item.reported), "file": SimpleUploadedFile("a.png", PNG, content_type="image/png")})
    assert VerificationItem.objects.get(pk=own_item.pk).verified == own_item.reported
    assert client.get(reverse("evaluation:verification_evidence", args=[own_item.pk])).status_code == 200
    assert client.get(reverse("evaluation:verification_evidence", args=[other_item.pk])).status_code == 404


def test_findings_are_the_countys_own(client, rnd, world):
    own_item, other_item = _count_item(rnd, world, OWN), _count_item(rnd, world, OTHER)
    record_verification(item=own_item, user=world.user("inspector_a"), value="0", file_data=PNG, file_name="a.png")
    record_verification(item=other_item, user=world.user("inspector_b"), value="0", file_data=PNG, file_name="a.png")
    own, other = DataQualityFinding.objects.get(item=own_item), DataQualityFinding.objects.get(item=other_item)
    api = APIClient()
    api.force_authenticate(world.user(f"county_{OWN}"))
    listed = api.get("/api/verification-findings/").json()
    ids = {f["id"] for f in (listed["results"] if isinstance(listed, dict) else listed)}
    assert own.pk in ids and other.pk not in ids
    assert api.get(f"/api/verification-findings/{other.pk}/").status_code == 404
    assert api.get(f"/api/verification-findings/{own.pk}/").status_code == 200
    client.force_login(world.user(f"county_{OWN}"))
    page = client.get(reverse("evaluation:verification")).content.decode()
    assert Division.objects.get(code=rnd.towns[OWN]).name in page and Division.objects.get(code=rnd.towns[OTHER]).name not in page
    # Only the province draws; a county is "not found" and nothing is drawn.
    before = snapshot(VerificationSample, VerificationItem)
    assert client.post(reverse("evaluation:verification_draw"), {"round": rnd.pk, "seed": "x"}).status_code == 404
    assert api.post("/api/verification-samples/", {"round": rnd.pk, "seed": "x"}, format="json").status_code == 403
    assert snapshot(VerificationSample, VerificationItem) == before
    # The province with a round id that is no number: the Chinese 400, nothing drawn.
    client.force_login(world.user("province"))
    for bad in ("²", " 1.5", "9" * 30):
        refused = client.post(reverse("evaluation:verification_draw"), {"round": bad, "seed": "x"})
        assert refused.status_code == 400 and "参数" in refused.content.decode()
    assert snapshot(VerificationSample, VerificationItem) == before


def test_the_api_draws_and_records(rnd, world):
    api = APIClient()
    api.force_authenticate(world.user("province"))
    drawn = api.post("/api/verification-samples/", {"round": rnd.pk, "seed": "api", "per_township": 3}, format="json")
    assert drawn.status_code == 201 and drawn.json()["seed"] == "api"
    assert VerificationItem.objects.count() == 6
    item = VerificationItem.objects.filter(township_id=rnd.towns[OWN]).first()
    api.force_authenticate(world.user("inspector_a"))
    bad = api.post(f"/api/verification-items/{item.pk}/record/", {"value": "-1", "file": SimpleUploadedFile("a.png", PNG)}, format="multipart")
    assert bad.status_code == 400 and "负" in bad.json()["detail"] and VerificationItem.objects.get(pk=item.pk).verified is None
    ok = api.post(f"/api/verification-items/{item.pk}/record/", {"value": str(item.reported), "file": SimpleUploadedFile("a.png", PNG)}, format="multipart")
    assert ok.status_code == 200 and Decimal(ok.json()["verified"]) == item.reported and ok.json()["finding"] is None


def test_the_draw_and_a_record_cost_a_fixed_number_of_queries(rnd, world, django_assert_max_num_queries):
    """Set-based: the draw reads the candidates and the point results once for every township."""
    with django_assert_max_num_queries(10):
        sample = draw_sample(round=rnd, user=world.user("province"), seed="q", per_township=8)
    item = sample.items.filter(township_id=rnd.towns[OWN]).first()
    # The record re-reads the township's rules twice (reported and verified figures).
    with django_assert_max_num_queries(21):
        record_verification(item=item, user=world.user("inspector_a"), value=str(item.reported), file_data=PNG, file_name="a.png")
