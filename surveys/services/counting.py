"""Counting: valid answers (a spent code, inside the window), satisfied ones by the
questionnaire's rule, per school and township; the township's figures then flow into its year
through evaluation's service, which recomputes the roll-up as an upload does."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from evaluation.services.survey_figures import SurveyFigures, record_collected_survey
from surveys.models import GROUP_OF_AUDIENCE, Answer, AnswerCode, ItemKind, SurveyWindow


@dataclass
class SchoolCount:
    school_id: int
    issued: int = 0
    valid: int = 0
    satisfied: int = 0

    @property
    def response_rate(self):
        return self.valid / self.issued if self.issued else None

    @property
    def satisfaction_rate(self):
        return self.satisfied / self.valid if self.valid else None


def _valid(windows):
    # An answer is only ever written inside its window; the window's dates are checked again
    # here so that a window's dates are the whole rule, whatever wrote the row.
    return Answer.objects.filter(window__in=windows, submitted_at__gte=F("window__opens_at"), submitted_at__lt=F("window__closes_at"))


def school_counts(windows) -> dict[tuple[int, int], SchoolCount]:
    """(window id, school id) → counts, in two queries whatever the number of windows."""
    counts: dict[tuple[int, int], SchoolCount] = {}
    for row in AnswerCode.objects.filter(window__in=windows).values("window_id", "school_id").annotate(n=Count("id")):
        counts[(row["window_id"], row["school_id"])] = SchoolCount(row["school_id"], issued=row["n"])
    for row in _valid(windows).values("window_id", "school_id").annotate(n=Count("id"), s=Count("id", filter=Q(satisfied=True))):
        c = counts.setdefault((row["window_id"], row["school_id"]), SchoolCount(row["school_id"]))
        c.valid, c.satisfied = row["n"], row["s"]
    return counts


def window_totals(windows) -> dict[int, SchoolCount]:
    totals: dict[int, SchoolCount] = {}
    for (window_id, _school), c in school_counts(windows).items():
        t = totals.setdefault(window_id, SchoolCount(0))
        t.issued, t.valid, t.satisfied = t.issued + c.issued, t.valid + c.valid, t.satisfied + c.satisfied
    return totals


def item_distribution(window: SurveyWindow, school_id: int | None = None) -> list[dict]:
    """Each scale item's answers by choice (valid answers only), in the scale's order."""
    questionnaire = window.questionnaire
    answers = _valid([window])
    if school_id is not None:
        answers = answers.filter(school_id=school_id)
    tallies = {str(i.number): Counter() for i in questionnaire.items.all() if i.kind == ItemKind.SCALE}
    for sheet in answers.values_list("answers", flat=True).iterator(chunk_size=2000):
        for number, tally in tallies.items():
            tally[sheet.get(number)] += 1
    rows = []
    for item in questionnaire.items.all():
        if item.kind != ItemKind.SCALE:
            continue
        tally = tallies[str(item.number)]
        total = sum(tally[c] for c in questionnaire.scale)
        rows.append({"item": item, "total": total,
                     "choices": [{"choice": c, "n": tally[c], "share": tally[c] / total if total else None} for c in questionnaire.scale]})
    return rows


def township_figures(*, township_code: str, period: int, group: str) -> SurveyFigures | None:
    """The sum over every window of the township's year whose questionnaire feeds `group`."""
    audiences = [a for a, g in GROUP_OF_AUDIENCE.items() if g == group]
    windows = SurveyWindow.objects.filter(township_id=township_code, period=period, questionnaire__audience__in=audiences)
    totals = window_totals(windows)
    if not windows.exists():
        return None
    return SurveyFigures(issued=sum(t.issued for t in totals.values()), valid=sum(t.valid for t in totals.values()),
                         satisfied=sum(t.satisfied for t in totals.values()))


@transaction.atomic
def count_window(*, window_id: int) -> str:
    """Recount the township's year the window feeds and write it; safe to run twice or late."""
    window = SurveyWindow.objects.select_related("questionnaire").filter(pk=window_id).first()
    if window is None:
        return "gone"
    figures = township_figures(township_code=window.township_id, period=window.period, group=window.questionnaire.group)
    outcome = record_collected_survey(township_code=window.township_id, period=window.period, group=window.questionnaire.group, figures=figures)
    SurveyWindow.objects.filter(pk=window.pk).update(counted_at=timezone.now())
    return outcome
