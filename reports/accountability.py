"""The dashboard's block of 通报, 约谈 and 问责 by city for the year: read from workflow (below
reports) outside the dashboard's cached body, so a notice issued shows at once."""
from __future__ import annotations

from django.utils import timezone

from townships.jurisdiction import jurisdiction_for
from workflow.selectors import accountability_counts


def accountability_block(request, area: str) -> dict:
    """On the province's dashboard only (cities and counties see their own on the workflow pages)."""
    if len(area) != 2:
        return {}
    year = timezone.localdate().year
    return {"accountability": {"year": year, "counts": accountability_counts(jurisdiction_for(request), year=year)}}
