"""The division tree keyed by official statistical codes, pilot batches, schools and users.

Every table that belongs to a place stores that place's official code (Division's primary key),
so "inside a jurisdiction" is one prefix match on a code column, with no join.
"""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    TOWNSHIP = "township", _("Township")


# Code length per level in the statistics bureau's scheme: 37 / 3701 / 370124 / 370124102.
CODE_LENGTH = {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6, Level.TOWNSHIP: 9}


class TownshipKind(models.TextChoices):
    """The kind of a township-level unit, read from the last three digits of its code."""

    SUBDISTRICT = "subdistrict", _("Subdistrict (jiedao)")
    TOWN = "town", _("Town (zhen)")
    XIANG = "xiang", _("Township (xiang)")
    SPECIAL = "special", _("Special unit")


def township_kind_for_code(code: str) -> str:
    # NBS coding rules: 001–099 街道, 100–199 镇, 200–399 乡 (incl. 民族乡), 400+ 开发区等.
    suffix = int(code[-3:])
    if suffix < 100:
        return TownshipKind.SUBDISTRICT
    if suffix < 200:
        return TownshipKind.TOWN
    if suffix < 400:
        return TownshipKind.XIANG
    return TownshipKind.SPECIAL


# The programme counts 乡 and 镇 (not 街道, not special units).
PROGRAMME_KINDS = (TownshipKind.TOWN, TownshipKind.XIANG)


