"""Accounts, sessions, the audit log and the CI gates a provincial security review asks for."""
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from security.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
BASE = settings.BASE_DIR
GOOD = "Qzzj-Strong-2026"


def login_post(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


@pytest.fixture
def officer(world):
    user = world.user("county_370881")
    user.set_password(GOOD)
    user.save()
    return user


@pytest.mark.parametrize("password, message", [
    ("Ab1!xyz", "太短"),              # 7 characters
    ("abcdefgh12", "至少包含"),        # two classes only
    ("password", "太常见"),
    ("12345678901", "只包含数字"),
])
def test_weak_passwords_are_refused_in_chinese(password, message):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert any(message in m for m in refused.value.messages), refused.value.messages
    validate_password("Qzzj-2026-strong")  # 3+ classes, long, not common: fine


def test_five_failures_lock_the_account_for_fifteen_minutes(officer):
    client = Client()
    for _ in range(4):
        assert login_post(client, officer.username, "wrong-Password-1").status_code == 200
    assert login_post(client, officer.username, "wrong-Password-1").status_code == 429  # the fifth locks
    locked = login_post(client, officer.username, GOOD)  # then even the right password is refused
    assert locked.status_code == 429 and "锁定" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login_failed", username=officer.username).count() >= 5
    assert AuditEvent.objects.filter(action="locked_out", username=officer.username).exists()
    # Fifteen minutes pass (the recorded failures age by that much): the account opens again.
    from axes.models import AccessAttempt
    from django.db.models import F

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=15, seconds=5))
    assert login_post(client, officer.username, GOOD).status_code == 302
    assert AuditEvent.objects.filter(action="login", user=officer).exists()


def test_login_gives_a_new_session_and_logout_ends_it(officer):
    client = Client()
    session = client.session
    session["probe"] = 1
    session.save()
    anonymous_key = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = anonymous_key
    assert login_post(client, officer.username, GOOD).status_code == 302
    key = client.session.session_key
    assert key != anonymous_key
    assert Session.objects.filter(session_key=key).exists()
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get("/dashboard/").status_code == 302  # back to the login page


