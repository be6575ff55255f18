"""Satisfaction surveys run in the portal (target 六): questionnaires as data, survey windows per
township with one-time answer codes, and the anonymous answers.

An answer keeps only its school, questionnaire, time and answers: it is not linked to the code
that was spent for it (a county that noted which slip went to which family could otherwise read
a family's answers), nor to the address it came from.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Audience(models.TextChoices):
    PARENTS = "parents", _("Parents")
    KINDERGARTEN_PARENTS = "kindergarten_parents", _("Kindergarten parents")
    STUDENTS = "students", _("Students")


# The township's figures each audience feeds (TownshipYear: parents' or students' survey).
GROUP_OF_AUDIENCE = {Audience.PARENTS: "parents", Audience.KINDERGARTEN_PARENTS: "parents", Audience.STUDENTS: "students"}


class SatisfiedRule(models.TextChoices):
    ALL_COUNTED = "all_counted", _("Every counted item answered with a satisfied choice")
    MAJORITY_COUNTED = "majority_counted", _("More than half of the counted items answered with a satisfied choice")


class Questionnaire(models.Model):
    code = models.CharField(_("code"), max_length=40)
    version = models.CharField(_("version"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    audience = models.CharField(_("audience"), max_length=24, choices=Audience.choices)
    # Comma-separated stages the questionnaire is for (students by stage); empty: any.
    stages = models.CharField(_("stages"), max_length=60, blank=True)
    introduction = models.TextField(_("introduction"), blank=True)
    # The answer choices of every scale item, best first, e.g. 非常满意 … 非常不满意.
    scale = models.JSONField(_("answer scale"), default=list)
    # The choices that count as satisfied (e.g. 非常满意, 满意).
    satisfied_choices = models.JSONField(_("satisfied choices"), default=list)
    rule = models.CharField(_("rule"), max_length=20, choices=SatisfiedRule.choices, default=SatisfiedRule.ALL_COUNTED)
    portal_default = models.BooleanField(_("portal default, not from the programme"), default=False)
    source_note = models.CharField(_("source"), max_length=300, blank=True)
    frozen = models.BooleanField(_("frozen (used by a survey)"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="unique_questionnaire_version")]

    def __str__(self):
        return f"{self.title}（{self.version}）"

    @property
    def group(self) -> str:
        return GROUP_OF_AUDIENCE[self.audience]


class ItemKind(models.TextChoices):
    SCALE = "scale", _("Choice on the scale")
    TEXT = "text", _("Free text")


class Item(models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="items")
    number = models.PositiveSmallIntegerField(_("number"))
    text = models.CharField(_("question"), max_length=300)
    kind = models.CharField(_("kind"), max_length=8, choices=ItemKind.choices, default=ItemKind.SCALE)
    # Scale items must be answered for an answer to be complete; free text never must.
    counts = models.BooleanField(_("counts toward satisfied"), default=False)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["questionnaire", "number"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "number"], name="unique_item_number")]

    def __str__(self):
        return f"{self.number}. {self.text}"


class SurveyWindow(models.Model):
    township = models.ForeignKey("townships.Township", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+")
    questionnaire = models.ForeignKey(Questionnaire, verbose_name=_("questionnaire"), on_delete=models.PROTECT, related_name="windows")
    period = models.PositiveSmallIntegerField(_("school year"))
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    # The first characters of every code of this window: failed guesses are limited per prefix.
    prefix = models.CharField(_("code prefix"), max_length=3, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    counted_at = models.DateTimeField(_("last counted"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey window")
        verbose_name_plural = _("survey windows")
        ordering = ["-opens_at"]

    def __str__(self):
        return f"{self.township_id} {self.questionnaire.title} {self.opens_at:%Y-%m-%d}"


class WindowSchool(models.Model):
    window = models.ForeignKey(SurveyWindow, on_delete=models.CASCADE, related_name="schools")
    school = models.ForeignKey("townships.School", verbose_name=_("school"), on_delete=models.PROTECT, related_name="+")
    target = models.PositiveIntegerField(_("target number of answers"))

    class Meta:
        verbose_name = _("school of a survey window")
        verbose_name_plural = _("schools of a survey window")
        constraints = [models.UniqueConstraint(fields=["window", "school"], name="unique_window_school")]


class AnswerCode(models.Model):
    """One slip: answers once. The code is random (not derived from anything) and unique."""

    window = models.ForeignKey(SurveyWindow, on_delete=models.CASCADE, related_name="codes")
    school = models.ForeignKey("townships.School", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=16, unique=True)
    spent_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("answer code")
        verbose_name_plural = _("answer codes")
        indexes = [models.Index(fields=["window", "school"], name="answercode_window_school")]


class Answer(models.Model):
    window = models.ForeignKey(SurveyWindow, on_delete=models.PROTECT, related_name="answers")
    school = models.ForeignKey("townships.School", on_delete=models.PROTECT, related_name="+")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"))
    # Item number (as text) → the choice, or the free text.
    answers = models.JSONField(_("answers"))
    satisfied = models.BooleanField(_("satisfied"))
    # A digest of the choices, to see identical answer sheets in a row.
    sheet = models.CharField(max_length=16)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [models.Index(fields=["window", "school", "id"], name="answer_window_school")]


class FlagKind(models.TextChoices):
    BURST = "burst", _("Many answers within seconds from one address")
    IDENTICAL = "identical", _("Identical answer sheets in a row")


class SurveyFlag(models.Model):
    """A suspicious pattern, for the county to look into; the answers still count."""

    window = models.ForeignKey(SurveyWindow, on_delete=models.CASCADE, related_name="flags")
    school = models.ForeignKey("townships.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=FlagKind.choices)
    detected_at = models.DateTimeField(_("detected at"))
    answers = models.PositiveIntegerField(_("answers"))
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("suspicious pattern")
        verbose_name_plural = _("suspicious patterns")
        ordering = ["-detected_at"]
