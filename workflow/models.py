"""The programme as it is managed: plans and deadlines, funding, self-assessment reviewed up the
levels with the data locks it brings, rectification items, good practice, notifications."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class PlanLevel(models.TextChoices):
    PROVINCE = "province", _("province")
    CITY = "city", _("city")
    COUNTY = "county", _("county")


LEVEL_OF_CODE_LENGTH = {2: PlanLevel.PROVINCE, 4: PlanLevel.CITY, 6: PlanLevel.COUNTY}


class PlanDeadline(models.Model):
    """When each level's implementation plan is due (set by provincial staff per year)."""

    year = models.PositiveSmallIntegerField(_("year"))
    level = models.CharField(_("level"), max_length=10, choices=PlanLevel.choices)
    due_on = models.DateField(_("due on"))
    set_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("plan deadline")
        verbose_name_plural = _("plan deadlines")
        constraints = [models.UniqueConstraint(fields=["year", "level"], name="unique_plan_deadline")]


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    FILED = "filed", _("filed")


class Plan(models.Model):
    """A province's, city's or county's implementation plan for a year."""

    unit = models.ForeignKey("townships.Division", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    filed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("implementation plan")
        verbose_name_plural = _("implementation plans")
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="unique_plan")]

    def __str__(self):
        return self.title


class StoredFile(models.Model):
    """A document kept privately under its content hash; served only inside the area."""

    file_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_as = models.CharField(max_length=120, editable=False)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class PlanDocument(StoredFile):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="documents")


