"""Dashboards, township pages, their XLSX and PDF exports, and the approved map. Thin: each
view parses its filters through the jurisdiction and calls one selector."""
from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.results_version import results_token
from townships.jurisdiction import jurisdiction_for
from townships.models import Role

from . import charts, selectors
from .accountability import accountability_block, accountability_year
from .exports import area_data, area_tables, school_year, township_tables, workbook
from .exports_programme import area_programme_tables, programme_tables, township_value_added_tables
from .models import MapLayer
from .services import MapRefused, upload_map
from .tilemap import tiles


def _staff(request) -> bool:
    return request.user.is_superuser or request.user.is_area_staff


def _area_context(request, area_code: str | None = None) -> dict:
    if not _staff(request):
        raise Http404
    jurisdiction = jurisdiction_for(request)
    f = selectors.parse_filters(request.GET, jurisdiction, area_code=area_code)
    level = len(f.area.code)
    # The province ranks its counties, read with the dashboard's other area results (one query).
    ctx = selectors.area_dashboard(f, ranking_width=6 if level == 2 else None, goal=level in (2, 4))
    ctx["townships"] = selectors.county_townships(f) if level == 6 else None
    if level == 6:
        ctx["total"].approved = sum(1 for t in ctx["townships"] if t.review == "province_approved")
    if level == 4:
        ctx["ranking"] = sorted((r for r in ctx["children"] if r.townships), key=lambda r: (-(r.share(0) or 0), r.code))
    elif level == 6:
        ctx["ranking"] = []
        ctx["missing"] = selectors.missing_uploads(f, ctx["townships"])
    ctx.update(filters=f, level=level, stage_labels=selectors.stage_labels(), populations_labels=selectors.population_labels(f))
    ctx["trend_data"] = {
        "periods": [f"{t['period']}–{t['period'] + 1}" for t in ctx["trend"]],
        "series": [{"name": label, "data": [None if t["shares"][i] is None else round(t["shares"][i] * 100, 1) for t in ctx["trend"]]}
                   for i, label in enumerate([*(f"{_('Target')} {n}" for n, _name in ctx["targets"]), _("all seven")])],
    }
    from workflow.models import AssessmentStatus

    ctx["review_labels"] = dict(AssessmentStatus.choices)
    ctx["perms_province"] = request.user.is_provincial
    ctx.update(_programme_context(request, f, level, ctx["children"], goal_rows=ctx.get("goal_rows")))
    return ctx


def _programme_context(request, f, level: int, ctx_children: list, *, goal_rows: list | None = None) -> dict:
    """Issue 19's figures on a dashboard: 乡镇 ranked by value-added (county and city), the help
    relations counted by child area, and the helped schools' value-added against the others'."""
    from .selectors import value_added as va

    names = {f.area.code: f.area.name, **{r.code: r.name for r in ctx_children}}
    ctx = {"help_counts": va.help_counts(f, width=selectors.CHILD_WIDTH[level] if level < 6 else 6, names=names)}
    if level in (4, 6):
        choice = va.ranking_choice(f, request.GET)
        ranking, helped = va.ranking_and_helped(f, choice)
        ctx.update(va_choice=choice, va_ranking=ranking, helped_comparison=helped)
    if level in (2, 4):
        ctx.update(_goal_and_pilots(f, names, goal_rows))
    return ctx


def _goal_and_pilots(f, names: dict, goal_rows: list | None) -> dict:
    from .exports_programme import comparison_rows, group_labels
    from .selectors.programme import goal_path, pilot_comparison

    path = goal_path(f, names=names, rows=goal_rows)
    # Our own SVGs: every label in them is escaped by the chart.
    path_svg = mark_safe(charts.line_chart([y["period"] for y in path["years"]], [  # noqa: S308
        (_("on the path"), [y["path_share"] for y in path["years"]]),
        (_("pilots"), [y["pilots_share"] for y in path["years"]]),
        (_("all townships"), [y["share"] for y in path["years"]]),
    ])) if path["years"] else ""
    comparisons = pilot_comparison(f)
    labels = group_labels()
    for c in comparisons:
        c.rows = comparison_rows(c)
        # The share attaining all seven, per group (the template says so above the chart).
        c.svg = mark_safe(charts.line_chart(c.years, [(labels[g], [c.groups[g][p].shares[7] for p in c.years])  # noqa: S308
                                                      for g in ("matched", "same_counties", "pilots")]))
    return {"goal_path": path, "goal_path_svg": path_svg, "pilot_comparison": comparisons, "target_numbers": list(range(1, 8))}


def _page_key(request, kind: str, area: str) -> str:
    """A rendered page body is the same for everyone with the same area, role and query, until
    the area's results token changes (a roll-up, review or item change inside the area)."""
    jurisdiction = jurisdiction_for(request)
    scope = "*" if jurisdiction.everything else ",".join(sorted(jurisdiction.prefixes))
    # The year: the province's block of notices counts the calendar year's (reports.accountability).
    raw = "|".join((kind, area, results_token(area), str(accountability_year()), get_language() or "", scope, request.user.role,
                    str(request.user.is_superuser), request.get_full_path()))
    return "page:" + hashlib.sha256(raw.encode()).hexdigest()


