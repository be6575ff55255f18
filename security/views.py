"""Password change under the policy, and the TOTP second factor (set up once, then at login)."""
from __future__ import annotations

import io

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import record


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        user.must_change_password = False
        user.password_changed_at = timezone.now()
        user.save(update_fields=["must_change_password", "password_changed_at"])
        record(action="password_changed", request=self.request, user=user)
        return response


def _qr_svg(uri: str) -> str:
    import qrcode
    import qrcode.image.svg

    out = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(out)
    return out.getvalue().decode()


@login_required
def otp_verify(request):
    """Enter the code from the authenticator app; a user without a confirmed device sets one up."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    setup = device is None
    if setup:
        device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first() or TOTPDevice.objects.create(
            user=request.user, name=_("authenticator app"), confirmed=False
        )
    error = None
    if request.method == "POST":
        token = request.POST.get("token", "").strip().replace(" ", "")
        if token.isdigit() and device.verify_token(token):
            if setup:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                record(action="otp_enrolled", request=request)
            otp_login(request, device)
            record(action="otp_verified", request=request)
            target = request.GET.get("next") or "/"
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = "/"
            return redirect(target)
        record(action="otp_failed", request=request)
        error = _("The code is not right. Enter the 6 digits your authenticator app shows now.")
    ctx = {"setup": setup, "error": error}
    if setup:
        ctx.update(secret=_base32(device.bin_key), qr=_qr_svg(device.config_url))
    return render(request, "security/otp.html", ctx, status=400 if error else 200)


def _base32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode().rstrip("=")

