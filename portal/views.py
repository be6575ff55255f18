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
    """For the load balancer and compose health check: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