class Division(models.Model):
    code = models.CharField(_("official code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=TownshipKind.choices, blank=True)

    class Meta:
        verbose_name = _("division")
        verbose_name_plural = _("divisions")
        ordering = ["code"]
        indexes = [
            # Lets PostgreSQL answer LIKE '3701%' from the index whatever the database collation.
            models.Index(fields=["code"], name="division_code_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["level", "kind"], name="division_level_kind"),
        ]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    @property
    def is_programme_township(self) -> bool:
        return self.level == Level.TOWNSHIP and self.kind in PROGRAMME_KINDS


class LevelManager(models.Manager):
    def __init__(self, level):
        super().__init__()
        self.level = level

    def get_queryset(self):
        return super().get_queryset().filter(level=self.level)


class Province(Division):
    objects = LevelManager(Level.PROVINCE)

    class Meta:
        proxy = True
        verbose_name = _("province")
        verbose_name_plural = _("provinces")


class City(Division):
    objects = LevelManager(Level.CITY)

    class Meta:
        proxy = True
        verbose_name = _("city")
        verbose_name_plural = _("cities")


class County(Division):
    objects = LevelManager(Level.COUNTY)

    class Meta:
        proxy = True
        verbose_name = _("county")
        verbose_name_plural = _("counties")


class Township(Division):
    objects = LevelManager(Level.TOWNSHIP)

    class Meta:
        proxy = True
        verbose_name = _("township")
        verbose_name_plural = _("townships")


class DivisionAlias(models.Model):
    """A name a policy document uses for a division that the statistics bureau writes otherwise."""

    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    scope = models.ForeignKey(
        Division,
        verbose_name=_("where the alias applies"),
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The division the alias is looked up under (a city for a county alias, a county for a township alias)."),
    )
    alias = models.CharField(_("name as written"), max_length=64)
    division = models.ForeignKey(Division, verbose_name=_("official division"), on_delete=models.CASCADE, related_name="aliases")
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("division alias")
        verbose_name_plural = _("division aliases")
        constraints = [models.UniqueConstraint(fields=["scope", "alias"], name="unique_alias_in_scope")]

    def __str__(self):
        return f"{self.alias} → {self.division.name}"


class PilotBatch(models.Model):
    year = models.PositiveSmallIntegerField(_("year"))
    name = models.CharField(_("name"), max_length=100)
    source_document = models.CharField(_("source document"), max_length=300)
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        verbose_name = _("pilot batch")
        verbose_name_plural = _("pilot batches")
        ordering = ["year", "name"]
        constraints = [models.UniqueConstraint(fields=["year", "name"], name="unique_batch_year_name")]

    def __str__(self):
        return f"{self.year} {self.name}"


class Phase(models.TextChoices):
    FOCUS = "focus", _("Focused breakthrough (seat schools)")
    WHOLE = "whole", _("Whole-area improvement (all schools)")


class PilotStatus(models.TextChoices):
    ACTIVE = "active", _("In progress")
    ACCEPTED = "accepted", _("Accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class PilotQuerySet(models.QuerySet):
    def in_year(self, period: int):
        """The pilots of a school year: from their batch's year until the year they were
        withdrawn in (an accepted pilot stays one)."""
        return self.filter(batch__year__lte=period).filter(models.Q(withdrawn_in__isnull=True) | models.Q(withdrawn_in__gt=period))


class PilotTownship(models.Model):
    batch = models.ForeignKey(PilotBatch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="townships")
    township = models.ForeignKey(
        "Township", verbose_name=_("township"), on_delete=models.PROTECT, related_name="pilot_entries"
    )
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices, default=Phase.FOCUS)
    status = models.CharField(_("status"), max_length=10, choices=PilotStatus.choices, default=PilotStatus.ACTIVE)
    listed_as = models.CharField(_("name in the source document"), max_length=100, blank=True)
    accepted_in = models.PositiveSmallIntegerField(_("accepted in school year"), null=True, blank=True)
    # From this school year on the township no longer counts as a pilot (nor its phase).
    withdrawn_in = models.PositiveSmallIntegerField(_("withdrawn in school year"), null=True, blank=True)

    objects = PilotQuerySet.as_manager()

    class Meta:
        verbose_name = _("pilot township")
        verbose_name_plural = _("pilot townships")
        ordering = ["batch", "township"]
        constraints = [models.UniqueConstraint(fields=["batch", "township"], name="unique_pilot_per_batch")]

    def __str__(self):
        return f"{self.batch}: {self.township.name}"


class Stage(models.TextChoices):
    KINDERGARTEN = "kindergarten", _("Kindergarten")
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior middle school")
    NINE_YEAR = "nine_year", _("Nine-year school")
    COMPLETE_MIDDLE = "complete_middle", _("Complete middle school")
    TWELVE_YEAR = "twelve_year", _("Twelve-year school")


class School(models.Model):
    code = models.CharField(_("school identifier"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=100)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    township = models.ForeignKey(
        "Township",
        verbose_name=_("township-level unit"),
        on_delete=models.PROTECT,
        related_name="schools",
    )
    is_seat = models.BooleanField(_("seat school of its township"), default=False)
    is_urban = models.BooleanField(_("urban school of its county"), default=False)
    is_urban_quality = models.BooleanField(_("urban quality school"), default=False)
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["township"], name="school_township_prefix", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self):
        return f"{self.name}（{self.code}）"


class Role(models.TextChoices):
    PROVINCE_STAFF = "province", _("Provincial staff")
    CITY_STAFF = "city", _("City staff")
    COUNTY_OFFICER = "county", _("County officer")
    INSPECTOR = "inspector", _("Inspector")


# The roles of the government levels, province to county (inspectors are not one).
STAFF_ROLES = (Role.PROVINCE_STAFF, Role.CITY_STAFF, Role.COUNTY_OFFICER)

# The level a user's unit must have for each role; inspectors belong to any organising unit.
ROLE_UNIT_LEVEL = {
    Role.PROVINCE_STAFF: Level.PROVINCE,
    Role.CITY_STAFF: Level.CITY,
    Role.COUNTY_OFFICER: Level.COUNTY,
}


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, blank=True)
    unit = models.ForeignKey(
        Division, verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    # From the accounts spreadsheet: who holds the post, and how the unit reaches them.
    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=11, blank=True)
    # The password policy (security/): imported accounts change theirs at first login, and
    # everyone every PASSWORD_MAX_AGE_DAYS.
    must_change_password = models.BooleanField(_("must change password"), default=False)
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"

    # Role predicates: the one place each role rule is spelled (views, services, admin, security).
    @property
    def is_provincial(self) -> bool:
        """Provincial staff, or an administrator (who may do whatever the province may)."""
        return self.is_superuser or self.role == Role.PROVINCE_STAFF

    @property
    def is_area_staff(self) -> bool:
        """Staff of a government level (province, city or county), not an inspector."""
        return self.role in STAFF_ROLES

    @property
    def can_upload(self) -> bool:
        """May upload school data for the user's area (staff of every level, administrators)."""
        return self.is_superuser or self.role in STAFF_ROLES
