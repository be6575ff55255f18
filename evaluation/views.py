"""Pages for keeping school data current: upload with preview and confirm, template, export,
history, township entry form, and the list of confirmed implausible changes."""
import csv
import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import params
from core.queueing import enqueue
from evaluation.forms import PeriodForm, TownshipYearForm, UploadForm, period_choices
from evaluation.imports import columns as c
from evaluation.imports.service import ImportRefused, commit_import, import_file, preview_import, store_upload, stored_bytes
from evaluation.imports.workbook import build_csv, build_workbook
from evaluation.models import ImportStatus
from evaluation.selectors import confirmed_flags_for, import_runs_for
from evaluation.tasks import commit_import_task, preview_import_task
from townships.jurisdiction import jurisdiction_for
from townships.models import PROGRAMME_KINDS, Division, Level, Role

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _uploader(request):
    if not request.user.can_upload:
        raise PermissionDenied
    return jurisdiction_for(request)


def _run(request, pk):
    """A history row the user may see, else 404 (missing and forbidden look the same)."""
    return get_object_or_404(import_runs_for(user=request.user, jurisdiction=jurisdiction_for(request)), pk=pk)


@login_required
def data_home(request):
    jurisdiction = _uploader(request)
    runs = import_runs_for(user=request.user, jurisdiction=jurisdiction)[:30]
    return render(request, "evaluation/data_home.html", {"form": UploadForm(), "period_form": PeriodForm(), "runs": runs})


@login_required
@require_POST
def upload(request):
    jurisdiction = _uploader(request)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        runs = import_runs_for(user=request.user, jurisdiction=jurisdiction)[:30]
        return render(request, "evaluation/data_home.html", {"form": form, "period_form": PeriodForm(), "runs": runs}, status=400)
    f = form.cleaned_data["file"]
    run = store_upload(user=request.user, jurisdiction=jurisdiction, data=f.read(), file_name=f.name, channel="page")
    if run.size > settings.IMPORT_ASYNC_BYTES:
        # Large files are checked by a worker; the page shows progress meanwhile.
        transaction.on_commit(lambda: _queue_or_say_delayed(request, preview_import_task, run.pk))
    else:
        preview_import(run=run, jurisdiction=jurisdiction)
    return redirect("evaluation:run", pk=run.pk)


def _queue_or_say_delayed(request, task, *args) -> None:
    if not enqueue(task, *args):
        messages.warning(request, _("The background processing service is unavailable right now. The file is saved; it will be processed automatically as soon as the service is back."))


@login_required
def run_detail(request, pk):
    run = _run(request, pk)
    flags = run.flags
    return render(
        request,
        "evaluation/run.html",
        {
            "run": run,
            "flags": flags,
            "can_commit": run.status == ImportStatus.PREVIEWED and run.uploaded_by_id == request.user.pk,
            "changes": (run.changes or {}).get("changed", [])[:500],
            "added": (run.changes or {}).get("added", [])[:500],
            "nothing_changes": bool(run.summary.get("sheets")) and not run.errors
            and not any(s["new"] or s["changed"] for s in run.summary["sheets"]),
            "pending": run.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
        },
    )


@login_required
def run_status(request, pk):
    run = _run(request, pk)
    return JsonResponse({"status": run.status, "progress": run.progress, "message": run.message})


@login_required
@require_POST
def run_commit(request, pk):
    run = _run(request, pk)
    jurisdiction = _uploader(request)
    confirmations = {f["id"]: request.POST.get(f"reason-{f['id']}", "") for f in run.flags}
    if run.size > settings.IMPORT_ASYNC_BYTES:
        run.status, run.progress = ImportStatus.RUNNING, 0
        run.save(update_fields=["status", "progress"])
        transaction.on_commit(lambda: _queue_or_say_delayed(request, commit_import_task, run.pk, request.user.pk, confirmations))
        return redirect("evaluation:run", pk=run.pk)
    try:
        commit_import(run=run, user=request.user, jurisdiction=jurisdiction, confirmations=confirmations)
        messages.success(request, _("The data has been saved."))
    except ImportRefused as e:
        messages.error(request, e.message)
    return redirect("evaluation:run", pk=run.pk)


@login_required
def run_file(request, pk):
    run = _run(request, pk)
    response = HttpResponse(stored_bytes(run), content_type="application/octet-stream")
    # Always an attachment with a sanitised name: never rendered inline.
    response["Content-Disposition"] = f"attachment; filename=upload-{run.pk}-{run.sha256[:8]}.bin"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def template_download(request):
    jurisdiction = _uploader(request)
    period = _period(request)
    # Optionally with the school year's stored values, so a correction starts from what is held.
    data = build_workbook(jurisdiction=jurisdiction, period=period, with_values=request.GET.get("prefill") == "1")
    return _download(data, XLSX, f"school-data-template-{period}.xlsx")


@login_required
def export(request, fmt):
    jurisdiction = _uploader(request)
    period = _period(request)
    if fmt == "xlsx":
        return _download(build_workbook(jurisdiction=jurisdiction, period=period, with_values=True), XLSX, f"school-data-{period}.xlsx")
    if fmt != "csv":
        raise Http404
    spec = c.SPEC_BY_KIND[params.choice_param(request.GET, "sheet", c.SPEC_BY_KIND) or c.SCHOOL_YEARS.kind]
    return _download(build_csv(spec=spec, jurisdiction=jurisdiction, period=period), "text/csv; charset=utf-8", f"{spec.kind}-{period}.csv")


def _period(request) -> int:
    """The school year of a template or export: one of the form's years (2024 when not given)."""
    period = params.int_param(request.GET, "period", default=2024, min_value=0)
    if period not in {year for year, _label in period_choices()}:
        raise params.BadParameter(_("The parameter “%(name)s” has a value this page cannot use.") % {"name": "period"})
    return period


def _download(data: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename={name}"
    return response


@login_required
def township_form(request):
    jurisdiction = _uploader(request)
    towns = jurisdiction.filter(Division.objects.filter(level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS), "code")
    choices = [(t.code, f"{t.name}（{t.code}）") for t in towns.order_by("code")]
    form = TownshipYearForm(request.POST or None, township_choices=choices)
    run = None
    if request.method == "POST" and form.is_valid():
        out = io.StringIO()
        csv.writer(out).writerows(form.as_rows())
        confirm = request.POST.get("confirm_reason", "").strip() or None
        run = import_file(
            user=request.user,
            jurisdiction=jurisdiction,
            data=out.getvalue().encode("utf-8"),
            file_name="form.csv",
            channel="form",
            dry_run=False,
            confirm_all=confirm,
        )
        if run.status == ImportStatus.COMMITTED:
            messages.success(request, _("The data has been saved."))
            return redirect("evaluation:township_form")
    return render(request, "evaluation/township_form.html", {"form": form, "run": run}, status=400 if run else 200)


@login_required
def confirmed_flags(request):
    if not (request.user.is_superuser or request.user.role in (Role.PROVINCE_STAFF, Role.CITY_STAFF)):
        raise PermissionDenied
    flags = confirmed_flags_for(jurisdiction_for(request))[:500]
    return render(request, "evaluation/flags.html", {"flags": flags})

