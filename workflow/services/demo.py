"""Demo workflow for `make run`: the 2021 plan deadlines the seed gives, a few plans, self-
assessments at each review stage, the rectification items of the demo rounds (older ones partly
fixed, overdue ones escalated), good practice and funding. Invented, deterministic, labelled demo."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from evaluation.models import PointResult, Round
from evaluation.vocabulary import JudgmentLevel, Verdict
from townships.models import Division, Level, PilotTownship, User
from workflow.models import (
    CaseStatus,
    GoodPractice,
    ItemStatus,
    Plan,
    PlanStatus,
    RectificationItem,
    RectificationStep,
    SelfAssessment,
)

from . import cases, plans, rectification, review

PDF = b"%PDF-1.4\n% demo document\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SEED_DEADLINES = {"province": date(2021, 4, 1), "city": date(2021, 5, 1), "county": date(2021, 6, 1)}  # 003: 4月1日、5月1日、6月1日前


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10)))


@transaction.atomic
def load_demo_workflow() -> dict:
    if Plan.objects.exists():
        return {"skipped": True}
    sheng, jining, qufu, zoucheng = (User.objects.get(username=u) for u in ("sheng", "jining", "qufu", "zoucheng"))
    for level, due in SEED_DEADLINES.items():
        plans.set_deadline(user=sheng, year=2021, level=level, due_on=due)
    filed_on = {}
    for user, title, day in ((sheng, "山东省教育强镇筑基试点工作实施方案（演示）", date(2021, 3, 28)),
                             (jining, "济宁市教育强镇筑基行动实施方案（演示）", date(2021, 4, 29)),
                             (qufu, "曲阜市教育强镇筑基实施方案（演示）", date(2021, 6, 4))):
        plan = plans.save_plan(user=user, year=2021, title=title, summary="（演示数据）")
        plans.add_plan_document(user=user, plan=plan, data=PDF, file_name=f"{title}.pdf")
        if user.unit_id == "370881":
            towns = Division.objects.filter(parent_id="370881", level=Level.TOWNSHIP, kind__in=["town", "xiang"]).order_by("code")
            for i, (code, name) in enumerate(towns.values_list("code", "name")):
                plans.add_measure(user=user, plan=plan, township_code=code, what=f"{name}驻地学校功能室改造、教师培训（演示）", owner="曲阜市教育和体育局",
                                  budget=Decimal(80 + 10 * i), due_on=date(2021, 12, 31))
        plans.file_plan(user=user, plan=plan)
        filed_on[plan.pk] = day
    for pk, day in filed_on.items():  # the demo files them on the dates above, not today
        Plan.objects.filter(pk=pk).update(filed_at=_at(day), status=PlanStatus.FILED)
    plans.save_plan(user=zoucheng, year=2021, title="邹城市教育强镇筑基实施方案（草稿，演示）")

    rounds = {r.period: r for r in Round.objects.filter(name__endswith="年度评估（演示）")}
    items = 0
    for period in sorted(rounds)[-2:]:  # the last two rounds keep the demo quick to load
        items += rectification.sync_items(round=rounds[period])
    # Older rounds' items are partly fixed: closed where the next year attains the point.
    for period in sorted(rounds)[-2:-1]:
        fixed = PointResult.objects.filter(period=period + 1, round_key=0, verdict=Verdict.ATTAINED)
        closed = RectificationItem.objects.filter(round=rounds[period], point_id__in=fixed.values("point_id"),
                                                  township_id__in=fixed.values("division_code"))
        ids = list(closed.values_list("pk", flat=True))
        RectificationItem.objects.filter(pk__in=ids).update(status=ItemStatus.CLOSED, measures="（演示）已完成整改", closed_at=timezone.now())
        RectificationStep.objects.bulk_create([RectificationStep(item_id=i, action="closed", note="（演示）核查通过") for i in ids])
    escalated = rectification.escalate_overdue()

    latest = rounds[max(rounds)]
    _assessment(latest, "370881102", qufu, stop="submitted")                     # for jining to review
    _assessment(latest, "370883101", zoucheng, stop="city_approved", city=jining)  # for sheng to review

    first = cases.submit_case(user=qufu, title="集团化办学带动乡镇驻地学校（演示）", theme="help", summary="城区优质学校与乡镇驻地学校组建教育集团，统一教研、统一调配骨干教师。（演示）", files=[("经验材料.pdf", PDF)])
    cases.review_case(user=sheng, case=first, publish=True, note="在全省推广（演示）")
    second = cases.submit_case(user=jining, title="乡镇学校课后服务与社团活动（演示）", theme="teaching", summary="利用乡土资源开设社团课程。（演示）")
    cases.review_case(user=sheng, case=second, publish=True)
    cases.submit_case(user=zoucheng, title="家校社协同育人（演示）", theme="management", summary="乡镇家长学校建设。（演示）")

    for pilot in PilotTownship.objects.filter(township__code__startswith="370881").values_list("township_id", flat=True)[:3]:
        for purpose, amount in (("conditions", 200), ("teacher_training", 40)):
            plans.save_funding(user=qufu, township_code=pilot, year=2024, purpose=purpose,
                               amounts={"provincial_planned": amount, "provincial_spent": amount * 0.6, "local_planned": amount / 2, "local_spent": amount / 4})
    return {"items": items, **escalated, "cases": GoodPractice.objects.filter(status=CaseStatus.PUBLISHED).count()}


def _assessment(rnd: Round, code: str, county: User, *, stop: str, city: User | None = None) -> SelfAssessment:
    a = review.open_assessment(user=county, round=rnd, township_code=code)
    answers = {i.point.code: {"level": JudgmentLevel.ATTAINED, "comment": "（演示）自评"} for i in a.items.select_related("point")}
    a = review.save_self_assessment(user=county, assessment=a, version=a.version, answers=answers)
    a = review.submit_self_assessment(user=county, assessment=a)
    if stop == "city_approved":
        a = review.review_self_assessment(user=city, assessment=a, approve=True)
    return a