def test_thirty_idle_minutes_end_the_session(officer):
    client = Client()
    login_post(client, officer.username, GOOD)
    assert client.get("/dashboard/").status_code == 200
    session = client.session
    session["last_seen"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT_S - 5
    session.save()
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/dashboard/").status_code == 302
    assert AuditEvent.objects.filter(action="session_timeout", user=officer).exists()
    assert settings.SESSION_COOKIE_AGE == 30 * 60


@override_settings(PASSWORD_POLICY_ENFORCED=True)
def test_imported_accounts_change_their_password_first_and_every_180_days(officer):
    officer.must_change_password = True
    officer.save()
    client = Client()
    login_post(client, officer.username, GOOD)
    assert client.get("/dashboard/")["Location"] == "/accounts/password_change/"
    before = type(officer).objects.get(pk=officer.pk).password
    weak = client.post("/accounts/password_change/", {"old_password": GOOD, "new_password1": "abcdefgh12", "new_password2": "abcdefgh12"})
    assert weak.status_code == 200 and "至少包含" in weak.content.decode()
    assert type(officer).objects.get(pk=officer.pk).password == before
    new = "Qzzj-Changed-2026"
    assert client.post("/accounts/password_change/", {"old_password": GOOD, "new_password1": new, "new_password2": new}).status_code == 302
    officer.refresh_from_db()
    assert not officer.must_change_password and officer.password_changed_at and officer.check_password(new)
    assert client.get("/dashboard/").status_code == 200
    assert AuditEvent.objects.filter(action="password_changed", user=officer).exists()
    type(officer).objects.filter(pk=officer.pk).update(password_changed_at=timezone.now() - timedelta(days=181))
    assert client.get("/dashboard/")["Location"] == "/accounts/password_change/"


@override_settings(OTP_REQUIRED=True)
def test_provincial_staff_need_a_second_factor(world):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    staff = world.user("province")
    staff.set_password(GOOD)
    staff.save()
    client = Client()
    login_post(client, staff.username, GOOD)
    assert client.get("/dashboard/")["Location"] == "/accounts/otp/"
    setup = client.get("/accounts/otp/")
    assert setup.status_code == 200 and "otp-secret" in setup.content.decode() and "<svg" in setup.content.decode()
    device = TOTPDevice.objects.get(user=staff)
    wrong = client.post("/accounts/otp/", {"token": "000000" if totp(device.bin_key) != 0 else "111111"})
    assert wrong.status_code == 400 and not TOTPDevice.objects.get(user=staff).confirmed
    # A failure throttles the device for a moment (django-otp); the user tries again a bit later.
    TOTPDevice.objects.filter(user=staff).update(throttling_failure_timestamp=timezone.now() - timedelta(minutes=1))
    assert client.post("/accounts/otp/", {"token": f"{totp(device.bin_key):06d}"}).status_code == 302
    assert TOTPDevice.objects.get(user=staff).confirmed
    assert client.get("/dashboard/").status_code == 200
    # City staff and county officers are not asked for it.
    city = world.user("city_3708")
    city.set_password(GOOD)
    city.save()
    other = Client()
    login_post(other, city.username, GOOD)
    assert other.get("/dashboard/").status_code == 200


PROBE = ("import django; django.setup(); from django.conf import settings as s; "
         "print(s.PASSWORD_POLICY_ENFORCED, s.OTP_REQUIRED, s.SESSION_COOKIE_AGE, s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()), s.PASSWORD_MAX_AGE_DAYS)")


def _env(module, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY")}
    env.update(DJANGO_SETTINGS_MODULE=module, **extra)
    return env


PRODUCTION = {"DJANGO_SECRET_KEY": "p" * 30 + "-Yq8#kP2!vL9@mN4$wR7%tZ1-deploy-check", "DATABASE_URL": "sqlite:////tmp/deploy-check.sqlite3", "REDIS_URL": "redis://127.0.0.1:6379/9"}


def test_production_never_skips_the_password_policy_or_the_second_factor():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=BASE, env=_env("portal.settings.production", **PRODUCTION), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "1800", "5", "900", "180"]
    demo = subprocess.run([sys.executable, "-c", PROBE], cwd=BASE, env=_env("portal.settings.local"), capture_output=True, text=True, timeout=60)
    assert demo.stdout.split()[:2] == ["False", "False"]  # the demo may skip them, and only the demo and tests


def test_deploy_checks_pass_with_production_settings():
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=BASE,
                         env=_env("portal.settings.production", **PRODUCTION), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_bandit_finds_nothing_of_high_severity():
    apps = ["portal", "townships", "evaluation", "reports", "workflow", "security"]
    out = subprocess.run([str(Path(sys.executable).parent / "bandit"), "-r", *apps, "-lll", "-q", "-f", "txt"], cwd=BASE,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


# Addresses a page may name without loading anything: XML namespaces.
ALLOWED_URL = re.compile(r"https?://(www\.w3\.org/|www\.w3c\.org/)")


def test_no_page_or_template_refers_to_an_external_url():
    roots = [BASE / app for app in ("portal", "townships", "evaluation", "reports", "workflow", "security")]
    files = [p for root in roots for p in root.rglob("*") if p.suffix in (".html", ".js", ".css", ".svg") and "vendor" not in p.parts]
    assert len(files) > 20
    found = [
        f"{p.relative_to(BASE)}: {m.group(0)}"
        for p in files for m in re.finditer(r"(?:https?:)?//[a-zA-Z0-9.-]+\.[a-z]{2,}[^\s\"'<>)]*", p.read_text(encoding="utf-8", errors="ignore"))
        if not ALLOWED_URL.match(m.group(0))
    ]
    assert found == []


def test_refusals_and_admin_edits_are_in_the_audit_log_and_it_cannot_be_edited(world, client):
    from evaluation.models import ObservationPoint
    from evaluation.services.framework import load_framework

    load_framework()
    client.force_login(world.user("county_370881"))
    assert client.get("/dashboard/township/370883101/").status_code == 404
    refusal = AuditEvent.objects.get(action="access_refused")
    assert refusal.user == world.user("county_370881") and refusal.target == "/dashboard/township/370883101/" and refusal.ip == "127.0.0.1"
    # A framework edit in the admin: who, and the threshold old → new.
    admin_user = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin_user)
    point = ObservationPoint.objects.get(code="2.4")
    page = client.get(f"/admin/evaluation/observationpoint/{point.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update(threshold="0.92", target=point.target_id)
    response = client.post(f"/admin/evaluation/observationpoint/{point.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    edit = AuditEvent.objects.get(action="admin_change")
    assert edit.user == admin_user and edit.target == f"evaluation.ObservationPoint:{point.pk}"
    assert [float(v) for v in edit.detail["threshold"]] == [0.9, 0.92]
    # Provincial staff search the log; nobody adds, changes or deletes it.
    client.force_login(world.user("province"))
    listing = client.get("/admin/security/auditevent/", {"q": "access_refused"})
    assert listing.status_code == 200 and "370883101" in listing.content.decode()
    assert client.get(f"/admin/security/auditevent/{edit.pk}/delete/").status_code == 403
    assert client.post(f"/admin/security/auditevent/{edit.pk}/change/", {"action": "x"}).status_code == 403
    assert AuditEvent.objects.get(pk=edit.pk).action == "admin_change"
    client.force_login(world.user("city_3708"))
    assert client.get("/admin/security/auditevent/").status_code in (403, 404)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger is PostgreSQL's (CI runs it there)")
def test_the_database_refuses_to_rewrite_or_drop_recent_audit_events(world):
    from django.db import DatabaseError, transaction

    from security.audit import record

    event = record(action="probe", user=world.user("province"))
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "probe"



def test_uploads_are_in_the_audit_log(world):
    from evaluation.imports.service import import_file
    from tests import import_files as f
    from townships.jurisdiction import resolve_jurisdiction

    officer = world.user("county_370881")
    run = import_file(user=officer, jurisdiction=resolve_jurisdiction(officer), data=f.school_year_xlsx(), file_name="学校.xlsx", channel="test", dry_run=False)
    event = AuditEvent.objects.get(action="upload_commit")
    assert event.user == officer and event.area == "370881" and str(run.pk) in event.target
    assert event.detail["counts"][0]["new"] == 2
