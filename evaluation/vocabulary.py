"""The words the rules are written in, spelled once: the verdicts a result can have, the stages a
result is given for and which school kinds count for each, and the grade scale.

The SQL roll-up (`evaluation.rollup`) and the Python reading of the rules (`evaluation.rules`)
both read them from here, as do the result models' choices. This module imports no model of
its own app, so the models can import it.
"""
from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from townships.models import Stage


class Verdict(models.TextChoices):
    """What a point, a target or a judgment comes to. Only `ATTAINED` counts as attained;
    `BASIC` (基本达成) is shown, and scores half, but does not."""

    # The result pages' own words, so the labels read the same everywhere.
    ATTAINED = "attained", _("attained")
    BASIC = "basic", _("basically attained")
    NOT_ATTAINED = "not_attained", _("not attained")
    INSUFFICIENT = "insufficient", _("insufficient data")


# The share of a point's weight a verdict earns in a target's 0–100 score. A point without data
# (insufficient) earns nothing and counts as nothing: its target has no score at all (nor has its
# township), rather than one counted over the other points — never 100 for a missing figure.
VERDICT_CREDIT = {Verdict.ATTAINED: Decimal(1), Verdict.BASIC: Decimal("0.5"), Verdict.NOT_ATTAINED: Decimal(0)}


class JudgmentLevel(models.TextChoices):
    """The levels an inspector may give a point: the verdicts but 'insufficient', which is what a
    point without a submitted level comes to."""

    ATTAINED = Verdict.ATTAINED.value, _("Attained")
    BASIC = Verdict.BASIC.value, _("Basically attained")
    NOT_ATTAINED = Verdict.NOT_ATTAINED.value, _("Not attained")


class EvaluationStage(models.TextChoices):
    """The stages a result is given for; township facts and judgments are for the whole
    township ('all')."""

    KINDERGARTEN = "kindergarten", _("Kindergarten")
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior middle school")
    ALL = "all", _("Township")


# Which evaluation stages a school of each kind counts for: a nine-year school is judged both as a
# primary and as a junior school, a complete middle school only as a junior one.
SCHOOL_STAGES: dict[str, tuple[str, ...]] = {
    Stage.KINDERGARTEN: (EvaluationStage.KINDERGARTEN,),
    Stage.PRIMARY: (EvaluationStage.PRIMARY,),
    Stage.JUNIOR: (EvaluationStage.JUNIOR,),
    Stage.NINE_YEAR: (EvaluationStage.PRIMARY, EvaluationStage.JUNIOR),
    Stage.COMPLETE_MIDDLE: (EvaluationStage.JUNIOR,),
    Stage.TWELVE_YEAR: (EvaluationStage.PRIMARY, EvaluationStage.JUNIOR),
}


def stage_label(stage: str) -> str:
    """A stage's label; a stage list ("primary,junior") as its labels, unknown words as they are."""
    labels = dict(EvaluationStage.choices)
    return ", ".join(str(labels.get(s, s)) for s in stage.split(","))


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")


# A grade as a number, so a grade is compared with a threshold like any other fact (良 or better:
# at least 3). A blank grade has no number.
GRADE_SCORE = {Grade.EXCELLENT: 4, Grade.GOOD: 3, Grade.PASS: 2, Grade.FAIL: 1}
