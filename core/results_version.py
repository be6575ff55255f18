"""The tokens result pages are cached under, one per area (see core.models.ResultsVersion).

A page of area A (a county, a city, the province) shows results of the counties inside A, so a
change in county C gives new tokens to C, its city and its province — and to nothing else: the
pages of every other county and city stay cached. A township page is cached under its county's
token (its figures are read against the county's urban schools).

`results_changed` is the one way to say results changed. Inside `one_bump_at_the_end` (the
roll-up's tasks, whose transactions change results in several steps) the areas are collected and
given new tokens once, as the last statement before the commit.
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from contextlib import contextmanager

from django.utils import timezone

from core.models import ResultsVersion

_batch = threading.local()
# An area's code has 2 (province), 4 (city) or 6 (county) digits; a township's 9 or 12.
AREA_WIDTHS = (2, 4, 6)


def page_area(code: str) -> str:
    """The area whose token a page of `code` is cached under: itself, or a township's county."""
    return code[:6] if len(code) > 6 else code


def results_token(code: str) -> str:
    return ResultsVersion.objects.filter(code=page_area(code)).values_list("token", flat=True).first() or "none"


def areas_above(codes: Iterable[str]) -> list[str]:
    """Every area whose pages show a result of one of `codes` (each code and the areas above it)."""
    return sorted({code[:width] for code in codes for width in AREA_WIDTHS if len(code) >= width})


def results_changed(*, codes: Iterable[str]) -> None:
    """Give the pages of the areas of `codes` (and those above them) new tokens, inside the
    caller's transaction: other processes see a new token exactly when they see the new results
    (until then, the old token with the old results, which is consistent). A random token rather
    than a counter: a restored backup does not step back onto tokens pages were cached under."""
    areas = areas_above(codes)
    if not areas:
        return
    if getattr(_batch, "depth", 0):
        _batch.pending.update(areas)
        return
    _bump(areas)


def _bump(areas: list[str]) -> None:
    # One upsert for every area, in code order: a single statement (the row locks are taken last
    # and held only to the commit), and two transactions bumping overlapping areas (two counties
    # of one city) take the shared rows in the same order, so they never deadlock.
    now = timezone.now()
    ResultsVersion.objects.bulk_create(
        [ResultsVersion(code=code, token=uuid.uuid4().hex, changed_at=now) for code in sorted(areas)],
        update_conflicts=True, unique_fields=["code"], update_fields=["token", "changed_at"],
    )


@contextmanager
def one_bump_at_the_end():
    """Changes announced inside the block become one bump when it ends. For a transaction that
    changes results in several steps (a county, then the areas above it): a bump in the middle
    would hold the token rows' locks through the later steps, and every request that bumps would
    wait for them. Use it inside the transaction, so the bump still commits with the results."""
    if not getattr(_batch, "depth", 0):
        _batch.pending = set()
    _batch.depth = getattr(_batch, "depth", 0) + 1
    ok = False
    try:
        yield
        ok = True
    finally:
        _batch.depth -= 1
        if _batch.depth == 0:
            pending, _batch.pending = _batch.pending, set()
            if ok and pending:
                _bump(sorted(pending))
