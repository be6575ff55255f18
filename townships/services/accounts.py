"""Accounts for every unit: created from a spreadsheet all or nothing, each with a one-time
password to hand out; deactivated (never deleted, so the audit log keeps its names).

Who may: provincial staff for the province, city staff for their city (never above it). A unit
outside the actor's area is answered like a code that exists nowhere.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext as _

from core.spreadsheets import FileRefused, read_workbook
from security.audit import record
from townships.jurisdiction import Jurisdiction, get_in_jurisdiction_or_404, is_staff_role
from townships.models import CODE_LENGTH, ROLE_UNIT_LEVEL, Division, Level, Role, User

# The sheet's columns, as the template writes them; English headers are accepted too.
COLUMNS = {
    "username": ("登录名", "login"),
    "full_name": ("姓名", "name"),
    "phone": ("手机号码", "phone"),
    "role": ("角色", "role"),
    "unit_code": ("单位代码", "unit code"),
}
MAX_ACCOUNTS = 2000
_USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,30}$")
_PHONE_RE = re.compile(r"^1\d{10}$")
# No 0/O, 1/l/I: the password is read off paper.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789"
# A one-time password is random (about 69 bits), so key stretching adds little; fewer rounds keep
# an upload of 170 accounts to a couple of seconds. The first login rehashes it with the full
# default, and the password must be changed then anyway.
ONE_TIME_ITERATIONS = 10_000


@dataclass(frozen=True)
class AccountRow:
    line: int
    username: str
    full_name: str
    phone: str
    role: str
    unit_code: str


@dataclass
class IssuedAccount:
    username: str
    full_name: str
    role_label: str
    unit_code: str
    unit_name: str
    password: str


@dataclass
class AccountsResult:
    errors: list[str] = field(default_factory=list)
    issued: list[IssuedAccount] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def may_manage_accounts(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in (Role.PROVINCE_STAFF, Role.CITY_STAFF))


def one_time_password() -> str:
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        if any(c.isdigit() for c in password) and any(c.isupper() for c in password) and any(c.islower() for c in password):
            return password


def _role_from_cell(value: str) -> str | None:
    """A role by its code or by its name in either language (officers write the Chinese name)."""
    text = value.strip()
    for role in Role:
        with translation.override("zh-hans"):
            chinese = str(role.label)
        with translation.override("en"):
            english = str(role.label)
        if text in (role.value, chinese) or text.lower() == english.lower():
            return role.value
    return None


def parse_accounts(*, data: bytes) -> tuple[list[AccountRow], list[str]]:
    """The sheet's rows, or the reasons it cannot be read (header, size)."""
    try:
        sheets = read_workbook(data)
    except FileRefused as exc:
        return [], [str(exc)]
    rows = [r for r in sheets[0].rows if any(str(c).strip() for c in r if c is not None)] if sheets else []
    if not rows:
        return [], [_("The sheet is empty: the first row must name the columns 登录名, 姓名, 手机号码, 角色, 单位代码.")]
    header = [str(c).strip().lower() if c is not None else "" for c in rows[0]]
    positions = {}
    for key, names in COLUMNS.items():
        found = [i for i, h in enumerate(header) if h in names]
        if not found:
            return [], [_("The column “%(column)s” is missing from the first row.") % {"column": names[0]}]
        positions[key] = found[0]
    if len(rows) - 1 > MAX_ACCOUNTS:
        return [], [_("At most %(n)d accounts per file.") % {"n": MAX_ACCOUNTS}]

    def cell(row, key):
        i = positions[key]
        value = row[i] if i < len(row) else ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a unit code or phone typed as a number
        return "" if value is None else str(value).strip()

    parsed = [
        AccountRow(line=n, **{key: cell(row, key) for key in COLUMNS}) for n, row in enumerate(rows[1:], start=2)
    ]
    return parsed, []