def _cached_page(request, kind: str, area: str, build) -> HttpResponse:
    key = _page_key(request, kind, area)
    page = cache.get(key)
    if page is None:
        page = built_once(key, build)
    return render(request, f"reports/{kind}.html", page)


# How long a request waits for another one building the same page before building it itself
# (the builder died, or Redis lost the lock); the lock outlives any build so it is not lost early.
BUILD_WAIT_S = 10.0
BUILD_LOCK_S = 60
BUILD_POLL_S = 0.025


def built_once(key: str, build):
    """The page under `key`, built by one request at a time: when a token changes under a crowd
    (a roll-up renews the province's, and every provincial user opens the dashboard), the first
    request builds the page and the others wait for it in the cache, rather than each computing
    the same seconds of queries on the same CPUs. Redis down: `add` refuses and no lock is seen,
    so each request builds its own, as before."""
    lock = key + ":building"
    if not cache.add(lock, 1, BUILD_LOCK_S):
        deadline = time.monotonic() + BUILD_WAIT_S
        while time.monotonic() < deadline:
            held = cache.get_many([key, lock])
            if key in held:
                return held[key]
            if lock not in held:
                break  # built and gone from the cache already, or the builder failed: build
            time.sleep(BUILD_POLL_S)
        page = build()
        cache.set(key, page, settings.RESULT_PAGE_CACHE_SECONDS)
        return page
    try:
        page = build()
        cache.set(key, page, settings.RESULT_PAGE_CACHE_SECONDS)
    finally:
        cache.delete(lock)
    return page


@login_required
def dashboard(request):
    if request.user.role == Role.INSPECTOR and not request.user.is_superuser:
        return redirect("evaluation:forms")
    code = request.GET.get("area", "")
    if len(code) == 9:
        return redirect("reports:township", code=code)
    if not _staff(request):
        raise Http404
    # The area is checked before the cache: a body is only ever cached for an area one may see.
    area = code or selectors.root_area_code(jurisdiction_for(request))
    if not area or len(area) not in selectors.CHILD_WIDTH or not jurisdiction_for(request).covers(area):
        raise Http404

    def build() -> dict:
        ctx = _area_context(request)
        if ctx["level"] == 2:
            ctx["tiles"] = tiles(ctx["children"])
            ctx["map_layer"] = MapLayer.objects.filter(is_active=True).values("pk", "name", "approval_number").first()
        ctx["breadcrumbs"] = _breadcrumbs(ctx["filters"].area, jurisdiction_for(request))
        body = render_to_string("reports/_dashboard_body.html", ctx, request=request)
        # The province's notices, talks and decisions: cached with the body (their writes renew the
        # province's token), so a cached page is the session, the user and the token — three queries.
        block = accountability_block(request, area, names={r.code: r.name for r in ctx["children"]})
        return {"body": mark_safe(body), "page_title": f"{ctx['filters'].area.name} · {_('Dashboard')}", **block}  # noqa: S308 - our own template's output

    return _cached_page(request, "dashboard", area, build)


def _breadcrumbs(division, jurisdiction) -> list:
    chain = []
    node = division
    # Up to the province (its parent, the country, is never shown and would cost a query).
    while node is not None:
        chain.append(node)
        node = node.parent if node.parent_id and node.level != "province" else None
    return [d for d in reversed(chain) if jurisdiction.covers(d.code) and d.level != "country"]


