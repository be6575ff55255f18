"""First run: one command loads the province, its pilot batches and the framework and creates the
first administrator, who changes the one-time password and enrols a TOTP device at first login."""
import io
import re
import time

import pyotp
import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from evaluation.models import Framework
from security.models import AuditEvent
from townships.models import Division, PilotTownship, User

pytestmark = pytest.mark.django_db


def provision(**extra):
    out = io.StringIO()
    call_command("provision", "--province", "37", "--admin-username", "sheng_admin", "--admin-name", "赵敏", stdout=out, **extra)
    return out.getvalue()


def state():
    return (Division.objects.count(), PilotTownship.objects.count(), Framework.objects.count(),
            sorted(User.objects.values_list("username", "password", "is_superuser", "role", "unit_id")))


def test_provisioning_loads_the_province_and_creates_the_administrator_once(geography):
    Framework.objects.all().delete()
    first = provision()
    assert "一次性密码" in first
    password = re.search(r"一次性密码（仅显示这一次）：(\S+)", first).group(1)
    admin = User.objects.get(username="sheng_admin")
    assert admin.is_superuser and admin.is_staff and admin.role == "province" and admin.unit_id == "37"
    assert admin.full_name == "赵敏" and admin.must_change_password and admin.check_password(password)
    assert not TOTPDevice.objects.filter(user=admin).exists()
    assert Division.objects.filter(code__startswith="37", level="county").count() > 130
    assert PilotTownship.objects.filter(batch__year=2021, batch__name="首批").count() == 65
    assert Framework.objects.count() == 1 and Framework.objects.get().targets.count() == 7
    assert AuditEvent.objects.filter(action="administrator_provisioned", target="sheng_admin").exists()
    before = state()
    again = provision()
    assert "已存在" in again and "一次性密码" not in again
    assert state() == before  # the password included: running it again resets nobody


def test_an_unknown_province_writes_nothing(geography):
    users = User.objects.count()
    with pytest.raises(CommandError):
        call_command("provision", "--province", "99", "--admin-username", "nobody", stdout=io.StringIO())
    assert User.objects.count() == users and not Division.objects.filter(code="99").exists()


@override_settings(OTP_REQUIRED=True, PASSWORD_POLICY_ENFORCED=True)
def test_the_administrator_changes_the_password_then_enrols_a_totp_device_at_first_login(geography):
    password = re.search(r"一次性密码（仅显示这一次）：(\S+)", provision()).group(1)
    client = Client()
    assert client.post(reverse("login"), {"username": "sheng_admin", "password": password}).status_code == 302
    assert client.get(reverse("reports:dashboard")).url == reverse("password_change")
    new = "Qzzj-Admin-2026!x"
    client.post(reverse("password_change"), {"old_password": password, "new_password1": new, "new_password2": new})
    assert client.get(reverse("reports:dashboard")).url.startswith(reverse("otp_verify"))
    enrol = client.get(reverse("otp_verify"))
    page = enrol.content.decode()
    assert "<svg" in page  # the QR code, drawn on the page (nothing loads from elsewhere)
    secret = re.search(r'id="otp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = client.post(reverse("otp_verify"), {"token": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert wrong.status_code == 400 and not TOTPDevice.objects.filter(user__username="sheng_admin", confirmed=True).exists()
    time.sleep(1.2)  # django-otp throttles: no second try within a second of a wrong code
    assert client.post(reverse("otp_verify"), {"token": pyotp.TOTP(secret).now()}).status_code == 302
    assert TOTPDevice.objects.filter(user__username="sheng_admin", confirmed=True).count() == 1
    assert client.get(reverse("reports:dashboard")).status_code == 200
    # The next login asks for a code from the same device, and shows no QR code again.
    second = Client()
    second.post(reverse("login"), {"username": "sheng_admin", "password": new})
    challenge = second.get(reverse("otp_verify")).content.decode()
    assert "<svg" not in challenge and "otp-secret" not in challenge
