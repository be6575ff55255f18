"""The portal's URLs plus the bench's floor (bench/settings.py's ROOT_URLCONF): a bare Django view
that renders a 16 × 7 table from one small query, so the dashboard's throughput is compared with
what this stack does at best."""
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from portal.urls import handler500  # noqa: F401  (the same error answers as the portal)
from portal.urls import urlpatterns as portal_urlpatterns

FLOOR_SQL = """
SELECT d.code, d.name, a.target_number, a.attained, a.townships
FROM townships_division d
JOIN evaluation_arearesult a ON a.division_code = d.code
WHERE d.parent_id = %s AND a.period = %s AND a.round_key = 0 AND a.population = 'all' AND a.stage = 'all'
  AND a.target_number BETWEEN 1 AND 7
ORDER BY d.code, a.target_number
"""

FLOOR_TEMPLATE = engines["django"].from_string(
    """<!doctype html><html lang="zh-hans"><head><meta charset="utf-8"><title>floor</title></head><body>
<table><thead><tr><th>市</th>{% for n in targets %}<th>目标{{ n }}</th>{% endfor %}</tr></thead><tbody>
{% for name, cells in rows %}<tr><th>{{ name }}</th>{% for attained, total in cells %}<td>{{ attained }} / {{ total }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></body></html>"""
)


def floor(request):
    period = int(request.GET.get("period", 2024))
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, [request.GET.get("area", "37"), period])
        rows: dict[str, tuple[str, list]] = {}
        for code, name, _number, attained, total in cursor.fetchall():
            rows.setdefault(code, (name, []))[1].append((attained, total))
    return HttpResponse(FLOOR_TEMPLATE.render({"targets": range(1, 8), "rows": rows.values()}, request))


urlpatterns = [path("bench/floor/", floor, name="bench-floor"), *portal_urlpatterns]
