"""The public side: a code is looked up, the questionnaire answered, the code spent once.

"Once" holds under a double tap and two tabs: the code is spent by a conditional UPDATE (… WHERE
spent_at IS NULL) in the same transaction as the answer's INSERT; of two at the same moment one
updates a row and the other none (PostgreSQL re-checks the condition after the first commits;
SQLite writes one at a time), and only the one that spent it writes an answer.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.queueing import enqueue
from surveys.models import Answer, AnswerCode, ItemKind, SatisfiedRule
from surveys.services.windows import ALPHABET, COUNT_TASK, PREFIX_LENGTH, RANDOM_LENGTH

CODE_LENGTH = PREFIX_LENGTH + RANDOM_LENGTH
TEXT_MAX = 500


class State:
    OPEN = "open"
    UNKNOWN = "unknown"  # no such code (made up, mistyped, another window's prefix)
    NOT_YET = "not_yet"
    CLOSED = "closed"
    SPENT = "spent"
    INCOMPLETE = "incomplete"
    ANSWERED = "answered"


def normalise(raw: str) -> str | None:
    """The code as stored, from what was typed or scanned (dashes, spaces, lower case), or None
    when it cannot be a code at all."""
    code = "".join(ch for ch in (raw or "").upper() if ch not in "- ")
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def find(raw: str) -> AnswerCode | None:
    code = normalise(raw)
    if code is None:
        return None
    return AnswerCode.objects.select_related("window__questionnaire", "school").prefetch_related("window__questionnaire__items").filter(code=code).first()


def state_of(answer_code: AnswerCode | None, now: datetime | None = None) -> str:
    if answer_code is None:
        return State.UNKNOWN
    now = now or timezone.now()
    window = answer_code.window
    if answer_code.spent_at is not None:
        return State.SPENT
    if now < window.opens_at:
        return State.NOT_YET
    if now >= window.closes_at:
        return State.CLOSED
    return State.OPEN


@dataclass
class Outcome:
    state: str
    missing: list[int] = field(default_factory=list)  # item numbers left unanswered


def read_answers(questionnaire, data) -> tuple[dict[str, str], list[int]]:
    """The answers by item number, and the numbers of scale items left unanswered. A choice that
    is not on the scale counts as unanswered; free text is cut to TEXT_MAX characters."""
    answers, missing = {}, []
    for item in questionnaire.items.all():
        value = (data.get(f"q{item.number}") or "").strip()
        if item.kind == ItemKind.TEXT:
            if value:
                answers[str(item.number)] = value[:TEXT_MAX]
        elif value in questionnaire.scale:
            answers[str(item.number)] = value
        else:
            missing.append(item.number)
    return answers, missing


def is_satisfied(questionnaire, answers: dict[str, str]) -> bool:
    counted = [answers.get(str(i.number)) in questionnaire.satisfied_choices for i in questionnaire.items.all() if i.counts and i.kind == ItemKind.SCALE]
    if questionnaire.rule == SatisfiedRule.MAJORITY_COUNTED:
        return sum(counted) * 2 > len(counted)
    return all(counted)


def sheet_digest(answers: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(answers, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def submit(*, raw_code: str = "", answer_code: AnswerCode | None = None, data, now: datetime | None = None) -> Outcome:
    """Record one answer and spend its code (given as typed, or as found already), or refuse and
    change nothing."""
    now = now or timezone.now()
    if answer_code is None:
        answer_code = find(raw_code)
    state = state_of(answer_code, now)
    if state != State.OPEN:
        return Outcome(state)
    questionnaire = answer_code.window.questionnaire
    answers, missing = read_answers(questionnaire, data)
    if missing:
        return Outcome(State.INCOMPLETE, missing)
    with transaction.atomic():
        spent = AnswerCode.objects.filter(pk=answer_code.pk, spent_at__isnull=True).update(spent_at=now)
        if not spent:
            return Outcome(State.SPENT)
        Answer.objects.create(window_id=answer_code.window_id, school_id=answer_code.school_id, questionnaire=questionnaire,
                              submitted_at=now, answers=answers, satisfied=is_satisfied(questionnaire, answers), sheet=sheet_digest(answers))
    _count_soon(answer_code.window_id)
    return Outcome(State.ANSWERED)


def _count_soon(window_id: int) -> None:
    """The township's figures follow the answers within SURVEY_COUNT_EVERY_S: the first answer of
    each such span queues one count a little later, which takes in every answer committed by
    then (the key expires before the count runs, so a later answer queues the next one)."""
    from django.core.cache import cache

    every = settings.SURVEY_COUNT_EVERY_S
    if cache.add(f"survey-count:{window_id}", 1, every):
        enqueue(COUNT_TASK, window_id, countdown=every + 2)
