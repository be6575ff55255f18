"""通报 → 约谈 → 问责 on record for one county: the numbered notice's PDF read back, the talk's
commitments become items, the decision links its basis; each visible to that county, its city and
the province only (another county, another city: not found); every step audited; bad input
refused in Chinese with nothing written."""
import io
import re
from datetime import date
from unittest import mock

import pytest
from pypdf import PdfReader

from security.models import AuditEvent
from tests.conftest import snapshot
from tests.test_workflow import chain, judged  # noqa: F401  (fixtures)
from workflow.models import Accountability, Escalation, Notice, NoticeCounty, Notification, RectificationItem, RectificationStep, Talk
from workflow.services.accountability import decide_accountability, issue_notice, record_talk
from workflow.services.common import NotInArea, WorkflowRefused
from workflow.services.rectification import sync_items

pytestmark = pytest.mark.django_db
TABLES = (Notice, NoticeCounty, Talk, Accountability, RectificationItem, RectificationStep, Notification, AuditEvent)


def _pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_notice_talk_and_accountability_for_one_county(judged, client):
    world, rnd, town, lead = judged
    sync_items(round=rnd)
    items = list(RectificationItem.objects.filter(township_id=town).order_by("id"))
    province = world.user("province")

    # 通报: numbered in its year, its PDF lists the county and the items.
    first = issue_notice(user=province, title="关于整改工作滞后县的通报", body="经督导评估，下列县整改工作滞后。", county_codes=["370881"],
                         item_ids=[i.pk for i in items], issued_on=date(2026, 3, 2))
    assert first.number == "鲁教督通〔2026〕1号"
    second = issue_notice(user=province, title="第二次通报", body="仍未整改。", county_codes=["370881"], issued_on=date(2026, 5, 1))
    assert second.number == "鲁教督通〔2026〕2号"
    assert issue_notice(user=province, title="次年", body="x", county_codes=["370883"], issued_on=date(2027, 1, 5)).number == "鲁教督通〔2027〕1号"
    assert set(items[0].steps.values_list("action", flat=True)) >= {"created", "in_notice"}

    # 约谈: minutes, and commitments that become items of the county.
    talk = record_talk(user=province, county_code="370881", held_on=date(2026, 4, 1), talked_to="曲阜市教育局局长", minutes="通报问题未按期整改，限期完成。",
                       notice_id=first.pk, item_ids=[items[0].pk],
                       commitments=[{"township": town, "what": "三个月内完成校园文化建设", "due_on": "2026-07-01"}])
    items[0].refresh_from_db(), items[-1].refresh_from_db()
    assert items[0].escalation == Escalation.TALK and (len(items) == 1 or items[-1].escalation == Escalation.NOTICE)
    commitment = talk.commitments.get()
    assert commitment.township_id == town and commitment.due_on == date(2026, 7, 1) and commitment.point is None and commitment.status == "open"
    assert [s.action for s in commitment.steps.all()] == ["committed"]

    # 问责: the decision and its basis.
    decided = decide_accountability(user=province, county_code="370881", decided_on=date(2026, 8, 1), decision="对分管负责人进行诫勉谈话",
                                    basis="两次通报、约谈后仍未整改", notice_ids=[first.pk, second.pk], talk_ids=[talk.pk], item_ids=[items[0].pk, commitment.pk])
    assert set(decided.notices.all()) == {first, second} and list(decided.talks.all()) == [talk]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"notice_issue", "talk_record", "accountability_decide"} <= actions
    assert AuditEvent.objects.filter(action="accountability_decide", area="370881").count() == 1

    # Read back by the county: the PDF, the record page, the API.
    client.force_login(world.user("county_370881"))
    r = client.get(f"/workflow/notices/{first.pk}/pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    text = _pdf_text(b"".join(r.streaming_content))
    assert "鲁教督通〔2026〕1号" in text and "曲阜市" in text and "关于整改工作滞后县的通报" in text
    assert "3.1" in text  # the items that led to it
    page = client.get("/workflow/counties/370881/record/").content.decode()
    assert first.number in page and "曲阜市教育局局长" in page and "诫勉谈话" in page
    assert client.get(f"/api/notices/{first.pk}/").json()["counties"] == ["370881"]
    assert client.get(f"/api/talks/{talk.pk}/").json()["commitments"] == [commitment.pk]
    assert client.get(f"/api/accountability-decisions/{decided.pk}/").json()["basis"] == "两次通报、约谈后仍未整改"
    assert client.get(f"/api/rectification-items/{commitment.pk}/").json()["talk"] == talk.pk
    assert Notification.objects.filter(user=world.user("county_370881"), kind="notice").count() == 2

    # Counted by city and year on the province's dashboard (a notice naming two counties of a city counts once).
    issue_notice(user=province, title="两县", body="x", county_codes=["370881", "370883"], issued_on=date(2026, 9, 1))
    client.force_login(province)
    with mock.patch("reports.accountability.timezone.localdate", return_value=date(2026, 10, 1)):
        page = client.get("/dashboard/").content.decode()
    row = re.search(r'<tr data-code="3708">(.*?)</tr>', page.split('id="accountability"')[1]).group(1)
    assert [int(n) for n in re.findall(r'class="num">(\d+)<', row)] == [3, 1, 1]
    assert '<tr data-code="3702">' not in page.split('id="accountability"')[1]

    # The city above sees it; another county and another city do not (not found), nor inspectors.
    client.force_login(world.user("city_3708"))
    assert client.get(f"/workflow/notices/{first.pk}/").status_code == 200
    assert client.get("/workflow/accountability/?year=2026").status_code == 200
    for key in ("county_370883", "city_3702", "inspector_a"):
        client.force_login(world.user(key))
        for url in (f"/workflow/notices/{first.pk}/", f"/workflow/notices/{first.pk}/pdf", f"/workflow/talks/{talk.pk}/",
                    f"/workflow/accountability/{decided.pk}/", "/workflow/counties/370881/record/",
                    f"/api/notices/{first.pk}/", f"/api/talks/{talk.pk}/", f"/api/accountability-decisions/{decided.pk}/"):
            assert client.get(url).status_code == 404, (key, url)
        listed = client.get("/api/notices/")
        assert listed.status_code == 404 or first.pk not in [n["id"] for n in listed.json()["results"]]
    # The neighbouring county sees the notices naming it only.
    client.force_login(world.user("county_370883"))
    assert [n["number"] for n in client.get("/api/notices/").json()["results"]] == ["鲁教督通〔2027〕1号", "鲁教督通〔2026〕3号"]


def test_bad_input_is_refused_in_chinese_and_writes_nothing(judged, client):
    world, rnd, town, lead = judged
    sync_items(round=rnd)
    item = RectificationItem.objects.filter(township_id=town).first()
    province, county = world.user("province"), world.user("county_370881")
    other_town = world.schools["370883"][0].township_id
    before = snapshot(*TABLES)
    refusals = [
        lambda: issue_notice(user=county, title="t", body="b", county_codes=["370881"]),  # only the province issues
        lambda: issue_notice(user=province, title=" ", body="b", county_codes=["370881"]),
        lambda: issue_notice(user=province, title="t", body="b", county_codes=["440101"]),  # not a county of the province
        lambda: issue_notice(user=province, title="t", body="b", county_codes=["370883"], item_ids=[item.pk]),  # an item of another county
        lambda: record_talk(user=county, county_code="370881", held_on="2026-04-01", talked_to="x", minutes="m"),
        lambda: record_talk(user=province, county_code="370881", held_on="2026-04-01", talked_to="局长", minutes="m",
                            commitments=[{"township": town, "what": "整改", "due_on": "2026-07-01"}, {"township": other_town, "what": "x", "due_on": "2026-07-01"}]),
        lambda: record_talk(user=province, county_code="370881", held_on="2026-04-01", talked_to="局长", minutes="m",
                            commitments=[{"township": town, "what": "整改", "due_on": "明年"}]),
        lambda: record_talk(user=province, county_code="370881", held_on="2026-04-01", talked_to="局长", minutes="m",
                            commitments=[{"township": town, "what": "整改", "due_on": "2026-03-01"}]),  # before the talk
        lambda: decide_accountability(user=province, county_code="370881", decided_on="2026-08-01", decision="d", basis=""),
        lambda: decide_accountability(user=province, county_code="370881", decided_on="2026-08-01", decision="d", basis="b", talk_ids=["x"]),
    ]
    for refuse in refusals:
        with pytest.raises(WorkflowRefused) as exc:
            refuse()
        assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message), exc.value.message
    with pytest.raises(NotInArea):  # the city records talks with its own counties only
        record_talk(user=world.user("city_3702"), county_code="370881", held_on="2026-04-01", talked_to="x", minutes="m")
    assert snapshot(*TABLES) == before

    # Through the page and the API: a 400 with the reason, nothing written (but the login's audit).
    client.force_login(province)
    before = snapshot(*TABLES[:-1])
    audited = AuditEvent.objects.exclude(action="login").count()
    r = client.post("/workflow/accountability/", {"action": "talk", "county": "370881", "held_on": "2026-04-01", "talked_to": "局长", "minutes": "m",
                                                  "commitments": f"{town} | 整改 | 不是日期"})
    assert r.status_code == 400 and "日期" in r.content.decode()
    r = client.post("/api/notices/", {"title": "t", "body": "b", "counties": ["370881"], "items": [10**6]}, content_type="application/json")
    assert r.status_code == 400 and "整改" in r.json()["detail"]
    assert snapshot(*TABLES[:-1]) == before and AuditEvent.objects.exclude(action="login").count() == audited
    r = client.post("/api/talks/", {"county": "370881", "held_on": "2026-04-01", "talked_to": "局长", "minutes": "m",
                                    "commitments": [{"township": town, "what": "整改", "due_on": "2026-07-01"}]}, content_type="application/json")
    assert r.status_code == 201 and len(r.json()["commitments"]) == 1


