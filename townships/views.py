"""Accounts of the units in the user's area: upload a spreadsheet, hand out one-time passwords,
deactivate and reset. Provincial staff for the province, city staff for their city."""
import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from townships.accounts_sheets import accounts_template, issued_passwords
from townships.jurisdiction import jurisdiction_for
from townships.services.accounts import (
    account_in_area,
    accounts_in_area,
    create_accounts,
    may_manage_accounts,
    reset_password,
    set_accounts_active,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The passwords' XLSX is kept (in the shared cache) only briefly, for the one who created them.
ISSUED_TTL_SECONDS = 15 * 60


def _manager(request):
    if not may_manage_accounts(request.user):
        raise PermissionDenied
    return jurisdiction_for(request)


def _list_context(request, jurisdiction, **extra):
    accounts = accounts_in_area(jurisdiction=jurisdiction)
    unit = request.GET.get("unit", "").strip()
    if unit:
        accounts = accounts.filter(unit_id=unit)
    return {"accounts": accounts[:1000], "unit": unit, **extra}


@login_required
def accounts(request):
    jurisdiction = _manager(request)
    return render(request, "townships/accounts.html", _list_context(request, jurisdiction))


@login_required
def accounts_template_download(request):
    _manager(request)
    response = HttpResponse(accounts_template(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="accounts-template.xlsx"'
    return response


@login_required
@require_POST
def accounts_upload(request):
    jurisdiction = _manager(request)
    upload = request.FILES.get("file")
    if upload is None:
        return render(request, "townships/accounts.html", _list_context(request, jurisdiction, errors=[_("Choose a file to upload.")]), status=400)
    result = create_accounts(actor=request.user, jurisdiction=jurisdiction, data=upload.read())
    if not result.ok:
        return render(request, "townships/accounts.html", _list_context(request, jurisdiction, errors=result.errors), status=400)
    return _issued_page(request, result.issued)


def _issued_page(request, issued):
    token = secrets.token_urlsafe(24)
    cache.set(f"accounts-issued:{token}", {"user": request.user.pk, "xlsx": issued_passwords(issued)}, ISSUED_TTL_SECONDS)
    response = render(request, "townships/accounts_issued.html", {"issued": issued, "token": token})
    response["Cache-Control"] = "no-store"
    return response


@login_required
def accounts_issued_download(request, token):
    """Once, by the one who created the accounts, within the quarter hour."""
    _manager(request)
    key = f"accounts-issued:{token}"
    held = cache.get(key)
    if not held or held["user"] != request.user.pk:
        raise Http404
    cache.delete(key)
    response = HttpResponse(held["xlsx"], content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="one-time-passwords.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def account_active(request, pk):
    jurisdiction = _manager(request)
    account = account_in_area(jurisdiction=jurisdiction, user_id=pk)
    active = request.POST.get("active") == "1"
    try:
        set_accounts_active(actor=request.user, jurisdiction=jurisdiction, user_ids=[account.pk], active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, (_("%(user)s can log in again.") if active else _("%(user)s can no longer log in; the account and its history are kept.")) % {"user": account.username})
    return redirect(f"{reverse('townships:accounts')}?unit={account.unit_id or ''}")


@login_required
@require_POST
def account_reset(request, pk):
    jurisdiction = _manager(request)
    return _issued_page(request, [reset_password(actor=request.user, jurisdiction=jurisdiction, user_id=pk)])
