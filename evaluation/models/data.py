"""The facts the seven targets are judged on, one typed column per fact (wide tables).

A period is a school year named by its starting year (2024 = 2024–2025学年). Every row stores
the official code of the place it belongs to, so the jurisdiction rule scopes it with one prefix
match. Each fact has one source: the spreadsheet upload (TownshipYear also an entry form), both
through the same validation in evaluation.imports.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from evaluation.vocabulary import Grade


class SchoolYear(models.Model):
    # No separate index: the unique (school, period) constraint already leads with school.
    school = models.ForeignKey("townships.School", verbose_name=_("school"), on_delete=models.PROTECT, related_name="years", db_index=False)
    period = models.PositiveSmallIntegerField(_("school year"))
    # Denormalised from the school when written, so the jurisdiction scopes this table alone. No
    # database constraint: the school's own key is enforced, the upload copies its township after
    # checking it, and `manage.py integrity_check` verifies the two agree — while a constraint
    # here would cost every bulk upload a second check per row at commit.
    township = models.ForeignKey("townships.Township", verbose_name=_("township-level unit"), on_delete=models.PROTECT, related_name="+",
                                 db_constraint=False)

    students = models.PositiveIntegerField(_("students"))
    # Target 一: conditions (办学条件)
    function_rooms_present = models.PositiveSmallIntegerField(_("function rooms present"), null=True, blank=True)
    function_rooms_required = models.PositiveSmallIntegerField(_("function rooms required by the provincial standard"), null=True, blank=True)
    equipment_value_per_student = models.DecimalField(_("equipment value per student (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True)
    books_per_student = models.DecimalField(_("books per student"), max_digits=8, decimal_places=2, null=True, blank=True)
    computers = models.PositiveIntegerField(_("teaching computers"), null=True, blank=True)
    multimedia_classrooms = models.PositiveSmallIntegerField(_("multimedia classrooms"), null=True, blank=True)
    recording_rooms = models.PositiveSmallIntegerField(_("recording rooms"), null=True, blank=True)
    has_canteen = models.BooleanField(_("canteen"), null=True, blank=True)
    has_boarding = models.BooleanField(_("boarding"), null=True, blank=True)
    has_school_bus = models.BooleanField(_("school bus"), null=True, blank=True)
    # Target 二: teaching quality (教育教学质量)
    arts_courses_complete = models.BooleanField(_("music, PE and art courses all offered"), null=True, blank=True)
    clubs = models.PositiveSmallIntegerField(_("student clubs"), null=True, blank=True)
    physical_health_pass_rate = models.DecimalField(_("physical-health pass rate"), max_digits=5, decimal_places=4, null=True, blank=True)
    arts_skill_rate = models.DecimalField(_("share of students with an arts skill"), max_digits=5, decimal_places=4, null=True, blank=True)
    academic_average = models.DecimalField(_("academic-level average score"), max_digits=5, decimal_places=2, null=True, blank=True)
    mental_health_screening_rate = models.DecimalField(_("mental-health screening coverage"), max_digits=5, decimal_places=4, null=True, blank=True)
    violations = models.PositiveSmallIntegerField(_("violations of school-running rules"), null=True, blank=True)
    care_quality_grade = models.CharField(_("care-quality grade (kindergarten)"), max_length=10, choices=Grade.choices, blank=True)
    play_based_curriculum = models.BooleanField(_("play-based curriculum (kindergarten)"), null=True, blank=True)
    safety_grade = models.CharField(_("safety-management grade"), max_length=10, choices=Grade.choices, blank=True)
    # Target 四: teachers (师资结构)
    teachers = models.PositiveIntegerField(_("full-time teachers"), null=True, blank=True)
    teacher_posts = models.PositiveIntegerField(_("teacher posts"), null=True, blank=True)
    backbone_teachers = models.PositiveIntegerField(_("county-level-or-above backbone teachers"), null=True, blank=True)
    degree_teachers = models.PositiveIntegerField(
        _("teachers with the required degree (bachelor's; associate for kindergartens)"), null=True, blank=True
    )
    psychology_teachers = models.PositiveIntegerField(_("psychology teachers"), null=True, blank=True)

    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Uploads are never deleted, so this audit pointer needs no index of its own.
    # Provenance only (import runs are never deleted): no database check per written row.
    updated_by_import = models.ForeignKey("ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
                                          db_constraint=False)

    class Meta:
        verbose_name = _("school-year data")
        verbose_name_plural = _("school-year data")
        constraints = [models.UniqueConstraint(fields=["school", "period"], name="unique_school_period")]
        indexes = [models.Index(fields=["period", "township"], name="schoolyear_period_township")]

    def __str__(self):
        return f"{self.school_id} {self.period}"


class TownshipYear(models.Model):
    township = models.ForeignKey("townships.Township", verbose_name=_("township"), on_delete=models.PROTECT, related_name="years", db_index=False)
    period = models.PositiveSmallIntegerField(_("school year"))
    # Target 七: local registered children by stage, and how many attend schools in the township.
    registered_preschool = models.PositiveIntegerField(_("registered pre-school children"), null=True, blank=True)
    attending_preschool = models.PositiveIntegerField(_("of whom attend local kindergartens"), null=True, blank=True)
    registered_primary = models.PositiveIntegerField(_("registered primary-age children"), null=True, blank=True)
    attending_primary = models.PositiveIntegerField(_("of whom attend local primary schools"), null=True, blank=True)
    registered_junior = models.PositiveIntegerField(_("registered junior-middle-age children"), null=True, blank=True)
    attending_junior = models.PositiveIntegerField(_("of whom attend local junior middle schools"), null=True, blank=True)
    # Target 六: satisfaction surveys.
    parent_surveys_issued = models.PositiveIntegerField(_("parent surveys issued"), null=True, blank=True)
    parent_surveys_valid = models.PositiveIntegerField(_("parent surveys valid"), null=True, blank=True)
    parents_satisfied = models.PositiveIntegerField(_("parents satisfied"), null=True, blank=True)
    student_surveys_issued = models.PositiveIntegerField(_("student surveys issued"), null=True, blank=True)
    student_surveys_valid = models.PositiveIntegerField(_("student surveys valid"), null=True, blank=True)
    students_satisfied = models.PositiveIntegerField(_("students satisfied"), null=True, blank=True)
    # Set when the figures come from surveys run in the portal (surveys/), which then own them:
    # an upload may no longer change them.
    parent_surveys_collected = models.BooleanField(_("parent survey collected in the portal"), default=False, db_default=False)
    student_surveys_collected = models.BooleanField(_("student survey collected in the portal"), default=False, db_default=False)
    # Target 五
    district_management = models.BooleanField(_("district management (学区化管理)"), null=True, blank=True)

    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by_import = models.ForeignKey("ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("township-year data")
        verbose_name_plural = _("township-year data")
        constraints = [models.UniqueConstraint(fields=["township", "period"], name="unique_township_period")]

    def __str__(self):
        return f"{self.township_id} {self.period}"


class HelpKind(models.TextChoices):
    TRUSTEESHIP = "trusteeship", _("Trusteeship (托管)")
    GROUP = "group", _("Education group branch (集团化办学)")
    ALLIANCE = "alliance", _("Alliance (联盟)")
    PAIRING = "pairing", _("Pairing (结对帮扶)")
    RESEARCHER = "researcher", _("Researcher contact (教研员包保)")


class HelpRelation(models.Model):
    helper = models.ForeignKey("townships.School", verbose_name=_("helper school"), on_delete=models.PROTECT, related_name="helps_given")
    helped = models.ForeignKey("townships.School", verbose_name=_("helped school"), on_delete=models.PROTECT, related_name="helps_received")
    kind = models.CharField(_("kind"), max_length=12, choices=HelpKind.choices)
    period = models.PositiveSmallIntegerField(_("school year"))
    # The helped school's place: the relation belongs to the area that receives the help.
    township = models.ForeignKey("townships.Township", verbose_name=_("township-level unit"), on_delete=models.PROTECT, related_name="+")
    updated_by_import = models.ForeignKey("ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("help relation")
        verbose_name_plural = _("help relations")
        constraints = [models.UniqueConstraint(fields=["helper", "helped", "kind", "period"], name="unique_help_relation")]


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    PREVIEWED = "previewed", _("Previewed")
    INVALID = "invalid", _("Refused: invalid")
    COMMITTED = "committed", _("Committed")
    FAILED = "failed", _("Failed")


class ImportRun(models.Model):
    """One uploaded file: who, when, what it was, what it would change, and what it changed."""

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+")
    # The uploader's unit code at upload time: who may see this history row and its file.
    scope_code = models.CharField(_("area"), max_length=12, db_index=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    channel = models.CharField(_("channel"), max_length=10)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    stored_as = models.CharField(max_length=100, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    summary = models.JSONField(_("counts"), default=dict)
    errors = models.JSONField(_("errors"), default=list)
    flags = models.JSONField(_("implausible changes"), default=list)
    # Data-quality warnings (evaluation/imports/quality.py): shown, kept, listed; never a refusal.
    warnings = models.JSONField(_("data-quality warnings"), default=list)
    warning_count = models.PositiveIntegerField(_("data-quality warnings"), default=0, db_default=0)
    # {"new": [keys], "changed": [[key, field, old, new], ...]}; new rows' values are in the kept file.
    changes = models.JSONField(_("changes"), default=dict)
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)
    committed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"


class ConfirmedFlag(models.Model):
    """An implausible change the uploader confirmed with a reason (listed for city and province)."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="confirmed_flags")
    township = models.ForeignKey("townships.Township", on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(_("school or township"), max_length=120)
    period = models.PositiveSmallIntegerField(_("school year"))
    field = models.CharField(_("field"), max_length=60)
    previous = models.CharField(_("last year"), max_length=40)
    value = models.CharField(_("this year"), max_length=40)
    reason = models.TextField(_("reason"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("confirmed implausible change")
        verbose_name_plural = _("confirmed implausible changes")
