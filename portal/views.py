from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from townships.jurisdiction import jurisdiction_for
from townships.selectors import area_summary, units_of


@login_required
def home(request):
    jurisdiction = jurisdiction_for(request)
    return render(
        request,
        "portal/home.html",
        {"summary": area_summary(jurisdiction), "units": units_of(jurisdiction), "jurisdiction": jurisdiction},
    )


def health(request):
    """For the proxy and the compose health check: the database and Redis (broker and cache)
    answer. 503 naming what does not, so a check never calls a half-working portal healthy."""
    # A database that does not answer raises: portal/errors.py answers 503 (with Retry-After).
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    checks = {"database": "ok"}
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy", with its name
            checks["redis"] = type(exc).__name__
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)
