"""Pages of 通报, 约谈 and 问责: lists and counts, a page for each record, a county's record. Thin:
objects through the area selectors (outside the area is "not found"), changes through the
accountability services, a refusal shown with nothing written."""
from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from core import params
from core.private_files import private_path
from townships.jurisdiction import jurisdiction_for
from townships.models import Division, Level, Role

from . import selectors
from .services import accountability
from .services.common import NotInArea, WorkflowRefused


def _list(value: str) -> list[str]:
    return [v for v in re.split(r"[\s,，、;；]+", value or "") if v]


def _commitments(text: str) -> list[dict]:
    """One commitment a line: township code | what | deadline (YYYY-MM-DD)."""
    rows = []
    for line in (text or "").splitlines():
        if line.strip():
            parts = [p.strip() for p in re.split(r"[|｜]", line)]
            parts += [""] * (3 - len(parts))
            rows.append({"township": parts[0], "what": parts[1], "due_on": parts[2]})
    return rows


def _staff(request):
    jurisdiction = jurisdiction_for(request)
    if jurisdiction.is_empty or request.user.role == Role.INSPECTOR:
        raise Http404
    return jurisdiction


@login_required
def overview(request):
    jurisdiction = _staff(request)
    user = request.user
    year = params.year_param(request.GET, default=timezone.localdate().year)
    if request.method == "POST":
        action, p = request.POST.get("action"), request.POST
        try:
            if action == "notice":
                obj = accountability.issue_notice(user=user, title=p.get("title", ""), body=p.get("body", ""), county_codes=_list(p.get("counties", "")),
                                                  item_ids=_list(p.get("items", "")), issued_on=p.get("issued_on") or None)
                to = "workflow:notice"
            elif action == "talk":
                obj = accountability.record_talk(user=user, county_code=p.get("county", "").strip(), held_on=p.get("held_on", ""), talked_to=p.get("talked_to", ""),
                                                 minutes=p.get("minutes", ""), notice_id=p.get("notice") or None, item_ids=_list(p.get("items", "")),
                                                 commitments=_commitments(p.get("commitments", "")))
                to = "workflow:talk"
            elif action == "decision":
                obj = accountability.decide_accountability(user=user, county_code=p.get("county", "").strip(), decided_on=p.get("decided_on", ""),
                                                           decision=p.get("decision", ""), basis=p.get("basis", ""), notice_ids=_list(p.get("notices", "")),
                                                           talk_ids=_list(p.get("talks", "")), item_ids=_list(p.get("items", "")))
                to = "workflow:decision"
            else:
                raise WorkflowRefused(_("Choose what to record."))
        except NotInArea:
            raise Http404 from None
        except WorkflowRefused as exc:
            messages.error(request, exc.message)
            return render(request, "workflow/accountability.html", _context(request, jurisdiction, year, posted=request.POST), status=400)
        messages.success(request, _("Recorded."))
        return redirect(to, pk=obj.pk)
    return render(request, "workflow/accountability.html", _context(request, jurisdiction, year))


def _context(request, jurisdiction, year, posted=None) -> dict:
    user = request.user
    notices = list(selectors.notices_in(jurisdiction).filter(year=year)[:200])
    talks = list(selectors.talks_in(jurisdiction).filter(held_on__year=year)[:200])
    decisions = list(selectors.decisions_in(jurisdiction).filter(decided_on__year=year)[:200])
    counties = list(jurisdiction.filter(Division.objects.filter(level=Level.COUNTY).select_related("parent"), "code").order_by("code")[:300])
    # The record links: the counties with something on record this year, and one's own county.
    on_record = {n.county_id for notice in notices for n in notice.named.all() if jurisdiction.covers(n.county_id)}
    on_record |= {t.county_id for t in talks} | {d.county_id for d in decisions} | {user.unit_id or ""}
    return {
        "year": year, "counts": selectors.accountability_counts(jurisdiction, year=year),
        "notices": notices, "talks": talks, "decisions": decisions, "counties": counties,
        "records": [c for c in counties if c.code in on_record],
        "province": user.is_provincial, "may_talk": user.is_provincial or user.role == Role.CITY_STAFF, "posted": posted or {},
        # Apart: `posted.items` in a template would call the mapping's items().
        "posted_items": (posted or {}).get("items", ""),
    }


