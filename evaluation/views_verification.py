"""Field verification pages: the province draws, inspectors record on their form, everyone in an
area sees its findings and the verdicts the verified values change (经核查)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import params
from core.private_files import private_path
from evaluation.models import Round, VerificationItem, VerificationSample
from evaluation.selectors import findings_for, forms_for, verification_counts, verification_items_for, verified_verdicts_for
from evaluation.services.verification import VerificationRefused, draw_sample, record_verification
from evaluation.verification import labelled
from townships.jurisdiction import jurisdiction_for
from townships.models import Division


@login_required
def verification_home(request):
    jurisdiction = jurisdiction_for(request)
    counts = verification_counts(jurisdiction)
    names = dict(Division.objects.filter(code__in={c["county"] for c in counts}).values_list("code", "name"))
    rounds = {r.pk: r for r in Round.objects.filter(pk__in={c["round"] for c in counts})}
    for c in counts:
        c["county_name"], c["round_obj"] = names.get(c["county"], c["county"]), rounds.get(c["round"])
    context = {
        "counts": counts,
        "findings": labelled(findings_for(user=request.user, jurisdiction=jurisdiction)[:500]),
        "flips": verified_verdicts_for(jurisdiction)[:500],
    }
    if request.user.is_provincial:
        context["rounds"] = Round.objects.order_by("-period", "name")[:50]
        context["samples"] = {s.round_id: s for s in VerificationSample.objects.select_related("drawn_by")}
    return render(request, "evaluation/verification.html", context)


@login_required
@require_POST
def verification_draw(request):
    if not request.user.is_provincial:
        raise Http404  # like any page outside one's area
    # Through the project's one reader: "²" passes str.isdigit but not int() (a 500 before).
    rnd = get_object_or_404(Round, pk=params.int_param(request.POST, "round"))
    try:
        per_township = int(request.POST.get("per_township", "8"))
    except ValueError:
        per_township = 0
    try:
        sample = draw_sample(round=rnd, user=request.user, seed=request.POST.get("seed", ""), per_township=per_township)
        messages.success(request, _("%(n)d figures drawn for verification.") % {"n": sample.items.count()})
    except VerificationRefused as e:
        messages.error(request, e.message)
    return redirect("evaluation:verification")


@login_required
@require_POST
def verification_record(request, pk, item_id):
    form = get_object_or_404(forms_for(user=request.user, jurisdiction=jurisdiction_for(request)), pk=pk)
    item = get_object_or_404(VerificationItem.objects.filter(sample__round_id=form.round_id, township_id=form.township_id), pk=item_id)
    upload = request.FILES.get("file")
    try:
        record_verification(item=item, user=request.user, value=request.POST.get("value", ""), file_data=upload.read() if upload else None,
                            file_name=upload.name if upload else "", note=request.POST.get("note", ""))
        messages.success(request, _("The value found on site has been recorded."))
    except VerificationRefused as e:
        messages.error(request, e.message)
    return redirect(reverse("evaluation:form", args=[pk]) + f"#verify-{item.pk}")


@login_required
def verification_evidence(request, item_id):
    item = get_object_or_404(verification_items_for(user=request.user, jurisdiction=jurisdiction_for(request)).exclude(evidence_stored_as=""), pk=item_id)
    path = private_path(item.evidence_stored_as)
    inline = item.evidence_type in ("image/jpeg", "image/png")
    response = FileResponse(path.open("rb"), content_type=item.evidence_type, as_attachment=not inline, filename=f"verification-{item.pk}{path.suffix}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
