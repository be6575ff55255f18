"""Field verification writes: the province draws the sample, inspectors record what they find
on site; findings and changed verdicts follow the recorded values. Every step audited."""
from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.private_files import FileRefused, store_private_file
from core.results_version import results_changed
from evaluation import verification as rules_v
from evaluation.models import (
    Assignment,
    DataQualityFinding,
    ObservationPoint,
    PointResult,
    Round,
    SchoolYear,
    SourceKind,
    VerificationItem,
    VerificationSample,
    VerifiedVerdict,
)
from evaluation.rules import evaluate_township
from security.audit import record as audit


class VerificationRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _candidates(round: Round, townships: list[str]) -> dict[str, list[tuple]]:
    """Per township, (school id, field, reported) of its seat schools' latest year, in one query."""
    fields = rules_v.sampled_fields()
    rows = (
        SchoolYear.objects.filter(township_id__in=townships, school__is_seat=True, period__lte=round.period)
        .order_by("school_id", "-period").values("school_id", "township_id", "period", *fields)
    )
    out: dict[str, list[tuple]] = {}
    seen = set()
    for row in rows:
        if row["school_id"] in seen:
            continue  # an earlier year of a school already taken
        seen.add(row["school_id"])
        for field in fields:
            if row[field] is not None:
                out.setdefault(row["township_id"], []).append((row["school_id"], field, Decimal(row[field]), row["period"]))
    return out


@transaction.atomic
def draw_sample(*, round: Round, user, seed: str, per_township: int = 8) -> VerificationSample:
    if not user.is_provincial:
        raise VerificationRefused(_("Only provincial staff draw the verification sample."))
    seed = (seed or "").strip()
    if not seed or len(seed) > 64:
        raise VerificationRefused(_("Give a seed (up to 64 characters), so the draw can be repeated."))
    if not 1 <= per_township <= 50:
        raise VerificationRefused(_("Draw between 1 and 50 figures per township."))
    round = Round.objects.select_for_update().get(pk=round.pk)
    existing = VerificationSample.objects.filter(round=round).first()
    if existing is not None:
        if existing.items.filter(recorded_at__isnull=False).exists():
            raise VerificationRefused(_("Values have been recorded for this sample: it can no longer be redrawn."))
        existing.delete()
    townships = sorted(set(Assignment.objects.filter(round=round).values_list("township_id", flat=True)))
    results = list(
        PointResult.objects.filter(
            division_code__in=townships, period=round.period, round_key__in=[0, round.pk],
            point__target__framework_id=round.framework_id, point__source_kind=SourceKind.SCHOOL_COLUMN,
        ).values("division_code", "value", "reference", "point__rule", "point__threshold", "point__column", "point__denominator")
    )
    weights = rules_v.field_weights(results)
    candidates = _candidates(round, townships)
    sample = VerificationSample.objects.create(round=round, seed=seed, per_township=per_township, drawn_by=user)
    items = []
    for township in townships:
        pool = candidates.get(township, [])
        periods = {(s, f): p for s, f, _r, p in pool}
        chosen = rules_v.draw(seed=seed, township=township, candidates=[(s, f, r) for s, f, r, _p in pool],
                              weights=weights.get(township, {}), size=per_township)
        items += [VerificationItem(sample=sample, township_id=township, school_id=s, period=periods[(s, f)], field=f, reported=r, weight=w)
                  for s, f, r, w in chosen]
    VerificationItem.objects.bulk_create(items)
    audit(action="verification_draw", user=user, target=f"round:{round.pk}", detail={"seed": seed, "per_township": per_township, "items": len(items)})
    return sample


@transaction.atomic
def record_verification(*, item: VerificationItem, user, value, file_data: bytes | None = None, file_name: str = "", note: str = "") -> VerificationItem:
    """Record the value found on site (with a photo of the register, needed the first time)."""
    item = VerificationItem.objects.select_for_update().select_related("sample__round__framework").get(pk=item.pk)
    rnd = item.sample.round
    if not Assignment.objects.filter(round_id=rnd.pk, township_id=item.township_id, inspector_id=user.pk).exists():
        raise VerificationRefused(_("You are not assigned to this township."))
    try:
        verified = rules_v.parse_value(value, item.field)
    except ValueError as e:
        raise VerificationRefused(str(e)) from None
    if file_data:
        try:
            stored = store_private_file(data=file_data, file_name=file_name, folder="verification")
        except FileRefused as e:
            raise VerificationRefused(e.message) from None
        item.evidence_name, item.evidence_type, item.evidence_size = stored["file_name"], stored["content_type"], stored["size"]
        item.evidence_sha256, item.evidence_stored_as = stored["sha256"], stored["stored_as"]
    elif not item.evidence_stored_as:
        raise VerificationRefused(_("Attach a photo of the register (or another document) as evidence."))
    old = None if item.verified is None else str(item.verified)
    item.verified, item.discrepancy = verified, verified - item.reported
    item.note, item.recorded_by, item.recorded_at = note.strip(), user, timezone.now()
    item.save()
    tolerance = rules_v.tolerance_for(rnd.framework, item.field)
    if rules_v.beyond_tolerance(reported=item.reported, verified=verified, tolerance=tolerance):
        DataQualityFinding.objects.update_or_create(item=item, defaults={
            "township_id": item.township_id, "field": item.field, "reported": item.reported, "verified": verified,
            "discrepancy": item.discrepancy, "tolerance": rules_v.tolerance_text(tolerance)})
    else:
        DataQualityFinding.objects.filter(item=item).delete()
    flips = recompute_flips(sample=item.sample, township_code=item.township_id)
    audit(action="verification_record", user=user, target=f"verification-item:{item.pk}", area=item.township_id,
          detail={"field": item.field, "reported": str(item.reported), "verified": [old, str(verified)], "flips": flips})
    results_changed(codes=[item.township_id])
    return item


def recompute_flips(*, sample: VerificationSample, township_code: str) -> int:
    """The township's point verdicts with the verified values in place of the reported ones:
    those that differ are kept (replacing the township's earlier ones). Returns how many."""
    rnd = sample.round
    overrides: dict[int, dict] = {}
    for school_id, field, verified in VerificationItem.objects.filter(
        sample=sample, township_id=township_code, period=rnd.period, verified__isnull=False
    ).values_list("school_id", "field", "verified"):
        overrides.setdefault(school_id, {})[field] = verified
    VerifiedVerdict.objects.filter(sample=sample, township_id=township_code).delete()
    if not overrides:
        return 0
    points = list(ObservationPoint.objects.filter(target__framework_id=rnd.framework_id, source_kind=SourceKind.SCHOOL_COLUMN).select_related("target"))
    reported = {(o.point.pk, o.stage): o.verdict for o in evaluate_township(points=points, township_code=township_code, period=rnd.period)}
    flips = [
        VerifiedVerdict(sample=sample, township_id=township_code, point=o.point, stage=o.stage, reported_verdict=reported[(o.point.pk, o.stage)],
                        verified_verdict=o.verdict)
        for o in evaluate_township(points=points, township_code=township_code, period=rnd.period, overrides=overrides)
        if reported.get((o.point.pk, o.stage)) != o.verdict
    ]
    VerifiedVerdict.objects.bulk_create(flips)
    return len(flips)
