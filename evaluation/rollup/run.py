"""The roll-up's entry points: one county (or any prefix) after its data changed, its verdicts
alone after an inspectors' form changed, and a full synchronous recomputation."""
from __future__ import annotations

from django.db import transaction

from core import ports

from .areas import rollup_levels
from .points import rollup_points
from .scope import held_periods, refresh_statistics, rounds
from .verdicts import judgments_and_verdicts


@transaction.atomic
def rollup_county(*, period: int, county: str) -> None:
    """Everything of one county (or any prefix) for one period: data points with last year's
    values, judgments, targets and townships for no round and for each round of the period, each
    by its framework version. Idempotent."""
    rollup_points(period=period, prefix=county)
    judgments_and_verdicts(period=period, county=county, round_keys=[0, *rounds(period)])


@transaction.atomic
def rollup_judgments(*, period: int, county: str, round_keys: list[int] | None = None) -> None:
    """After an inspectors' form changed (submitted, returned): the judgments and verdicts of its
    round (`round_keys`; None: each round of the period), without recomputing the data points,
    which the form does not touch (round 0 has no judgments), nor the other rounds, which read
    only their own forms. Equals `rollup_county` on the same data; a fraction of its cost."""
    held = rounds(period)
    keys = held if round_keys is None else [k for k in held if k in set(round_keys)]
    judgments_and_verdicts(period=period, county=county, round_keys=keys)


def rollup_all(*, period: int | None = None, prefix: str = "37", analyze: bool = False, value_added: bool = True) -> int:
    """A full synchronous recomputation (the management command and the bench): the whole area in
    one pass — a handful of statements over every 乡镇 under the prefix — then the areas at each
    level; for one school year, or (None) every year held, oldest first, since each year's
    previous values read the year before. `analyze` refreshes the planner's statistics first
    (after bulk loads); `value_added` False leaves the province's value-added fit out (the bench
    times it on its own: after a change it runs in the area counts' task, not the county's).
    Returns the number of counties under the prefix."""
    from townships.models import Division, Level

    if analyze:
        refresh_statistics()
    for year in [period] if period is not None else held_periods():
        rollup_county(period=year, county=prefix)
        rollup_levels(period=year, prefix=prefix, value_added=value_added)
        if len(prefix) > 2 and value_added:
            # The value-added fit is the province's (rollup_levels does it for a province prefix).
            from core.results_version import results_changed

            from .value_added import rollup_value_added

            results_changed(codes=rollup_value_added(period=year, province=prefix[:2]))
    ports.results_recomputed(county_codes=[prefix], periods=[period] if period is not None else held_periods())
    return Division.objects.filter(level=Level.COUNTY, code__startswith=prefix).count()
