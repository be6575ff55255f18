"""Field verification (实地核查): a reproducible sample of reported school figures per assigned
township, the values inspectors find on site, the data-quality findings beyond tolerance, and
the point verdicts that change when the verified values replace the reported ones.

Every row stores the township's code, so the jurisdiction rule scopes it; inspectors reach the
items of their assignments only.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from evaluation.vocabulary import Verdict, stage_label

from .framework import ObservationPoint
from .rounds import Round


class VerificationSample(models.Model):
    """One draw for a round. The seed is kept, so anyone can redraw and get the same items."""

    round = models.OneToOneField(Round, verbose_name=_("evaluation round"), on_delete=models.PROTECT, related_name="verification_sample")
    seed = models.CharField(_("seed"), max_length=64)
    per_township = models.PositiveSmallIntegerField(_("figures per township"))
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drawn_at = models.DateTimeField(_("drawn at"), auto_now_add=True)

    class Meta:
        verbose_name = _("verification sample")
        verbose_name_plural = _("verification samples")

    def __str__(self):
        return f"{self.round} · {self.seed}"


class VerificationItem(models.Model):
    sample = models.ForeignKey(VerificationSample, on_delete=models.CASCADE, related_name="items")
    township = models.ForeignKey("townships.Township", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("townships.School", verbose_name=_("school"), on_delete=models.PROTECT, related_name="+")
    period = models.PositiveSmallIntegerField(_("school year"))
    field = models.CharField(_("figure"), max_length=60)
    reported = models.DecimalField(_("reported value"), max_digits=14, decimal_places=4)
    # Why it was drawn: the draw weight (higher near a verdict's threshold, see README).
    weight = models.DecimalField(_("draw weight"), max_digits=8, decimal_places=3)
    verified = models.DecimalField(_("value found on site"), max_digits=14, decimal_places=4, null=True, blank=True)
    discrepancy = models.DecimalField(_("discrepancy"), max_digits=14, decimal_places=4, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    evidence_name = models.CharField(_("file name"), max_length=255, blank=True)
    evidence_type = models.CharField(max_length=100, blank=True)
    evidence_size = models.PositiveIntegerField(null=True, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    evidence_stored_as = models.CharField(max_length=120, blank=True, editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("verification item")
        verbose_name_plural = _("verification items")
        ordering = ["township_id", "school_id", "field"]
        constraints = [models.UniqueConstraint(fields=["sample", "school", "field"], name="unique_verification_item")]


class DataQualityFinding(models.Model):
    """A verified figure beyond the framework's tolerance: exactly one per such item (it follows
    the latest recorded value, and goes when a new value is within tolerance)."""

    item = models.OneToOneField(VerificationItem, on_delete=models.CASCADE, related_name="finding")
    township = models.ForeignKey("townships.Township", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+")
    field = models.CharField(_("figure"), max_length=60)
    reported = models.DecimalField(_("reported value"), max_digits=14, decimal_places=4)
    verified = models.DecimalField(_("value found on site"), max_digits=14, decimal_places=4)
    discrepancy = models.DecimalField(_("discrepancy"), max_digits=14, decimal_places=4)
    tolerance = models.CharField(_("tolerance"), max_length=40)
    found_at = models.DateTimeField(_("found at"), auto_now=True)

    class Meta:
        verbose_name = _("data-quality finding")
        verbose_name_plural = _("data-quality findings")
        ordering = ["-found_at"]


class VerifiedVerdict(models.Model):
    """A point verdict that changes when the verified values replace the reported ones (经核查)."""

    sample = models.ForeignKey(VerificationSample, on_delete=models.CASCADE, related_name="flips")
    township = models.ForeignKey("townships.Township", on_delete=models.PROTECT, related_name="+")
    point = models.ForeignKey(ObservationPoint, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=15)
    reported_verdict = models.CharField(max_length=15, choices=Verdict.choices)
    verified_verdict = models.CharField(max_length=15, choices=Verdict.choices)

    class Meta:
        verbose_name = _("verdict changed by verification")
        verbose_name_plural = _("verdicts changed by verification")
        constraints = [models.UniqueConstraint(fields=["sample", "township", "point", "stage"], name="unique_verified_verdict")]

    @property
    def stage_label(self) -> str:
        return stage_label(self.stage)