class SupportMeasure(models.Model):
    """A structured measure of a plan; a county's plan has at least one for each of its 乡镇."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="measures")
    township = models.ForeignKey("townships.Division", verbose_name=_("township"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    what = models.TextField(_("measure"))
    owner = models.CharField(_("responsible"), max_length=100)
    budget = models.DecimalField(_("budget (10k yuan)"), max_digits=12, decimal_places=2, default=0)
    due_on = models.DateField(_("by"))

    class Meta:
        verbose_name = _("support measure")
        verbose_name_plural = _("support measures")


class FundingPurpose(models.TextChoices):
    TEACHING_REFORM = "teaching_reform", _("teaching reform")
    TEACHER_TRAINING = "teacher_training", _("teacher training")
    CURRICULUM = "curriculum", _("curriculum and research")
    CONDITIONS = "conditions", _("school conditions")


class Funding(models.Model):
    """Support for a pilot township in a year and for one purpose: provincial funds and local
    matching, planned and spent (10k yuan)."""

    township = models.ForeignKey("townships.Division", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    purpose = models.CharField(_("purpose"), max_length=20, choices=FundingPurpose.choices)
    provincial_planned = models.DecimalField(_("provincial funds, planned"), max_digits=12, decimal_places=2, default=0)
    provincial_spent = models.DecimalField(_("provincial funds, spent"), max_digits=12, decimal_places=2, default=0)
    local_planned = models.DecimalField(_("local matching, planned"), max_digits=12, decimal_places=2, default=0)
    local_spent = models.DecimalField(_("local matching, spent"), max_digits=12, decimal_places=2, default=0)
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("funding")
        verbose_name_plural = _("funding")
        constraints = [models.UniqueConstraint(fields=["township", "year", "purpose"], name="unique_funding")]


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("draft (county)")
    SUBMITTED = "submitted", _("submitted to the city")
    CITY_RETURNED = "city_returned", _("returned by the city")
    CITY_APPROVED = "city_approved", _("approved by the city")
    PROVINCE_RETURNED = "province_returned", _("returned by the province")
    PROVINCE_APPROVED = "province_approved", _("approved by the province")
    REOPENED = "reopened", _("reopened")


class SelfAssessment(models.Model):
    """A county's self-assessment (自评) of one township in one round, reviewed by the city (复核)
    and the province."""

    round = models.ForeignKey("evaluation.Round", verbose_name=_("evaluation round"), on_delete=models.PROTECT, related_name="+")
    township = models.ForeignKey("townships.Division", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("self-assessment")
        verbose_name_plural = _("self-assessments")
        constraints = [models.UniqueConstraint(fields=["round", "township"], name="unique_self_assessment")]


class SelfAssessmentItem(models.Model):
    assessment = models.ForeignKey(SelfAssessment, on_delete=models.CASCADE, related_name="items")
    point = models.ForeignKey("evaluation.ObservationPoint", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("level"), max_length=12, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assessment", "point"], name="unique_self_assessment_item")]


ACTION_LABELS = {
    "submit": _("submitted"), "approve": _("approved"), "return": _("returned"), "reopen": _("reopened"),
    "created": _("created"), "answered": _("answered"), "returned": _("sent back"), "closed": _("closed"),
    "notice": _("notice (通报)"), "talk": _("formal talk (约谈)"),
    "assigned": _("owner assigned"), "rechecked": _("re-checked"), "reopened": _("reopened by the re-check"),
    "recheck_closed": _("closed on the re-check"), "committed": _("committed in a formal talk"),
    "in_notice": _("named in a notice (通报)"), "accountability": _("accountability decision (问责)"),
}


class ReviewStep(models.Model):
    """Who did what to a self-assessment, when and why; a return names the points to revisit."""

    assessment = models.ForeignKey(SelfAssessment, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("action"), max_length=10)  # submit, approve, return, reopen
    level = models.CharField(_("level"), max_length=10, choices=PlanLevel.choices)
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"), blank=True)
    points = models.JSONField(_("points to revisit"), default=list, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    @property
    def action_label(self):
        return ACTION_LABELS.get(self.action, self.action)


class DataLock(models.Model):
    """An approval locks the township's data and forms for the round's school year; the level
    above reopens it with a reason. Released locks stay as history."""

    round = models.ForeignKey("evaluation.Round", on_delete=models.PROTECT, related_name="+")
    township = models.ForeignKey("townships.Division", on_delete=models.PROTECT, related_name="+")
    period = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=10, choices=PlanLevel.choices)
    locked_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    locked_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["township", "period"], name="datalock_township_period", condition=models.Q(released_at=None))]


class ItemStatus(models.TextChoices):
    OPEN = "open", _("open")
    ANSWERED = "answered", _("answered, to be checked")
    RETURNED = "returned", _("sent back")
    CLOSED = "closed", _("closed")


class Escalation(models.IntegerChoices):
    NONE = 0, _("none")
    NOTICE = 1, _("notice (通报)")
    TALK = 2, _("formal talk (约谈)")


class RectificationItem(models.Model):
    """An observation point not attained in a round (or a commitment made in a formal talk): the
    county must fix it by the deadline. Its owner is a county officer of the item's county; the
    next roll-up re-checks the point (recheck_*)."""

    # Null for a commitment made in a formal talk (约谈), which names no round or point.
    round = models.ForeignKey("evaluation.Round", verbose_name=_("evaluation round"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    township = models.ForeignKey("townships.Division", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+")
    point = models.ForeignKey("evaluation.ObservationPoint", verbose_name=_("observation point"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("stage"), max_length=15)
    problem = models.TextField(_("problem"))
    owner = models.ForeignKey(USER, verbose_name=_("responsible"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Who was responsible as written before owners were accounts (kept when no account matched).
    owner_note = models.CharField(_("responsible (as written)"), max_length=100, blank=True)
    talk = models.ForeignKey("Talk", verbose_name=_("formal talk"), null=True, blank=True, on_delete=models.PROTECT, related_name="commitments")
    # The latest later result of the point (a later school year or a later round), set by recheck_items.
    recheck_verdict = models.CharField(_("re-check"), max_length=15, blank=True)
    recheck_key = models.CharField(max_length=24, blank=True)  # "period:round_key" of that result
    recheck_figure = models.TextField(_("re-checked figure"), blank=True)
    # The result key an item closed as fixed was last reopened for: the same result never reopens it twice.
    reopened_for = models.CharField(max_length=24, blank=True)
    due_on = models.DateField(_("deadline"))
    status = models.CharField(_("status"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    escalation = models.PositiveSmallIntegerField(_("escalation"), choices=Escalation.choices, default=Escalation.NONE)
    measures = models.TextField(_("measures taken"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rectification item")
        verbose_name_plural = _("rectification items")
        constraints = [models.UniqueConstraint(fields=["round", "township", "point"], name="unique_rectification_item")]
        indexes = [models.Index(fields=["status", "due_on"], name="rectification_status_due")]


class RectificationStep(models.Model):
    item = models.ForeignKey(RectificationItem, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("action"), max_length=20)  # created, answered, returned, closed, notice, talk
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    @property
    def action_label(self):
        return ACTION_LABELS.get(self.action, self.action)


class RectificationEvidence(StoredFile):
    item = models.ForeignKey(RectificationItem, on_delete=models.CASCADE, related_name="evidence")


class CaseTheme(models.TextChoices):
    TEACHING = "teaching", _("teaching model")
    LESSON = "lesson", _("lesson")
    MANAGEMENT = "management", _("management practice")
    HELP = "help", _("help between schools")


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    PUBLISHED = "published", _("published")
    DECLINED = "declined", _("not selected")


class GoodPractice(models.Model):
    """A case of good practice (优秀案例) from a school, county or city; provincial staff select
    and publish it to every user of the portal."""

    title = models.CharField(_("title"), max_length=200)
    theme = models.CharField(_("theme"), max_length=12, choices=CaseTheme.choices)
    unit = models.ForeignKey("townships.Division", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey("townships.School", verbose_name=_("school"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    summary = models.TextField(_("summary"))
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.SUBMITTED)
    submitted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("good practice case")
        verbose_name_plural = _("good practice cases")
        ordering = ["-submitted_at"]


class CaseDocument(StoredFile):
    case = models.ForeignKey(GoodPractice, on_delete=models.CASCADE, related_name="documents")


class Notification(models.Model):
    """In-portal notice: assignments, returns, deadlines, escalations. `key` makes a repeated
    notice (a daily reminder job run twice) a no-op."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    key = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="unique_notification")]


