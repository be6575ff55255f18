"""Pages of the workflow. Thin: objects come through the area selectors (outside the area is
"not found"), every change through one service, and a refusal is shown without changing anything."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import params
from core.private_files import private_path
from evaluation.models import JudgmentLevel, Round
from townships.jurisdiction import jurisdiction_for
from townships.models import PROGRAMME_KINDS, Division, Level, PilotTownship, Role

from . import selectors
from .models import (
    AssessmentStatus,
    CaseDocument,
    CaseStatus,
    CaseTheme,
    Funding,
    FundingPurpose,
    ItemStatus,
    PlanDocument,
    PlanLevel,
    RectificationEvidence,
)
from .services import cases, plans, rectification, review
from .services.common import NotInArea, WorkflowRefused
from .services.notifications import mark_read


def _refused(request, exc: WorkflowRefused, to: str):
    if isinstance(exc, NotInArea):
        raise Http404
    messages.error(request, exc.message)
    return redirect(to)


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


def _files(request, name="files") -> list[tuple[str, bytes]]:
    limit = getattr(settings, "EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
    # One byte past the limit is enough for the service to refuse the file by its size.
    return [(f.name, f.read(limit + 1)) for f in request.FILES.getlist(name)]


@login_required
def home(request):
    jurisdiction = jurisdiction_for(request)
    notes = list(request.user.notifications.all()[:50])
    ctx = {"notes": notes, "unread": sum(1 for n in notes if n.read_at is None)}
    if not jurisdiction.is_empty:
        ctx["assessments"] = selectors.assessments_in(jurisdiction).exclude(status=AssessmentStatus.PROVINCE_APPROVED).count()
        ctx["items_open"] = selectors.items_in(jurisdiction).exclude(status=ItemStatus.CLOSED).count()
    return render(request, "workflow/home.html", ctx)


@login_required
@require_POST
def notifications_read(request):
    mark_read(user=request.user)
    return redirect("workflow:home")


# --- Plans -----------------------------------------------------------------------------------


@login_required
def plan_overview(request):
    jurisdiction = jurisdiction_for(request)
    if jurisdiction.is_empty or request.user.role == Role.INSPECTOR:
        raise Http404
    year = params.year_param(request.GET, default=timezone.localdate().year)
    if request.method == "POST":
        try:
            for level in PlanLevel.values:
                due = _date(request.POST.get(f"due_{level}"))
                if due:
                    plans.set_deadline(user=request.user, year=year, level=level, due_on=due)
        except WorkflowRefused as exc:
            return _refused(request, exc, f"{request.path}?year={year}")
        messages.success(request, _("Deadlines saved."))
        return redirect(f"{request.path}?year={year}")
    rows = selectors.plan_status(year=year, jurisdiction=jurisdiction)
    deadlines = dict(selectors.PlanDeadline.objects.filter(year=year).values_list("level", "due_on"))
    own = selectors.plans_in(jurisdiction).filter(unit_id=request.user.unit_id, year=year).first()
    return render(request, "workflow/plans.html", {
        "rows": rows, "year": year, "deadlines": deadlines, "levels": PlanLevel.choices, "own": own,
        "can_set": request.user.is_provincial,
        "late": sum(1 for r in rows if r["state"] == "late"), "filed": sum(1 for r in rows if r["state"] == "filed"),
    })


@login_required
def plan_edit(request):
    """The user's own unit's plan for a year: title, measures, documents, filing."""
    if request.user.role == Role.INSPECTOR or not request.user.unit_id:
        raise Http404
    year = params.year_param(request.GET, default=None) or params.year_param(request.POST, default=timezone.localdate().year)
    plan = selectors.plans_in(jurisdiction_for(request)).filter(unit_id=request.user.unit_id, year=year).first()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "save":
                plan = plans.save_plan(user=request.user, year=year, title=request.POST.get("title", ""), summary=request.POST.get("summary", ""))
            elif plan is None:
                raise WorkflowRefused(_("Save the plan's title first."))
            elif action == "measure":
                try:
                    budget = Decimal(request.POST.get("budget") or "0")
                except InvalidOperation:
                    raise WorkflowRefused(_("The budget must be a non-negative amount.")) from None
                due = _date(request.POST.get("due_on"))
                if due is None:
                    raise WorkflowRefused(_("Give the date the measure is due."))
                plans.add_measure(user=request.user, plan=plan, what=request.POST.get("what", ""), owner=request.POST.get("owner", ""),
                                  budget=budget, due_on=due, township_code=request.POST.get("township") or None)
            elif action == "document":
                files = _files(request)
                if not files:
                    raise WorkflowRefused(_("Choose a file."))
                for name, data in files:
                    plans.add_plan_document(user=request.user, plan=plan, data=data, file_name=name)
            elif action == "file":
                plans.file_plan(user=request.user, plan=plan)
                messages.success(request, _("The plan has been filed."))
        except WorkflowRefused as exc:
            return _refused(request, exc, f"{request.path}?year={year}")
        return redirect(f"{request.path}?year={year}")
    towns = Division.objects.filter(parent_id=request.user.unit_id, level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS).order_by("code")
    return render(request, "workflow/plan_edit.html", {
        "plan": plan, "year": year, "towns": list(towns.values_list("code", "name")),
        "measures": plan.measures.select_related("township").order_by("township_id", "id") if plan else [],
        "documents": plan.documents.all() if plan else [],
    })


@login_required
def plan_detail(request, pk):
    plan = get_object_or_404(selectors.plans_in(jurisdiction_for(request)), pk=pk)
    return render(request, "workflow/plan_detail.html", {
        "plan": plan, "measures": plan.measures.select_related("township").order_by("township_id", "id"), "documents": plan.documents.all(),
    })


# --- Self-assessment -------------------------------------------------------------------------


@login_required
def assessment_list(request):
    jurisdiction = jurisdiction_for(request)
    if jurisdiction.is_empty or request.user.role == Role.INSPECTOR:
        raise Http404
    if request.method == "POST":
        rnd = get_object_or_404(Round, pk=params.id_param(request.POST, "round") or 0)
        try:
            a = review.open_assessment(user=request.user, round=rnd, township_code=request.POST.get("township", ""))
        except WorkflowRefused as exc:
            return _refused(request, exc, request.path)
        return redirect("workflow:assessment", pk=a.pk)
    rows = selectors.assessments_in(jurisdiction).order_by("-round__period", "township_id")
    status = params.choice_param(request.GET, "status", AssessmentStatus.values)
    if status:
        rows = rows.filter(status=status)
    towns = jurisdiction.filter(Division.objects.filter(level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS), "code").order_by("code")
    return render(request, "workflow/assessments.html", {
        "rows": rows[:500], "statuses": AssessmentStatus.choices, "status": status,
        "rounds": Round.objects.order_by("-period", "-id")[:20] if request.user.role == Role.COUNTY_OFFICER else [],
        "towns": list(towns.values_list("code", "name")[:300]) if request.user.role == Role.COUNTY_OFFICER else [],
    })


@login_required
def assessment_detail(request, pk):
    a = get_object_or_404(selectors.assessments_in(jurisdiction_for(request)), pk=pk)
    if request.method == "POST":
        action, user = request.POST.get("action"), request.user
        try:
            if action == "save":
                answers = {code: {"level": request.POST.get(f"level_{code}", ""), "comment": request.POST.get(f"comment_{code}", "")}
                           for code in a.items.values_list("point__code", flat=True)}
                version = params.int_param(request.POST, "version", default=-1, min_value=-1)
                review.save_self_assessment(user=user, assessment=a, version=version, answers=answers)
                messages.success(request, _("Saved."))
            elif action == "submit":
                review.submit_self_assessment(user=user, assessment=a)
            elif action in ("approve", "return"):
                review.review_self_assessment(user=user, assessment=a, approve=action == "approve", reason=request.POST.get("reason", ""),
                                              points=request.POST.getlist("points"))
            elif action == "reopen":
                review.reopen_self_assessment(user=user, assessment=a, reason=request.POST.get("reason", ""))
        except WorkflowRefused as exc:
            return _refused(request, exc, request.path)
        return redirect(request.path)
    items = list(a.items.select_related("point__target").order_by("point__target__number", "point__id"))
    earlier = selectors.items_in(jurisdiction_for(request)).filter(township_id=a.township_id).exclude(round=a.round).order_by("-round__period", "point_id")
    return render(request, "workflow/assessment.html", {
        "a": a, "items": items, "levels": JudgmentLevel.choices, "steps": a.steps.select_related("user"), "gaps": review.gaps(a),
        "editable": request.user.role == Role.COUNTY_OFFICER and a.status in review.EDITABLE,
        "can_review": (request.user.role == Role.CITY_STAFF and a.status == AssessmentStatus.SUBMITTED)
        or (request.user.is_provincial and a.status == AssessmentStatus.CITY_APPROVED),
        "can_reopen": request.user.is_provincial
        and a.status in (AssessmentStatus.CITY_APPROVED, AssessmentStatus.PROVINCE_APPROVED),
        "earlier": earlier,
    })


# --- Rectification ---------------------------------------------------------------------------


@login_required
def item_list(request):
    jurisdiction = jurisdiction_for(request)
    today = timezone.localdate()
    items = selectors.items_in(jurisdiction).order_by("due_on", "township_id", "point_id")
    status = params.choice_param(request.GET, "status", [*ItemStatus.values, "overdue"]) or ""
    township = params.code_param(request.GET, "township", lengths=(9,))
    if township:
        items = items.filter(township_id=township)
    if status == "overdue":
        items = items.exclude(status=ItemStatus.CLOSED).filter(due_on__lt=today)
    elif status:
        items = items.filter(status=status)
    width = 6 if request.user.role in (Role.CITY_STAFF, Role.COUNTY_OFFICER) else 4
    return render(request, "workflow/items.html", {
        "items": items[:500], "counts": selectors.rectification_counts(jurisdiction, width=width, today=today) if request.user.role != Role.INSPECTOR else [],
        "status": status, "statuses": ItemStatus.choices, "today": today, "width": width,
    })


@login_required
def item_detail(request, pk):
    item = get_object_or_404(selectors.items_in(jurisdiction_for(request)), pk=pk)
    if request.method == "POST":
        action, user = request.POST.get("action"), request.user
        try:
            if action == "evidence":
                files = _files(request)
                if not files:
                    raise WorkflowRefused(_("Choose a file."))
                for name, data in files:
                    rectification.add_item_evidence(user=user, item=item, data=data, file_name=name)
            elif action == "answer":
                rectification.answer_item(user=user, item=item, measures=request.POST.get("measures", ""))
            elif action in ("close", "send_back"):
                rectification.check_item(user=user, item=item, close=action == "close", note=request.POST.get("note", ""))
            elif action == "assign":
                due = request.POST.get("due_on") or None
                if due is not None and _date(due) is None:
                    raise WorkflowRefused(_("Give the deadline as a date."))
                rectification.assign_owner(user=user, item=item, owner_id=params.int_param(request.POST, "owner", default=0, min_value=0) or None,
                                           due_on=_date(due), note=request.POST.get("note", ""))
            elif action == "recheck_close":
                rectification.close_on_recheck(user=user, item=item, note=request.POST.get("note", ""))
        except WorkflowRefused as exc:
            return _refused(request, exc, request.path)
        return redirect(request.path)
    may_check = rectification._may_check(request.user, item)
    can_assign = item.status != ItemStatus.CLOSED and rectification._may_assign(request.user, item)
    return render(request, "workflow/item.html", {
        "item": item, "steps": item.steps.select_related("user"), "evidence": item.evidence.all(), "today": timezone.localdate(),
        "county": request.user.role == Role.COUNTY_OFFICER and item.status in (ItemStatus.OPEN, ItemStatus.RETURNED),
        "checker": item.status == ItemStatus.ANSWERED and may_check,
        "recheck_closable": item.status != ItemStatus.CLOSED and item.recheck_verdict == "attained" and may_check,
        "officers": selectors.county_officers(item.township_id[:6]) if can_assign else [],
    })


# --- Good practice ---------------------------------------------------------------------------


@login_required
def case_list(request):
    jurisdiction = jurisdiction_for(request)
    if request.method == "POST":
        try:
            case = cases.submit_case(user=request.user, title=request.POST.get("title", ""), theme=request.POST.get("theme", ""),
                                     summary=request.POST.get("summary", ""), school_code=request.POST.get("school", "").strip(), files=_files(request))
        except WorkflowRefused as exc:
            return _refused(request, exc, request.path)
        messages.success(request, _("The case has been submitted for selection."))
        return redirect("workflow:case", pk=case.pk)
    published = selectors.published_cases()
    theme = params.choice_param(request.GET, "theme", CaseTheme.values)
    region = params.code_param(request.GET, "region", lengths=(2, 4, 6))
    if theme:
        published = published.filter(theme=theme)
    if region:
        # A prefix on a foreign key is matched on the related code (unit_id__startswith is no lookup).
        published = published.filter(unit__code__startswith=region)
    province = request.user.is_provincial
    pending = selectors.cases_in(jurisdiction).filter(status=CaseStatus.SUBMITTED) if not jurisdiction.is_empty else []
    return render(request, "workflow/cases.html", {
        "published": published[:200], "pending": pending, "themes": CaseTheme.choices, "theme": theme, "region": region, "province": province,
        "cities": Division.objects.filter(level=Level.CITY, code__startswith=settings.PROVINCE_CODE).order_by("code"),
        "can_submit": request.user.role in (Role.CITY_STAFF, Role.COUNTY_OFFICER, Role.PROVINCE_STAFF),
    })


@login_required
def case_detail(request, pk):
    jurisdiction = jurisdiction_for(request)
    visible = selectors.published_cases() | selectors.cases_in(jurisdiction)
    case = get_object_or_404(visible.distinct(), pk=pk)
    if request.method == "POST":
        try:
            cases.review_case(user=request.user, case=case, publish=request.POST.get("action") == "publish", note=request.POST.get("note", ""))
        except WorkflowRefused as exc:
            return _refused(request, exc, request.path)
        return redirect(request.path)
    return render(request, "workflow/case.html", {
        "case": case, "documents": case.documents.all(),
        "can_review": request.user.is_provincial and case.status == CaseStatus.SUBMITTED,
    })


# --- Funding ---------------------------------------------------------------------------------


@login_required
def funding(request):
    jurisdiction = jurisdiction_for(request)
    if jurisdiction.is_empty or request.user.role == Role.INSPECTOR:
        raise Http404
    year = params.year_param(request.GET, default=None) or params.year_param(request.POST, default=timezone.localdate().year)
    status = 200
    if request.method == "POST":
        try:
            plans.save_funding(user=request.user, township_code=request.POST.get("township", ""), year=year, purpose=request.POST.get("purpose", ""),
                               amounts={k: request.POST.get(k) for k in plans.FUNDING_AMOUNTS})
        except NotInArea:
            raise Http404 from None
        except WorkflowRefused as exc:
            # The form's error on the page itself (400), nothing stored.
            messages.error(request, exc.message)
            status = 400
        else:
            messages.success(request, _("Saved."))
            return redirect(f"{request.path}?year={year}")
    rows = jurisdiction.filter(Funding.objects.filter(year=year).select_related("township__parent"), "township").order_by("township_id", "purpose")
    pilots = jurisdiction.filter(PilotTownship.objects.select_related("township__parent", "batch"), "township").order_by("township_id")
    return render(request, "workflow/funding.html", {
        "rows": rows, "year": year, "pilots": pilots, "purposes": FundingPurpose.choices, "county": request.user.role == Role.COUNTY_OFFICER,
        "posted": request.POST if status == 400 else {},  # the refused entry stays in the form to correct
    }, status=status)


# --- Private files ---------------------------------------------------------------------------

FILE_KINDS = {
    "plan": (PlanDocument, "plan__unit"),
    "rectification": (RectificationEvidence, "item__township"),
    "case": (CaseDocument, "case__unit"),
}


@login_required
def stored_file(request, kind, pk):
    """Documents are served only inside the area (published cases: to everyone), never inline as
    HTML, under a neutral name."""
    if kind not in FILE_KINDS:
        raise Http404
    model, scope = FILE_KINDS[kind]
    qs = jurisdiction_for(request).filter(model.objects.all(), scope)
    if kind == "case":
        qs = qs | model.objects.filter(case__status=CaseStatus.PUBLISHED)
    doc = get_object_or_404(qs.distinct(), pk=pk)
    path = private_path(doc.stored_as)
    inline = doc.content_type in ("image/jpeg", "image/png")
    response = FileResponse(path.open("rb"), content_type=doc.content_type, as_attachment=not inline, filename=f"{kind}-{doc.pk}{path.suffix}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