@login_required
def dashboard_xlsx(request):
    ctx = _area_context(request)
    f = ctx["filters"]
    title = _("%(area)s · %(year)s") % {"area": f.area.name, "year": school_year(f.period)}
    return _download(workbook([*area_tables(ctx, f), *area_programme_tables(ctx), *programme_tables(ctx), area_data(ctx, f)], title=title), f"dashboard-{f.area.code}-{f.period}.xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
def dashboard_pdf(request):
    ctx = _area_context(request)
    f = ctx["filters"]
    labels = [name for _n, name in ctx["targets"]] + [_("all seven")]
    ctx["bar_svg"] = charts.bar_chart(labels, [s for _n, _a, s in ctx["total"].cells], goal=ctx["scorecard"]["goal_share"])
    ctx["trend_svg"] = charts.line_chart([t["period"] for t in ctx["trend"]], [
        (label, [t["shares"][i] for t in ctx["trend"]]) for i, label in enumerate(labels)
    ])
    ctx["tables"] = [*area_tables(ctx, f), *area_programme_tables(ctx), *programme_tables(ctx)]
    ctx["colour"] = charts.share_colour
    html = render_to_string("reports/pdf/area.html", ctx, request=request)
    return _download(_pdf(html, request), f"report-{f.area.code}-{f.period}.pdf", "application/pdf")


def _township_context(request, code: str) -> dict:
    jurisdiction = jurisdiction_for(request)
    town = selectors.township_in(jurisdiction, code)
    # The filters of the county the 乡镇 is in (same year, round, stage choices as its dashboard).
    f = selectors.parse_filters(request.GET, _widened(jurisdiction, town), area=town.parent, populations=False)
    ctx = selectors.township_page(town, f)
    ctx.update(filters=f, stage_labels=selectors.stage_labels())
    _mark_verified(ctx, jurisdiction, code, f)
    ctx.update(_township_value_added(town.code, f))
    return ctx


def _mark_verified(ctx: dict, jurisdiction, code: str, f) -> None:
    """Field verification (实地核查): the verdicts the verified figures change are marked 经核查."""
    from evaluation.selectors import verified_verdicts_for

    flips = list(verified_verdicts_for(jurisdiction, township_code=code, round_id=f.round_key)) if f.round_key else []
    by_point = {(v.point_id, v.stage): v for v in flips}
    for r in ctx.get("results", []):
        r.verified = by_point.get((r.point_id, r.stage))
    ctx["verified_flips"] = flips


def _township_value_added(code: str, f) -> dict:
    from .selectors.value_added import township_value_added

    value_added = township_value_added(code, f)
    # Our own SVG: labels are escaped by the chart.
    svg = mark_safe(charts.value_added_chart(value_added["rows"])) if value_added["rows"] else ""  # noqa: S308
    return {"value_added": value_added, "value_added_svg": svg}


def _widened(jurisdiction, town):
    """Inspectors see the 乡镇 they are assigned to; the county's filter lists (years, rounds) are
    read for that 乡镇's page only, never its county's figures."""
    from townships.jurisdiction import Jurisdiction

    if jurisdiction.covers(town.parent_id):
        return jurisdiction
    return Jurisdiction(frozenset({town.parent_id}))


@login_required
def township(request, code: str):
    if not jurisdiction_for(request).covers(code):
        raise Http404

    def build() -> dict:
        ctx = _township_context(request, code)
        ctx["breadcrumbs"] = _breadcrumbs(ctx["town"], jurisdiction_for(request))
        body = render_to_string("reports/_township_body.html", ctx, request=request)
        return {"body": mark_safe(body), "page_title": f"{ctx['town'].name} · {_('Township')}"}  # noqa: S308 - our own template's output

    return _cached_page(request, "township", code, build)


@login_required
def township_xlsx(request, code: str):
    ctx = _township_context(request, code)
    f = ctx["filters"]
    title = _("%(area)s · %(year)s") % {"area": ctx["town"].name, "year": school_year(f.period)}
    return _download(workbook([*township_tables(ctx), *township_value_added_tables(ctx)], title=title), f"township-{code}-{f.period}.xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
def township_pdf(request, code: str):
    ctx = _township_context(request, code)
    f = ctx["filters"]
    names = ctx["target_names"]
    scores = [(float(t.score) / 100 if t.score is not None else None) for _n, t in sorted(ctx["targets"].items())]
    ctx["bar_svg"] = charts.bar_chart([f"{n} {names.get(n, '')}" for n in sorted(ctx["targets"])], scores)
    ctx["tables"] = [*township_tables(ctx), *township_value_added_tables(ctx)]
    html = render_to_string("reports/pdf/township.html", ctx, request=request)
    return _download(_pdf(html, request), f"township-{code}-{f.period}.pdf", "application/pdf")


def _pdf(html: str, request) -> bytes:
    from weasyprint import HTML

    # No base_url: a report needs nothing but its own HTML and inline SVG, and fetches nothing.
    return HTML(string=html).write_pdf()


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def map_geojson(request):
    if not _staff(request):
        raise Http404
    layer = MapLayer.objects.filter(is_active=True).first()
    if layer is None:
        raise Http404
    return HttpResponse(layer.geojson, content_type="application/geo+json")


@login_required
@require_http_methods(["GET", "POST"])
def map_upload(request):
    if not request.user.is_provincial:
        raise Http404
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise MapRefused(_("Choose a GeoJSON file."))
            # Read one byte past the limit: enough for the service to refuse a larger file.
            content = upload.read(settings.MAP_MAX_BYTES + 1)
            layer = upload_map(user=request.user, name=request.POST.get("name", ""), approval_number=request.POST.get("approval_number", ""), content=content)
        except MapRefused as exc:
            error = str(exc)
        else:
            messages.success(request, _("The map %(name)s is now used on the dashboard.") % {"name": layer})
            return redirect("reports:dashboard")
    layers = MapLayer.objects.select_related("uploaded_by")[:20]
    return render(request, "reports/map_upload.html", {"error": error, "layers": layers}, status=400 if error else 200)