def check_accounts(*, actor, jurisdiction: Jurisdiction, rows: list[AccountRow]) -> list[str]:
    """Every reason the rows cannot be created, each with its line; empty when all can be."""
    errors: list[str] = []
    if not rows:
        return [_("The sheet has no accounts below its header.")]
    codes = {r.unit_code for r in rows if r.unit_code}
    units = {d.code: d for d in Division.objects.filter(code__in=codes)}
    names = [r.username for r in rows]
    # Logins differing only in case would confuse whoever types them: taken alike.
    taken = set(User.objects.annotate(lower=Lower("username")).filter(lower__in=[n.lower() for n in names]).values_list("lower", flat=True))
    seen: dict[str, int] = {}
    for r in rows:
        say = lambda message: errors.append(_("Line %(line)d: %(message)s") % {"line": r.line, "message": message})  # noqa: B023
        if not _USERNAME_RE.match(r.username):
            say(_("the login “%(value)s” must be 3 to 30 letters, digits, dots, dashes or underscores.") % {"value": r.username})
        elif r.username.lower() in seen:
            say(_("the login “%(value)s” appears twice in the file (also line %(other)d).") % {"value": r.username, "other": seen[r.username.lower()]})
        elif r.username.lower() in taken:
            say(_("the login “%(value)s” is already taken.") % {"value": r.username})
        seen.setdefault(r.username.lower(), r.line)
        if not r.full_name:
            say(_("the name is empty."))
        elif len(r.full_name) > 50 or r.full_name[0] in "=+-@\t\r" or any(c in r.full_name for c in "<>"):
            say(_("the name “%(value)s” is not a person's name.") % {"value": r.full_name[:60]})
        if r.phone and not _PHONE_RE.match(r.phone):
            say(_("the mobile phone “%(value)s” must be 11 digits starting with 1.") % {"value": r.phone})
        role = _role_from_cell(r.role)
        if role is None:
            say(_("the role “%(value)s” is not one of 省级工作人员, 市级工作人员, 县级管理员, 督导评估专家.") % {"value": r.role})
        unit = units.get(r.unit_code)
        # Outside the actor's area is answered like a code that exists nowhere.
        if unit is None or not jurisdiction.covers(unit.code):
            say(_("no unit in your area has the code “%(value)s”.") % {"value": r.unit_code})
            continue
        if role is None:
            continue
        level = ROLE_UNIT_LEVEL.get(role)
        if level and len(unit.code) != CODE_LENGTH[level]:
            say(_("a %(role)s account must belong to a %(level)s, and %(unit)s is not one.") % {"role": Role(role).label, "level": level.label, "unit": unit.name})
        elif unit.level == Level.TOWNSHIP:
            say(_("accounts belong to a province, city or county, not to a township (%(unit)s).") % {"unit": unit.name})
        elif role == Role.PROVINCE_STAFF and not (actor.is_superuser or actor.role == Role.PROVINCE_STAFF):
            say(_("only provincial staff create provincial accounts."))
    return errors


@transaction.atomic
def create_accounts(*, actor, jurisdiction: Jurisdiction, data: bytes) -> AccountsResult:
    """All or nothing: either every row becomes an account with its one-time password, or none does."""
    if not may_manage_accounts(actor):
        raise PermissionDenied
    rows, errors = parse_accounts(data=data)
    if not errors:
        errors = check_accounts(actor=actor, jurisdiction=jurisdiction, rows=rows)
    if errors:
        return AccountsResult(errors=errors)
    units = {d.code: d for d in Division.objects.filter(code__in={r.unit_code for r in rows})}
    hasher = PBKDF2PasswordHasher()
    issued, users = [], []
    for r in rows:
        role = _role_from_cell(r.role)
        password = one_time_password()
        users.append(
            User(
                username=r.username, full_name=r.full_name, phone=r.phone, role=role, unit_id=r.unit_code,
                is_staff=is_staff_role(role), must_change_password=True,
                password=hasher.encode(password, hasher.salt(), iterations=ONE_TIME_ITERATIONS),
            )
        )
        unit = units[r.unit_code]
        issued.append(IssuedAccount(r.username, r.full_name, str(Role(role).label), unit.code, unit.name, password))
    User.objects.bulk_create(users)
    record(action="accounts_created", user=actor, target=f"{len(users)} accounts",
           detail={"usernames": [u.username for u in users]})
    return AccountsResult(issued=issued)