def test_the_provinces_cached_dashboard_shows_a_new_notice_talk_or_decision_at_once(world, client):
    # The block is cached with the province's body: each write renews the province's token (and
    # not a city's), and the page key holds the year the block counts.
    from core.results_version import results_token

    province = world.user("province")
    client.force_login(province)

    def counts(day=date(2026, 10, 1)) -> list[int]:
        with mock.patch("reports.accountability.timezone.localdate", return_value=day):
            page = client.get("/dashboard/").content.decode()
        block = page.split('id="accountability"')[1]
        row = re.search(r'<tr data-code="3708">(.*?)</tr>', block)
        return [int(n) for n in re.findall(r'class="num">(\d+)<', row.group(1))] if row else []

    assert counts() == []
    city_token = results_token("3702")
    issue_notice(user=province, title="通报", body="x", county_codes=["370881"], issued_on=date(2026, 3, 2))
    assert counts() == [1, 0, 0]
    talk = record_talk(user=province, county_code="370881", held_on=date(2026, 4, 1), talked_to="局长", minutes="m")
    assert counts() == [1, 1, 0]
    decide_accountability(user=province, county_code="370881", decided_on=date(2026, 8, 1), decision="d", basis="b", talk_ids=[talk.pk])
    assert counts() == [1, 1, 1]
    assert results_token("3702") == city_token  # another city's pages stay cached
    assert counts(date(2027, 1, 2)) == []  # a new year counts afresh, cached page or not
