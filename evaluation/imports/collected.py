"""Satisfaction figures collected by the portal's own surveys belong to the survey: an upload
(or the township form) that would change them is refused, row by row, naming the survey. Rows
that leave them as they are pass (a re-downloaded template carries them unchanged)."""
from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from evaluation.models import TownshipYear

from . import columns as c
from .records import SheetOutcome

# The collected mark → the columns it covers (evaluation.services.survey_figures.SURVEY_COLUMNS).
COVERED = {
    "parent_surveys_collected": ("parent_surveys_issued", "parent_surveys_valid", "parents_satisfied"),
    "student_surveys_collected": ("student_surveys_issued", "student_surveys_valid", "students_satisfied"),
}


def refuse_collected(outcome: SheetOutcome) -> None:
    if outcome.parsed.spec.kind != c.TOWNSHIP_YEARS.kind or not outcome.changed:
        return
    keys = {(ch.township_code, ch.period) for ch in outcome.changed}
    columns = [col for cols in COVERED.values() for col in cols]
    stored = {
        (row[0], row[1]): dict(zip([*COVERED, *columns], row[2:], strict=True))
        for row in TownshipYear.objects.filter(Q(parent_surveys_collected=True) | Q(student_surveys_collected=True),
                                               township_id__in={k[0] for k in keys}, period__in={k[1] for k in keys})
        .values_list("township_id", "period", *COVERED, *columns)
    }
    by_key = {col.key: col for col in outcome.parsed.spec.columns}
    for ch in outcome.changed:
        old = stored.get((ch.township_code, ch.period))
        if old is None:
            continue
        for mark, cols in COVERED.items():
            for key in cols:
                if old[mark] and key in ch.values and ch.values[key] != old[key]:
                    outcome.parsed.error(ch.row, by_key[key], ch.values[key],
                                         _("collected by the portal's satisfaction survey; an upload cannot change it"))
