"""Suspicious patterns, flagged to the county (the answers still count; the county looks into it):
many answers within seconds from one address, identical answer sheets in a row at one school.

The address is never stored: it is only part of a short-lived cache key, as a keyed digest."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from surveys.models import Answer, FlagKind, SurveyFlag


def _address_key(window_id: int, address: str | None, bucket: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{window_id}:{address or ''}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"survey-burst:{digest}:{bucket}"


def _burst(*, window_id: int, address: str | None, now: datetime) -> int:
    seconds = settings.SURVEY_BURST_SECONDS
    key = _address_key(window_id, address, int(now.timestamp()) // seconds)
    try:
        if cache.add(key, 1, seconds * 2):
            return 1
        return cache.incr(key) or 0
    except ValueError:  # expired between add and incr
        return 0


def note_answer(*, window_id: int, school_id: int, address: str | None, now: datetime) -> None:
    """After an answer is committed. Each pattern is flagged once, when it reaches its size."""
    flags = []
    burst = settings.SURVEY_BURST_ANSWERS
    if _burst(window_id=window_id, address=address, now=now) == burst:
        flags.append(SurveyFlag(window_id=window_id, school_id=school_id, kind=FlagKind.BURST, detected_at=now, answers=burst,
                                detail=_("%(n)d answers within %(s)d seconds from one address") % {"n": burst, "s": settings.SURVEY_BURST_SECONDS}))
    run = settings.SURVEY_IDENTICAL_RUN
    sheets = list(Answer.objects.filter(window_id=window_id, school_id=school_id).order_by("-id").values_list("sheet", flat=True)[:run + 1])
    if len(sheets) >= run and len(set(sheets[:run])) == 1 and (len(sheets) == run or sheets[run] != sheets[0]):
        flags.append(SurveyFlag(window_id=window_id, school_id=school_id, kind=FlagKind.IDENTICAL, detected_at=now, answers=run,
                                detail=_("%(n)d identical answer sheets in a row") % {"n": run}))
    if flags:
        SurveyFlag.objects.bulk_create(flags)
