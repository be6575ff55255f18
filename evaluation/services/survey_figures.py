"""Satisfaction figures collected by the portal's own surveys (surveys/) written into the
township's year: they replace typed numbers, are marked as collected, and the roll-up follows
exactly as it does after an upload (one task per county, after commit)."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from core.ports import locked
from evaluation.models import TownshipYear
from evaluation.services.rollup_jobs import queue_rollup_on_commit

# group → (issued, valid, satisfied, collected) columns of TownshipYear
SURVEY_COLUMNS = {
    "parents": ("parent_surveys_issued", "parent_surveys_valid", "parents_satisfied", "parent_surveys_collected"),
    "students": ("student_surveys_issued", "student_surveys_valid", "students_satisfied", "student_surveys_collected"),
}


@dataclass(frozen=True)
class SurveyFigures:
    issued: int
    valid: int
    satisfied: int


@transaction.atomic
def record_collected_survey(*, township_code: str, period: int, group: str, figures: SurveyFigures) -> str:
    """Write one group's figures (parents or students) for a township's year. Answers "changed",
    "unchanged" (nothing written, nothing recomputed) or "locked" (an approval locks the year:
    the figures stay as approved, the survey's own pages still show its counts)."""
    issued_col, valid_col, satisfied_col, collected_col = SURVEY_COLUMNS[group]
    if locked([(township_code, period)]):
        return "locked"
    row, _ = TownshipYear.objects.select_for_update().get_or_create(township_id=township_code, period=period)
    wanted = {issued_col: figures.issued, valid_col: figures.valid, satisfied_col: figures.satisfied, collected_col: True}
    if all(getattr(row, k) == v for k, v in wanted.items()):
        return "unchanged"
    for k, v in wanted.items():
        setattr(row, k, v)
    row.updated_by_import = None
    row.save(update_fields=[*wanted, "updated_at", "updated_by_import"])
    queue_rollup_on_commit(periods=[period], township_codes=[township_code])
    return "changed"