@login_required
def notice_detail(request, pk):
    notice = get_object_or_404(selectors.notices_in(_staff(request)), pk=pk)
    items = selectors.items_in(jurisdiction_for(request)).filter(notices=notice).order_by("township_id", "id")
    return render(request, "workflow/notice.html", {"notice": notice, "items": items, "counties": [n.county for n in notice.named.all()]})


@login_required
def notice_pdf(request, pk):
    notice = get_object_or_404(selectors.notices_in(_staff(request)), pk=pk)
    response = FileResponse(private_path(notice.pdf_stored_as).open("rb"), content_type="application/pdf", as_attachment=True, filename=f"notice-{notice.pk}.pdf")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def talk_detail(request, pk):
    jurisdiction = _staff(request)
    talk = get_object_or_404(selectors.talks_in(jurisdiction), pk=pk)
    return render(request, "workflow/talk.html", {
        "talk": talk, "items": talk.items.select_related("township").order_by("id"),
        "commitments": talk.commitments.select_related("township", "owner").order_by("id"),
    })


@login_required
def decision_detail(request, pk):
    jurisdiction = _staff(request)
    decision = get_object_or_404(selectors.decisions_in(jurisdiction), pk=pk)
    return render(request, "workflow/decision.html", {
        "decision": decision, "notices": decision.notices.all(), "talks": decision.talks.all(), "items": decision.items.select_related("township").order_by("id"),
    })


@login_required
def county_record(request, code):
    jurisdiction = _staff(request)
    if not jurisdiction.covers(code):
        raise Http404
    county = get_object_or_404(Division.objects.select_related("parent"), code=code, level=Level.COUNTY)
    return render(request, "workflow/county_record.html", {"county": county, **selectors.county_record(jurisdiction, code)})


# --- Pilot acceptance (验收) --------------------------------------------------------------------


@login_required
def pilot_acceptance(request):
    """For provincial staff: the pilots with their state and counts, the decisions taken, the form."""
    from evaluation.models import Round
    from townships.models import PilotStatus, PilotTownship

    from .models import AcceptanceOutcome, PilotAcceptance
    from .services.acceptance import record_acceptance

    if not request.user.is_provincial:
        raise Http404
    status = 200
    if request.method == "POST":
        p = request.POST
        try:
            record_acceptance(user=request.user, pilot_id=p.get("pilot"), outcome=p.get("outcome", ""), round_id=p.get("round"),
                              note=p.get("note", ""), extended_until=p.get("extended_until"))
        except NotInArea:
            raise Http404 from None
        except WorkflowRefused as exc:
            messages.error(request, exc.message)
            status = 400
        else:
            messages.success(request, _("Recorded."))
            return redirect("workflow:pilot_acceptance")
    jurisdiction = jurisdiction_for(request)
    pilots = jurisdiction.filter(PilotTownship.objects.select_related("batch", "township__parent"), "township").order_by("batch__year", "township_id")
    counts = {s: 0 for s in PilotStatus.values}
    for s in pilots.values_list("status", flat=True):
        counts[s] += 1
    return render(request, "workflow/pilot_acceptance.html", {
        "pilots": pilots[:500], "counts": [(label, counts[value]) for value, label in PilotStatus.choices],
        "decisions": jurisdiction.filter(PilotAcceptance.objects.select_related("township__parent", "round", "decided_by"), "township")[:200],
        "outcomes": AcceptanceOutcome.choices, "rounds": Round.objects.order_by("-period", "-id")[:50], "posted": request.POST if status == 400 else {},
    }, status=status)