# --- Accountability (通报, 约谈, 问责) ---------------------------------------------------------------


class Notice(models.Model):
    """A notice (通报) the province issues: numbered per year, dated, naming counties and the items
    that led to it; its PDF is kept. Seen only by the counties named, their cities and the province."""

    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    number = models.CharField(_("number"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    issued_on = models.DateField(_("issued on"))
    counties = models.ManyToManyField("townships.Division", through="NoticeCounty", related_name="+")
    items = models.ManyToManyField(RectificationItem, blank=True, related_name="notices")
    pdf_stored_as = models.CharField(max_length=120, editable=False)
    pdf_sha256 = models.CharField(max_length=64, editable=False)
    issued_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("notice (通报)")
        verbose_name_plural = _("notices (通报)")
        ordering = ["-year", "-sequence"]
        constraints = [models.UniqueConstraint(fields=["year", "sequence"], name="unique_notice_sequence")]

    def __str__(self):
        return self.number


class NoticeCounty(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="named")
    county = models.ForeignKey("townships.Division", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "county"], name="unique_notice_county")]


class Talk(models.Model):
    """A formal talk (约谈) with a county: who was talked to, the minutes; its commitments become
    rectification items (RectificationItem.talk)."""

    county = models.ForeignKey("townships.Division", verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField(_("held on"))
    talked_to = models.CharField(_("talked to"), max_length=200)
    minutes = models.TextField(_("minutes"))
    notice = models.ForeignKey(Notice, verbose_name=_("notice (通报)"), null=True, blank=True, on_delete=models.PROTECT, related_name="talks")
    items = models.ManyToManyField(RectificationItem, blank=True, related_name="talks")
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("formal talk (约谈)")
        verbose_name_plural = _("formal talks (约谈)")
        ordering = ["-held_on", "-id"]


class Accountability(models.Model):
    """An accountability decision (问责) on a county: what was decided and on what basis — the
    notices, talks and items that led to it."""

    county = models.ForeignKey("townships.Division", verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField(_("decided on"))
    decision = models.TextField(_("decision"))
    basis = models.TextField(_("basis"))
    notices = models.ManyToManyField(Notice, blank=True, related_name="+")
    talks = models.ManyToManyField(Talk, blank=True, related_name="+")
    items = models.ManyToManyField(RectificationItem, blank=True, related_name="+")
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("accountability decision (问责)")
        verbose_name_plural = _("accountability decisions (问责)")
        ordering = ["-decided_on", "-id"]


class AcceptanceOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("accepted")
    EXTENDED = "extended", _("extended")
    WITHDRAWN = "withdrawn", _("withdrawn")


class PilotAcceptance(models.Model):
    """The province's acceptance (验收) of a pilot at the end of its period, with the evaluation
    round it rests on; the latest decision is the pilot's state (townships' pilot list)."""

    pilot = models.ForeignKey("townships.PilotTownship", verbose_name=_("pilot township"), on_delete=models.CASCADE, related_name="+")
    township = models.ForeignKey("townships.Division", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=10, choices=AcceptanceOutcome.choices)
    round = models.ForeignKey("evaluation.Round", verbose_name=_("evaluation round"), on_delete=models.PROTECT, related_name="+")
    extended_until = models.PositiveSmallIntegerField(_("extended until school year"), null=True, blank=True)
    note = models.TextField(_("note"))
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pilot acceptance")
        verbose_name_plural = _("pilot acceptances")
        ordering = ["-decided_at", "-id"]
