"""Inspectors' forms: list, fill (with autosave), attach evidence, submit; provincial staff return."""
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.private_files import private_path
from evaluation.api_forms import SaveSerializer
from evaluation.models import Assignment, FormEvent, FormStatus, InspectionForm, JudgmentLevel, TownshipYear, VerificationItem
from evaluation.rules import evaluate_township, judge_targets
from evaluation.selectors import assignments_for, evidence_for, forms_for, judgments_visible
from evaluation.services.forms import FormRefused, add_evidence, return_form, save_draft, submit_form
from evaluation.verification import labelled
from townships.jurisdiction import jurisdiction_for


def _form(request, pk):
    return get_object_or_404(forms_for(user=request.user, jurisdiction=jurisdiction_for(request)), pk=pk)


@login_required
def form_list(request):
    jurisdiction = jurisdiction_for(request)
    forms = forms_for(user=request.user, jurisdiction=jurisdiction)
    teams = {}
    for a in assignments_for(jurisdiction):
        teams.setdefault((a.round_id, a.township_id), []).append(a)
    rows = [(f, teams.get((f.round_id, f.township_id), [])) for f in forms[:500]]
    return render(request, "evaluation/form_list.html", {"rows": rows})


@login_required
def form_detail(request, pk):
    form = _form(request, pk)
    # A draft is the team's: others in the area see the form's state, not its judgments.
    shown = judgments_visible(request.user, form)
    judgments = list(form.judgments.select_related("point__target").prefetch_related("evidence").order_by("point__target__number", "point__order")) if shown else []
    assignment = Assignment.objects.filter(round_id=form.round_id, township_id=form.township_id, inspector=request.user).first()
    points = [p for t in form.round.framework.targets.prefetch_related("points") for p in t.points.all()]
    computed = evaluate_township(points=points, township_code=form.township_id, period=form.round.period)
    targets = list(form.round.framework.targets.prefetch_related("points"))
    verdicts = judge_targets(targets=targets, results=computed, judgments={j.point.code: j.level for j in judgments})
    # One section per target: the computed values beside the judgments the inspectors give.
    sections = []
    for target in targets:
        sections.append(
            (target, [r for r in computed if r.point.target_id == target.pk], [j for j in judgments if j.point.target_id == target.pk])
        )
    editable = assignment is not None and form.status != FormStatus.SUBMITTED
    return render(
        request,
        "evaluation/form.html",
        {
            "form": form,
            "sections": sections,
            "verdicts": {v.target_number: v for v in verdicts},
            "levels": JudgmentLevel.choices,
            "editable": editable,
            "is_lead": bool(assignment and assignment.is_lead),
            "can_return": form.status == FormStatus.SUBMITTED and request.user.is_provincial,
            "events": FormEvent.objects.filter(form=form).select_related("user"),
            "team": Assignment.objects.filter(round_id=form.round_id, township_id=form.township_id).select_related("inspector"),
            "draft_hidden": not shown,
            "township_year": TownshipYear.objects.filter(township_id=form.township_id, period=form.round.period).first(),
            # Field verification (实地核查): the figures drawn for this 乡镇, to check on site.
            "editable_verification": assignment is not None,
            "verification_items": labelled(VerificationItem.objects.filter(sample__round_id=form.round_id, township_id=form.township_id)
                                           .select_related("school", "finding").order_by("school_id", "field")),
        },
    )


def _answers(post) -> dict:
    answers = {}
    for key, value in post.items():
        for field in ("level", "comment"):
            prefix = f"{field}-"
            if key.startswith(prefix):
                answers.setdefault(key[len(prefix):], {})[field] = value
    return answers


@login_required
@require_POST
def form_save(request, pk):
    # The save reads the form itself, scoped and locked in one statement (the page's autosave).
    is_json = request.content_type == "application/json"
    if is_json:
        # The API's own input check ({version, answers: {code: {level, comment}}}): any other
        # shape of JSON is a 400 saying so, before anything is changed (and after the form is
        # found: outside the user's forms it is "not found" whatever was sent).
        try:
            data = SaveSerializer(data=json.loads(request.body or b"{}"))
            valid = data.is_valid()
        except ValueError:
            valid = False
        if not valid:
            _form(request, pk)
            return JsonResponse({"error": _("The request was malformed.")}, status=400)
    try:
        version = data.validated_data["version"] if is_json else int(request.POST.get("version", "-1"))
        answers = data.validated_data["answers"] if is_json else _answers(request.POST)
        form = save_draft(form=pk, jurisdiction=jurisdiction_for(request), user=request.user, version=version, answers=answers)
    except InspectionForm.DoesNotExist:
        raise Http404 from None
    except (FormRefused, ValueError, KeyError) as e:
        if not isinstance(e, FormRefused):
            _form(request, pk)  # a malformed version: still "not found" outside the user's forms
        message = getattr(e, "message", _("The request was malformed."))
        if is_json:
            return JsonResponse({"error": message}, status=409)
        messages.error(request, message)
        return redirect("evaluation:form", pk=pk)
    if is_json:
        return JsonResponse({"version": form.version, "saved_at": form.updated_at.isoformat()})
    if request.POST.get("then") == "submit":
        # "Submit" saves what is on the screen first, then submits exactly that version.
        return _submit(request, form, form.version)
    messages.success(request, _("Draft saved."))
    return redirect("evaluation:form", pk=pk)


def _submit(request, form, version):
    try:
        submit_form(form=form, user=request.user, version=version)
        messages.success(request, _("The form has been submitted."))
    except FormRefused as e:
        messages.error(request, e.message)
    return redirect("evaluation:form", pk=form.pk)


@login_required
@require_POST
def form_submit(request, pk):
    form = _form(request, pk)
    try:
        version = int(request.POST.get("version", "-1"))
    except ValueError:
        version = -1
    return _submit(request, form, version)


@login_required
@require_POST
def form_return(request, pk):
    form = _form(request, pk)
    try:
        return_form(form=form, user=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, _("The form has been returned to the team."))
    except FormRefused as e:
        messages.error(request, e.message)
    return redirect("evaluation:form", pk=pk)


@login_required
@require_POST
def evidence_upload(request, pk, judgment_id):
    form = _form(request, pk)
    judgment = get_object_or_404(form.judgments, pk=judgment_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file."))
        return redirect("evaluation:form", pk=pk)
    limit = getattr(settings, "EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
    try:
        if upload.size > limit:
            raise FormRefused(_("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)})
        add_evidence(judgment=judgment, user=request.user, data=upload.read(), file_name=upload.name)
        messages.success(request, _("Evidence attached."))
    except FormRefused as e:
        messages.error(request, e.message)
    return redirect(reverse("evaluation:form", args=[pk]) + f"#point-{judgment.point.code}")


@login_required
def evidence_file(request, evidence_id):
    evidence = get_object_or_404(evidence_for(jurisdiction_for(request), user=request.user), pk=evidence_id)
    path = private_path(evidence.stored_as)
    inline = evidence.content_type in ("image/jpeg", "image/png")
    response = FileResponse(path.open("rb"), content_type=evidence.content_type, as_attachment=not inline, filename=f"evidence-{evidence.pk}{path.suffix}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
