"""Field verification's rules, without writes: which figures may be sampled, their kind and
tolerance, how near a verdict's threshold a township is, and the reproducible weighted draw.

The draw: every numeric figure of an assigned township's seat schools (latest school year up to
the round's) is a candidate with a weight — 1, plus 1 when the figure feeds a point of the
framework, plus up to 4 the nearer the township's value of such a point is to the point's
threshold or urban reference (full at the threshold, none beyond 10 % of it). Each township is
drawn with its own generator seeded by "<seed>:<township code>" (Efraimidis–Spirakis keys
u^(1/w), highest first), so the same seed gives the same items, and adding a township to the
round changes no other township's items.
"""
from __future__ import annotations

import random
from decimal import Decimal, InvalidOperation

from django.db import models

from evaluation.models import SchoolYear

COUNT, RATE, AMOUNT = "count", "rate", "amount"
# Portal defaults, not from the programme (a framework may set its own, see Framework).
DEFAULT_TOLERANCES = {COUNT: {"relative": "0.05"}, RATE: {"absolute": "0.02"}, AMOUNT: {"relative": "0.05"}}
NEAR = Decimal("0.10")  # within 10 % of a threshold a figure weighs more


def figure_kind(field: str) -> str | None:
    """count / rate / amount for a numeric column of SchoolYear; None for others (yes/no, grades)."""
    try:
        f = SchoolYear._meta.get_field(field)
    except Exception:  # noqa: BLE001 - any unknown name is simply not a figure
        return None
    if isinstance(f, models.PositiveIntegerField | models.PositiveSmallIntegerField) and field != "period":
        return COUNT
    if isinstance(f, models.DecimalField):
        return RATE if f.decimal_places == 4 else AMOUNT
    return None


def sampled_fields() -> list[str]:
    return [f.attname for f in SchoolYear._meta.concrete_fields if figure_kind(f.attname)]


def tolerance_for(framework, field: str) -> dict:
    configured = framework.verification_tolerances or {}
    kind = figure_kind(field)
    return configured.get(field) or configured.get(kind) or DEFAULT_TOLERANCES[kind]


def tolerance_text(tolerance: dict) -> str:
    if "absolute" in tolerance:
        return f"±{tolerance['absolute']}"
    return f"±{Decimal(tolerance['relative']) * 100:g}%"


def beyond_tolerance(*, reported: Decimal, verified: Decimal, tolerance: dict) -> bool:
    diff = abs(verified - reported)
    if "absolute" in tolerance:
        return diff > Decimal(str(tolerance["absolute"]))
    # Relative to the reported value, at least 1 (a reported 0 against 1 found is beyond).
    return diff > Decimal(str(tolerance["relative"])) * max(abs(reported), Decimal(1))


def parse_value(text, field: str) -> Decimal:
    """The value typed on site, or ValueError with the Chinese reason."""
    from django.utils.translation import gettext as _

    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValueError(_("Enter the value found on site as a number.")) from None
    if not value.is_finite():
        raise ValueError(_("Enter the value found on site as a number."))
    if value < 0:
        raise ValueError(_("The value found on site cannot be negative."))
    kind = figure_kind(field)
    if kind == COUNT and value != value.to_integral_value():
        raise ValueError(_("This figure is a whole number."))
    if kind == RATE and value > 1:
        raise ValueError(_("A rate is a share between 0 and 1 (e.g. 0.95)."))
    if value >= Decimal("1e10"):
        raise ValueError(_("The value found on site is too large."))
    return value


def closeness(result: dict) -> Decimal:
    """0..1: how near a point's township value is to what decides its verdict (1 = at it)."""
    value, reference, threshold, rule = result["value"], result["reference"], result["point__threshold"], result["point__rule"]
    if value is None:
        return Decimal(0)
    if rule == "quality_gap":
        if not reference or threshold is None:
            return Decimal(0)
        value, reference = (reference - value) / reference, threshold
    elif rule in ("threshold", "at_most"):
        reference = threshold
    if reference is None:
        return Decimal(0)
    margin = abs(Decimal(value) - Decimal(reference)) / max(abs(Decimal(reference)), Decimal("0.01"))
    return max(Decimal(0), 1 - margin / NEAR)


def field_weights(point_results: list[dict]) -> dict[str, dict[str, Decimal]]:
    """{township: {column: weight}} from the township's point results (school-column points)."""
    weights: dict[str, dict[str, Decimal]] = {}
    for r in point_results:
        near = closeness(r)
        for column in (r["point__column"], r["point__denominator"]):
            if column and figure_kind(column):
                by_field = weights.setdefault(r["division_code"], {})
                by_field[column] = max(by_field.get(column, Decimal(2)), 2 + 4 * near)
    return weights


def draw(*, seed: str, township: str, candidates: list[tuple], weights: dict[str, Decimal], size: int) -> list[tuple]:
    """candidates: (school id, field, reported) sorted; returns [(school id, field, reported, weight)]."""
    rng = random.Random(f"{seed}:{township}")
    keyed = []
    for school_id, field, reported in candidates:
        w = weights.get(field, Decimal(1))
        keyed.append((rng.random() ** (1 / float(w)), school_id, field, reported, w))
    keyed.sort(key=lambda k: (-k[0], k[1], k[2]))
    return [(s, f, r, w) for _k, s, f, r, w in keyed[:size]]


def field_label(field: str) -> str:
    return str(SchoolYear._meta.get_field(field).verbose_name)


def labelled(items) -> list:
    """Items (or findings) with `label`, the figure's name, for pages."""
    items = list(items)
    for item in items:
        item.label = field_label(item.field)
    return items
