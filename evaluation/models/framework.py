"""The seven targets as data: a framework version, its targets and their observation points.

Each point names where its value comes from (a column of SchoolYear or TownshipYear, the help
relations, or an inspector's judgment), how school values become a township value, and the rule
that decides it — so a new framework over existing facts needs no code. A framework used by an
evaluation round is frozen: changes go into a new version, so past results stay comparable.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Framework(models.Model):
    version = models.CharField(_("version"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    source_document = models.CharField(_("source document"), max_length=300)
    frozen = models.BooleanField(_("frozen (used by a round)"), default=False)
    # The school year from which results without a round (school data alone) are judged by this
    # version; until the next version's year. Rounds are judged by the version they name.
    applies_from = models.PositiveSmallIntegerField(_("in force from school year"), default=2021)
    # Field verification (实地核查): how far a value found on site may differ from the reported
    # one before it is a data-quality finding, per kind of figure ("count", "rate", "amount") or
    # per column name, e.g. {"count": {"relative": "0.05"}, "rate": {"absolute": "0.02"}}.
    # Kinds left out take the portal's defaults (evaluation/verification.py DEFAULT_TOLERANCES).
    verification_tolerances = models.JSONField(_("verification tolerances"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evaluation framework")
        verbose_name_plural = _("evaluation frameworks")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name}（{self.version}）"


class Target(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="targets")
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200)
    source_quote = models.TextField(_("text of the programme"))

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["framework", "number"]
        constraints = [models.UniqueConstraint(fields=["framework", "number"], name="unique_target_number")]

    def __str__(self):
        return f"{self.number}. {self.name}"


class SourceKind(models.TextChoices):
    SCHOOL_COLUMN = "school", _("School-year data")
    TOWNSHIP_COLUMN = "township", _("Township-year data")
    HELP = "help", _("Help relations")
    JUDGMENT = "judgment", _("Inspector's judgment")


class Aggregation(models.TextChoices):
    MEAN = "mean", _("Mean over schools")
    WEIGHTED_MEAN = "weighted_mean", _("Student-weighted mean")
    RATIO_OF_SUMS = "ratio_of_sums", _("Ratio of sums")
    ALL_PASS = "all_pass", _("Every school must pass")
    NONE = "none", _("Township value")


class RuleKind(models.TextChoices):
    THRESHOLD = "threshold", _("At least a threshold")
    AT_MOST = "at_most", _("At most a threshold")
    URBAN_GAP = "urban_gap", _("Not lower than the county's urban schools")
    QUALITY_GAP = "quality_gap", _("Difference rate to urban quality schools below a threshold")
    TREND = "trend", _("Higher than the previous year")
    YES_NO = "yes_no", _("Yes")
    JUDGMENT = "judgment", _("Inspector's level")


class TrendReading(models.TextChoices):
    """How a "rising year on year" (逐年提升) point reads the two years, beside its ceiling."""

    RISE = "rise", _("Higher than the previous year")
    NOT_FALLEN = "not_fallen", _("Not lower than the previous year")


class PointScale(models.TextChoices):
    """How a point's value is written (it is stored as computed): as it is, a fraction as a
    percentage, a per-student figure per 100 students, or 1/0 as yes/no."""

    VALUE = "value", _("as computed")
    SHARE = "share", _("share, shown as %")
    PER_100 = "per_100", _("per 100 students")
    YES_NO = "yes_no", _("yes / no")


class ObservationPoint(models.Model):
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="points")
    code = models.CharField(_("code"), max_length=10)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200)
    # Comma-separated subset of kindergarten,primary,junior; empty for township facts.
    stages = models.CharField(_("stages"), max_length=40, blank=True)
    source_kind = models.CharField(_("source"), max_length=10, choices=SourceKind.choices)
    # A column of the source table; for a ratio of sums, numerator/denominator.
    column = models.CharField(_("column"), max_length=60, blank=True)
    denominator = models.CharField(_("denominator column"), max_length=60, blank=True)
    aggregation = models.CharField(_("aggregation"), max_length=15, choices=Aggregation.choices, default=Aggregation.NONE)
    rule = models.CharField(_("rule"), max_length=12, choices=RuleKind.choices)
    # For a trend point: the ceiling at or above which the point is attained whatever last year
    # was (a township at 100 % cannot rise further).
    threshold = models.DecimalField(_("threshold"), max_digits=10, decimal_places=4, null=True, blank=True)
    trend_reading = models.CharField(_("trend reading"), max_length=12, choices=TrendReading.choices, blank=True)
    # For a rate of a township's surveys: fewer valid answers than this say nothing either way
    # (insufficient data, never a pass). Stated here, with the point, not in a setting.
    min_valid = models.PositiveIntegerField(_("minimum of valid answers"), null=True, blank=True)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2, default=1)
    veto = models.BooleanField(_("veto item (一票否决)"), default=False)
    # "Portal default, not from the programme": a number the seed does not give.
    portal_default = models.BooleanField(_("portal default, not from the programme"), default=False)
    source_quote = models.TextField(_("text of the programme it comes from"))
    order = models.PositiveSmallIntegerField(default=0)
    # How its figures are written everywhere (evaluation/figures.py): unit, scale and decimals.
    unit = models.CharField(_("unit of measure"), max_length=20, blank=True)
    scale = models.CharField(_("scale"), max_length=10, choices=PointScale.choices, default=PointScale.VALUE)
    decimals = models.PositiveSmallIntegerField(_("decimals"), default=2)

    class Meta:
        verbose_name = _("observation point")
        verbose_name_plural = _("observation points")
        ordering = ["target__number", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["target", "code"], name="unique_point_code")]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def stage_list(self) -> list[str]:
        return [s for s in self.stages.split(",") if s]

    @property
    def needs_judgment(self) -> bool:
        return self.source_kind == SourceKind.JUDGMENT