def accounts_in_area(*, jurisdiction: Jurisdiction):
    return jurisdiction.filter(User.objects.filter(is_superuser=False), "unit").select_related("unit").order_by("unit_id", "role", "username")


def account_in_area(*, jurisdiction: Jurisdiction, user_id: int) -> User:
    """One account of the area; outside it (or an administrator) answers like a missing one."""
    return get_in_jurisdiction_or_404(User.objects.filter(is_superuser=False).select_related("unit"), jurisdiction, "unit", pk=user_id)


@transaction.atomic
def set_accounts_active(*, actor, jurisdiction: Jurisdiction, user_ids: list[int], active: bool) -> list[str]:
    """Deactivate (the person left the post) or reactivate; returns the logins that changed.
    Accounts are never deleted: the audit log, uploads and forms keep pointing at them. A
    deactivated account cannot log in, and its open sessions end (Django's backend refuses an
    inactive user on every request). Ids outside the area are ignored like missing ones."""
    if not may_manage_accounts(actor):
        raise PermissionDenied
    if not active and actor.pk in user_ids:
        raise ValidationError(_("You cannot deactivate your own account."))
    changing = list(accounts_in_area(jurisdiction=jurisdiction).filter(pk__in=user_ids).exclude(is_active=active).values_list("pk", "username"))
    if changing:
        User.objects.filter(pk__in=[pk for pk, _name in changing]).update(is_active=active)
        record(action="account_activated" if active else "account_deactivated", user=actor,
               target=", ".join(name for _pk, name in changing)[:200], detail={"usernames": [name for _pk, name in changing]})
    return [name for _pk, name in changing]


@transaction.atomic
def reset_password(*, actor, jurisdiction: Jurisdiction, user_id: int) -> IssuedAccount:
    """A new one-time password for an account in the area (forgotten password, new holder)."""
    if not may_manage_accounts(actor):
        raise PermissionDenied
    account = account_in_area(jurisdiction=jurisdiction, user_id=user_id)
    password = one_time_password()
    hasher = PBKDF2PasswordHasher()
    account.password = hasher.encode(password, hasher.salt(), iterations=ONE_TIME_ITERATIONS)
    account.must_change_password = True
    account.save(update_fields=["password", "must_change_password"])
    record(action="account_password_reset", user=actor, target=account.username, area=account.unit_id or "")
    unit = account.unit
    return IssuedAccount(account.username, account.full_name, account.get_role_display(), unit.code if unit else "", unit.name if unit else "", password)


@transaction.atomic
def ensure_first_administrator(*, username: str, province_code: str, full_name: str = "", phone: str = "") -> tuple[User, str | None]:
    """The installation's first administrator: provincial staff of the province with the
    administrator's rights, a one-time password changed at first login and — because provincial
    staff need a second factor — a TOTP device enrolled at first login (its QR code is on the
    page). Returns the password only when the account was created; an existing one is left as it
    is (running provisioning again never resets anyone's password)."""
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing, None
    unit = Division.objects.get(code=province_code, level=Level.PROVINCE)
    password = one_time_password()
    user = User(username=username, full_name=full_name, phone=phone, role=Role.PROVINCE_STAFF, unit=unit,
                is_staff=True, is_superuser=True, must_change_password=True)
    user.set_password(password)
    user.save()
    record(action="administrator_provisioned", user=user, target=username, area=province_code)
    return user, password
