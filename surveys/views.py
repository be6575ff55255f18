"""The county's survey pages: open a window, hand out its codes, follow and count the answers.
Thin: objects through the selectors (outside the area is "not found"), changes through the
services, refusals shown without changing anything."""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import params
from evaluation.services.rollup_jobs import current_period
from surveys import selectors
from surveys.exports import codes_xlsx, qr_svg
from surveys.services import counting, windows
from surveys.services.windows import SurveyRefused, format_code
from townships.jurisdiction import jurisdiction_for


def _public_url(request, code: str = "") -> str:
    path = reverse("surveys_public:answer", kwargs={"code": code}) if code else reverse("surveys_public:start")
    base = settings.SURVEY_PUBLIC_BASE_URL
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


def _form_number(source, name: str, *, invalid):
    """A number field of the window form through the project's one reader (core.params): blank
    is None, and what it refuses (" ", "4.7e+16", "NaN", "²", 30 digits — the page fuzzer found
    the first two answering 500) is `invalid`, which the form answers with its own Chinese error
    beside what was typed, rather than the reader's 400 page."""
    try:
        return params.int_param(source, name)
    except params.BadParameter:
        return invalid


def _when(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@login_required
def window_list(request):
    jurisdiction = jurisdiction_for(request)
    if not selectors.sees_surveys(request.user):
        raise Http404
    rows = list(selectors.windows_in(user=request.user, jurisdiction=jurisdiction)[:500])
    totals = counting.window_totals(rows)
    return render(request, "surveys/list.html", {
        "rows": [(w, totals.get(w.pk, counting.SchoolCount(0))) for w in rows],
        "details": selectors.sees_details(request.user), "now": timezone.now(),
    })


@login_required
def window_new(request):
    jurisdiction = jurisdiction_for(request)
    if not selectors.sees_details(request.user):
        raise Http404
    townships = selectors.townships_for_new_window(jurisdiction)
    township = townships.filter(code=request.GET.get("township") or request.POST.get("township")).first()
    questionnaires = selectors.questionnaires_open_to_use()
    schools = list(selectors.schools_of(township.code)) if township else []
    if request.method == "POST" and township:
        targets: dict[int, int] = {}
        for s in schools:
            target = _form_number(request.POST, f"target_{s.pk}", invalid=-1)
            if target is not None:
                targets[s.pk] = target
        questionnaire_id = _form_number(request.POST, "questionnaire", invalid=None)
        questionnaire = questionnaires.filter(pk=questionnaire_id).first() if questionnaire_id is not None else None
        opens, closes = _when(request.POST.get("opens_at")), _when(request.POST.get("closes_at"))
        period = _form_number(request.POST, "period", invalid=None)
        try:
            if questionnaire is None or opens is None or closes is None or period is None:
                raise SurveyRefused(_("Choose a questionnaire, a school year and both dates."))
            window = windows.open_window(user=request.user, jurisdiction=jurisdiction, township_code=township.code, questionnaire=questionnaire,
                                         period=period, opens_at=opens, closes_at=closes, targets=targets)
        except SurveyRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Survey window opened: %(n)d codes issued.") % {"n": sum(targets.values())})
            return redirect("surveys:window", pk=window.pk)
    return render(request, "surveys/new.html", {
        "townships": townships, "township": township, "schools": schools, "questionnaires": questionnaires,
        "period": current_period(), "post": request.POST,
    })


@login_required
def window_detail(request, pk: int):
    jurisdiction = jurisdiction_for(request)
    window = selectors.window_or_404(user=request.user, jurisdiction=jurisdiction, pk=pk)
    details = selectors.sees_details(request.user)
    total = counting.window_totals([window]).get(window.pk, counting.SchoolCount(0))
    ctx = {"window": window, "total": total, "details": details, "now": timezone.now()}
    if details:
        by_school = counting.school_counts([window])
        targets = {ws.school_id: ws for ws in window.schools.select_related("school").order_by("school__code")}
        ctx.update(
            schools=[(ws, by_school.get((window.pk, sid), counting.SchoolCount(sid))) for sid, ws in targets.items()],
            items=counting.item_distribution(window), flags=list(selectors.flags_of(window)[:200]),
        )
    return render(request, "surveys/detail.html", ctx)


@login_required
def window_slips(request, pk: int):
    window = selectors.window_or_404(user=request.user, jurisdiction=jurisdiction_for(request), pk=pk, details=True)
    codes = selectors.codes_of(window).filter(spent_at__isnull=True)
    school = params.int_param(request.GET, "school")  # unreadable: the project's Chinese 400
    if school is not None:
        codes = codes.filter(school_id=school)
    slips = [{"code": c, "printed": format_code(c.code), "qr": qr_svg(_public_url(request, c.code))} for c in codes[:settings.SURVEY_MAX_CODES_PER_SCHOOL]]
    return render(request, "surveys/slips.html", {"window": window, "slips": slips, "start": _public_url(request)})


@login_required
def window_codes_xlsx(request, pk: int):
    window = selectors.window_or_404(user=request.user, jurisdiction=jurisdiction_for(request), pk=pk, details=True)
    data = codes_xlsx(window=window, codes=selectors.codes_of(window), url_of=lambda code: _public_url(request, code))
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="survey-{window.pk}-codes.xlsx"'
    return response


@login_required
@require_POST
def window_close(request, pk: int):
    jurisdiction = jurisdiction_for(request)
    window = selectors.window_or_404(user=request.user, jurisdiction=jurisdiction, pk=pk, details=True)
    try:
        windows.close_window(user=request.user, jurisdiction=jurisdiction, window=window)
    except SurveyRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The window is closed; later answers are refused."))
    return redirect("surveys:window", pk=window.pk)


@login_required
@require_POST
def window_count(request, pk: int):
    window = selectors.window_or_404(user=request.user, jurisdiction=jurisdiction_for(request), pk=pk, details=True)
    outcome = counting.count_window(window_id=window.pk)
    if outcome == "locked":
        messages.error(request, _("The township's year is locked by an approval: its figures were not changed."))
    else:
        messages.success(request, _("Counted: the township's figures are up to date."))
    return redirect("surveys:window", pk=window.pk)
