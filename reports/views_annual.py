"""The annual report of an area and school year, as a PDF download: thin, like the other views —
the filters through the jurisdiction, one builder, WeasyPrint."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.template.loader import render_to_string

from townships.jurisdiction import jurisdiction_for

from . import selectors
from .annual import annual_report
from .views import _download, _pdf, _staff


@login_required
def annual_report_pdf(request):
    """?area=<province, city or county code>&period=<school year> (and the dashboard's round,
    population and stage). Another area is "not found", as everywhere."""
    if not _staff(request):
        raise Http404
    jurisdiction = jurisdiction_for(request)
    f = selectors.parse_filters(request.GET, jurisdiction)
    if f.period is None:
        raise Http404  # no school year has results for the area yet: nothing to report on
    report = annual_report(f, jurisdiction)
    html = render_to_string("reports/pdf/annual.html", {"report": report, "filters": f}, request=request)
    return _download(_pdf(html, request), f"annual-report-{f.area.code}-{f.period}.pdf", "application/pdf")
