"""Pilot acceptance (验收): the province records accepted / extended / withdrawn with the round it
rests on and a note; the pilot list and its counts follow (through townships' pilot_status, which
has the results recomputed); bad input is refused in Chinese with nothing written."""
from unittest import mock

import pytest

from evaluation.services.forms import create_round
from security.models import AuditEvent
from tests.conftest import snapshot
from tests.test_workflow import chain  # noqa: F401  (fixture)
from townships.models import PilotBatch, PilotStatus, PilotTownship
from workflow.models import PilotAcceptance
from workflow.services.acceptance import record_acceptance
from workflow.services.common import WorkflowRefused

pytestmark = pytest.mark.django_db


@pytest.fixture
def pilot(chain):
    world, rnd, town, other = chain
    batch = PilotBatch.objects.create(year=2022, name="测试批次", source_document="鲁教基字〔2022〕1号")
    return world, rnd, PilotTownship.objects.create(batch=batch, township_id=town), other


def _in_year(period):
    return PilotTownship.objects.in_year(period).count()


def test_acceptance_changes_the_pilot_list_and_its_counts(pilot, client):
    world, rnd, entry, other = pilot
    province = world.user("province")
    pilots_2024, pilots_2025 = _in_year(2024), _in_year(2025)
    accepted = PilotTownship.objects.filter(status=PilotStatus.ACCEPTED).count()
    with mock.patch("townships.services.pilot_status.ports.facts_changed") as told:
        decided = record_acceptance(user=province, pilot_id=entry.pk, outcome="withdrawn", round_id=rnd.pk, note="三项指标未达成")
    told.assert_called_once()
    assert told.call_args.kwargs["township_codes"] == {entry.township_id} and told.call_args.kwargs["from_period"] == 2022
    entry.refresh_from_db()
    assert entry.status == PilotStatus.WITHDRAWN and entry.withdrawn_in == 2025
    assert _in_year(2024) == pilots_2024 and _in_year(2025) == pilots_2025 - 1  # a pilot through the evaluated year, no more after it
    assert decided.round == rnd and AuditEvent.objects.filter(action="pilot_acceptance", area=entry.township_id).exists()

    # Extended, then accepted: the latest decision is the pilot's state.
    record_acceptance(user=province, pilot_id=entry.pk, outcome="extended", round_id=rnd.pk, note="延期一年", extended_until=2025)
    entry.refresh_from_db()
    assert entry.status == PilotStatus.ACTIVE and entry.withdrawn_in is None and _in_year(2025) == pilots_2025
    client.force_login(province)
    r = client.post("/api/pilot-acceptances/", {"pilot": entry.pk, "outcome": "accepted", "round": rnd.pk, "note": "七项指标全部达成"},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    entry.refresh_from_db()
    assert entry.status == PilotStatus.ACCEPTED and entry.accepted_in == 2024 and _in_year(2025) == pilots_2025
    page = client.get("/workflow/pilots/acceptance/").content.decode()
    assert "七项指标全部达成" in page and PilotAcceptance.objects.count() == 3
    assert PilotTownship.objects.filter(status=PilotStatus.ACCEPTED).count() == accepted + 1

    # Visible in the area only; only the province records.
    client.force_login(world.user("county_370881"))
    assert client.get(f"/api/pilot-acceptances/{decided.pk}/").status_code == 200
    assert client.get("/workflow/pilots/acceptance/").status_code == 404
    client.force_login(world.user("county_370883"))
    assert client.get(f"/api/pilot-acceptances/{decided.pk}/").status_code == 404


def test_bad_input_is_refused_in_chinese_and_changes_nothing(pilot, client):
    world, rnd, entry, other = pilot
    province = world.user("province")
    elsewhere = create_round(name="他处评估", period=2024, framework=rnd.framework, township_codes=[other], created_by=province)
    before = snapshot(PilotTownship, PilotAcceptance)
    audited = AuditEvent.objects.count()
    for kwargs, user in [
        ({"outcome": "accepted", "round_id": rnd.pk, "note": "x"}, world.user("county_370881")),  # not the province
        ({"outcome": "accepted", "round_id": rnd.pk, "note": "x"}, world.user("city_3708")),
        ({"outcome": "passed", "round_id": rnd.pk, "note": "x"}, province),
        ({"outcome": "accepted", "round_id": elsewhere.pk, "note": "x"}, province),  # a round that did not evaluate it
        ({"outcome": "accepted", "round_id": "abc", "note": "x"}, province),
        ({"outcome": "accepted", "round_id": rnd.pk, "note": "  "}, province),
        ({"outcome": "extended", "round_id": rnd.pk, "note": "x"}, province),  # an extension needs its end
        ({"outcome": "extended", "round_id": rnd.pk, "note": "x", "extended_until": 2023}, province),
    ]:
        with pytest.raises(WorkflowRefused) as exc:
            record_acceptance(user=user, pilot_id=entry.pk, **kwargs)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message), exc.value.message
    with pytest.raises(WorkflowRefused):
        record_acceptance(user=province, pilot_id=10**6, outcome="accepted", round_id=rnd.pk, note="x")
    assert snapshot(PilotTownship, PilotAcceptance) == before and AuditEvent.objects.count() == audited
    client.force_login(province)
    r = client.post("/workflow/pilots/acceptance/", {"pilot": entry.pk, "outcome": "extended", "round": rnd.pk, "note": "x"})
    assert r.status_code == 400 and "延期" in r.content.decode()
    assert snapshot(PilotTownship, PilotAcceptance) == before
