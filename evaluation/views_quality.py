"""Uploads with data-quality warnings in the user's area (city and province look across counties)."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from evaluation.selectors import import_runs_for
from townships.jurisdiction import jurisdiction_for


@login_required
def quality_warnings(request):
    runs = import_runs_for(user=request.user, jurisdiction=jurisdiction_for(request)).filter(warning_count__gt=0)
    return render(request, "evaluation/quality.html", {"runs": runs[:200]})
