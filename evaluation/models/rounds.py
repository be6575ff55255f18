"""Evaluation rounds, inspectors' assignments, and the team's form with its judgments and evidence.

Every row stores the township's official code (directly or through its form), so the
jurisdiction rule scopes it; inspectors see townships through their assignments.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from evaluation.vocabulary import JudgmentLevel

from .framework import Framework, ObservationPoint


class Round(models.Model):
    name = models.CharField(_("name"), max_length=200)
    period = models.PositiveSmallIntegerField(_("school year"))
    framework = models.ForeignKey(Framework, verbose_name=_("framework"), on_delete=models.PROTECT, related_name="rounds")
    opens_on = models.DateField(_("opens on"), null=True, blank=True)
    due_on = models.DateField(_("forms due on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evaluation round")
        verbose_name_plural = _("evaluation rounds")
        ordering = ["-period", "name"]

    def __str__(self):
        return self.name


class RoundTownship(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="townships")
    township = models.ForeignKey("townships.Township", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("township in a round")
        verbose_name_plural = _("townships in a round")
        constraints = [models.UniqueConstraint(fields=["round", "township"], name="unique_round_township")]


class Assignment(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="assignments")
    township = models.ForeignKey("townships.Township", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("inspector"), on_delete=models.PROTECT, related_name="assignments")
    is_lead = models.BooleanField(_("team lead"), default=False)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(fields=["round", "township", "inspector"], name="unique_assignment"),
            models.UniqueConstraint(fields=["round", "township"], condition=models.Q(is_lead=True), name="one_lead_per_team"),
        ]


class FormStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned")


class InspectionForm(models.Model):
    """The team's form for one township in one round: the judgment the roll-up uses once submitted."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="forms")
    township = models.ForeignKey("townships.Township", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=FormStatus.choices, default=FormStatus.DRAFT)
    # Bumped by every save: a save made from an older version is refused (two tabs, double clicks).
    version = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("inspection form")
        verbose_name_plural = _("inspection forms")
        constraints = [models.UniqueConstraint(fields=["round", "township"], name="unique_form")]

    def __str__(self):
        return f"{self.round} · {self.township_id}"




class Judgment(models.Model):
    form = models.ForeignKey(InspectionForm, on_delete=models.CASCADE, related_name="judgments")
    point = models.ForeignKey(ObservationPoint, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("level"), max_length=12, choices=JudgmentLevel.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("judgment")
        verbose_name_plural = _("judgments")
        constraints = [models.UniqueConstraint(fields=["form", "point"], name="unique_judgment")]


class Evidence(models.Model):
    """A photo or document behind a judgment, stored privately under a generated name."""

    judgment = models.ForeignKey(Judgment, on_delete=models.CASCADE, related_name="evidence")
    township = models.ForeignKey("townships.Township", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_as = models.CharField(max_length=120, editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")


class FormEvent(models.Model):
    """Submissions and returns, with who, when and why."""

    form = models.ForeignKey(InspectionForm, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=10)
    reason = models.TextField(_("reason"), blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class FormChange(models.Model):
    """Every change of a judgment: who, when, old → new."""

    form = models.ForeignKey(InspectionForm, on_delete=models.CASCADE, related_name="changes")
    point = models.ForeignKey(ObservationPoint, on_delete=models.PROTECT, related_name="+")
    field = models.CharField(max_length=20)
    old = models.TextField(blank=True)
    new = models.TextField(blank=True)
    version = models.PositiveIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
