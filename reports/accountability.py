"""The dashboard's block of 通报, 约谈 and 问责 by city for the year, read from workflow (below
reports). Cached with the province's dashboard body: issuing a notice, recording a talk or
deciding on accountability renews the province's results token (workflow.services.accountability),
and the page key holds the year, so a notice still shows at once and the block turns over at New Year."""
from __future__ import annotations

from django.utils import timezone

from townships.jurisdiction import jurisdiction_for
from workflow.selectors import accountability_counts


def accountability_year() -> int:
    return timezone.localdate().year


def accountability_block(request, area: str, *, names: dict[str, str] | None = None) -> dict:
    """On the province's dashboard only (cities and counties see their own on the workflow pages).
    `names`: the cities' names, which the dashboard has read already."""
    if len(area) != 2:
        return {}
    year = accountability_year()
    return {"accountability": {"year": year, "counts": accountability_counts(jurisdiction_for(request), year=year, names=names)}}
