"""Roll-up results: one row per (division code, observation point, period, round, stage), written
by idempotent upserts so a recomputation can run any number of times."""
from django.db import models
from django.utils.translation import gettext_lazy as _

from evaluation.vocabulary import EvaluationStage, Verdict

from .framework import ObservationPoint


class PointResult(models.Model):
    # Keyed by what it is a result of, with no id column: the roll-up writes tens of thousands of
    # rows per province in one statement, and an id's sequence and index were 40 % of that write
    # (Shandong's 59,837 rows inserted into a copy of the table: 0.27–0.32 s → 0.13–0.17 s).
    # The key's order, the period second, serves both a 乡镇's rows of a year (code, period) and an
    # area's (a code range, the period filtered in the index); a separate (period, code) index cost
    # a third of the write and the reads did not need it.
    pk = models.CompositePrimaryKey("division_code", "period", "point", "round_key", "stage")
    division_code = models.CharField(max_length=12)
    # No constraint in the database: the roll-up writes tens of thousands of rows per province in
    # one statement, and the deferred check of each row's point cost about a quarter of the write
    # at its commit. Only the roll-up writes here, with ids from the framework; deleting a point
    # still deletes its results (Django's cascade), and integrity_check finds any row without one.
    point = models.ForeignKey(ObservationPoint, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    previous_value = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    period = models.PositiveSmallIntegerField()
    # 0 when no round is involved (points computed from data alone).
    round_key = models.PositiveIntegerField(default=0)
    stage = models.CharField(max_length=15, choices=EvaluationStage.choices)
    value = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    reference = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    verdict = models.CharField(max_length=15, choices=Verdict.choices)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("point result")
        verbose_name_plural = _("point results")


class TargetResult(models.Model):
    division_code = models.CharField(max_length=12)
    target_number = models.PositiveSmallIntegerField()
    period = models.PositiveSmallIntegerField()
    round_key = models.PositiveIntegerField(default=0)
    verdict = models.CharField(max_length=15, choices=Verdict.choices)
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    vetoed = models.BooleanField(default=False)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("target result")
        verbose_name_plural = _("target results")
        constraints = [
            models.UniqueConstraint(fields=["division_code", "target_number", "period", "round_key"], name="unique_target_result")
        ]


class TownshipResult(models.Model):
    division_code = models.CharField(max_length=12)
    period = models.PositiveSmallIntegerField()
    round_key = models.PositiveIntegerField(default=0)
    targets_attained = models.PositiveSmallIntegerField()
    all_seven = models.BooleanField()
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["division_code", "period", "round_key"], name="unique_township_result")]


class AreaResult(models.Model):
    """Per county, city and province: how many 乡镇 attain each target (0 = all seven)."""

    division_code = models.CharField(max_length=12)
    period = models.PositiveSmallIntegerField()
    round_key = models.PositiveIntegerField(default=0)
    population = models.CharField(max_length=20)  # "all", "pilots", "batch:<id>"
    # "all", or a stage: 乡镇 with schools of that stage, attaining a target at that stage.
    stage = models.CharField(max_length=15, choices=EvaluationStage.choices, default=EvaluationStage.ALL)
    target_number = models.PositiveSmallIntegerField()
    townships = models.PositiveIntegerField()
    attained = models.PositiveIntegerField()
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["division_code", "period", "round_key", "population", "stage", "target_number"], name="unique_area_result")
        ]


class AreaCountsDue(models.Model):
    """The area counts (counties, cities, the province) of a province's school year are owed while
    `requested` is ahead of `computed`: each county recomputed after a change adds one. One task
    per burst counts them, once the changes have paused (or a burst has lasted too long), so 50
    submissions in 45 counties cost one province-wide count, not 45."""

    period = models.PositiveSmallIntegerField()
    province = models.CharField(max_length=2)
    requested = models.PositiveBigIntegerField(default=0)
    computed = models.PositiveBigIntegerField(default=0)
    last_requested_at = models.DateTimeField(null=True)
    owed_since = models.DateTimeField(null=True)  # when computed last fell behind requested

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "province"], name="unique_area_counts_due")]


class RollupJob(models.Model):
    """A recomputation and its progress, for provincial staff to see; the nightly one holds a lock."""

    kind = models.CharField(_("kind"), max_length=12)
    period = models.PositiveSmallIntegerField(_("school year"))  # the latest of `periods`
    periods = models.JSONField(_("school years"), default=list)
    prefix = models.CharField(_("area"), max_length=12)
    status = models.CharField(_("status"), max_length=10, default="running")
    units_total = models.PositiveIntegerField(default=0)
    units_done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recomputation job")
        verbose_name_plural = _("recomputation jobs")
        ordering = ["-started_at"]


class RollupUnit(models.Model):
    """A county done within a job; keyed so a redelivered task is counted once."""

    job = models.ForeignKey(RollupJob, on_delete=models.CASCADE, related_name="units")
    county = models.CharField(max_length=6)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "county"], name="unique_rollup_unit")]



class ValueAddedVerdict(models.TextChoices):
    ABOVE = "above", _("Significantly above expected")
    AS_EXPECTED = "as_expected", _("As expected")
    BELOW = "below", _("Significantly below expected")


class ValueAdded(models.Model):
    """增值性评价: a seat school's (or a 乡镇's) value of a continuous data point this school year
    against the value expected from its own last year, by the province-wide fit of the stage
    (`evaluation.rollup.value_added`). A school's row names it; a 乡镇's row has no school code."""

    division_code = models.CharField(max_length=12)  # the 乡镇, for schools too: scoped by prefix
    school_code = models.CharField(max_length=20, blank=True, default="")
    # No index of its own (as PointResult's): only deleting a point reads rows by it alone.
    point = models.ForeignKey(ObservationPoint, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    period = models.PositiveSmallIntegerField()
    stage = models.CharField(max_length=15, choices=EvaluationStage.choices)
    students = models.PositiveIntegerField()
    previous = models.DecimalField(max_digits=20, decimal_places=6)
    actual = models.DecimalField(max_digits=20, decimal_places=6)
    expected = models.DecimalField(max_digits=20, decimal_places=6)
    value_added = models.DecimalField(max_digits=20, decimal_places=6)
    lower = models.DecimalField(max_digits=20, decimal_places=6)  # of the value-added, 95 %
    upper = models.DecimalField(max_digits=20, decimal_places=6)
    verdict = models.CharField(max_length=12, choices=ValueAddedVerdict.choices)
    schools_fitted = models.PositiveIntegerField()  # the fit's sample: the province's seat schools of the stage
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("value-added")
        verbose_name_plural = _("value-added")
        # As PointResult's: one key with the period second, no other index to write.
        constraints = [
            models.UniqueConstraint(fields=["division_code", "period", "school_code", "point", "stage"], name="unique_value_added")
        ]
