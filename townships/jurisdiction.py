"""Who sees what: the one scoping rule of the portal.

A user's jurisdiction is a set of official-code prefixes. Everything that belongs to a place
stores that place's code, so "inside" is a prefix match on one column. Every admin screen, page,
API view, export and aggregate scopes its queryset with `Jurisdiction.filter` and fetches single
objects with `get_in_jurisdiction_or_404`, which answers "not found" for missing and forbidden
alike, so nobody can probe what exists outside their area.

Other apps add to a user's jurisdiction through `register_provider` (evaluation/ plugs in
inspectors' assignments this way), so this module never imports them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import CODE_LENGTH, ROLE_UNIT_LEVEL, STAFF_ROLES


@dataclass(frozen=True)
class Jurisdiction:
    prefixes: frozenset[str] = frozenset()
    # Only superusers (operators) see everything, other provinces included.
    everything: bool = False

    @classmethod
    def nothing(cls) -> Jurisdiction:
        return cls()

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.prefixes

    def covers(self, code: str | None) -> bool:
        if self.everything:
            return True
        return bool(code) and any(code.startswith(p) for p in self.prefixes)

    def q(self, field: str) -> Q:
        """A Q object selecting rows placed inside this jurisdiction.

        `field` is "code" (a Division itself), a column holding a code ("..._code"), or a
        foreign key to Division ("township", "unit"); for a foreign key Django compares the
        key's own column, without a join, because the code is Division's primary key.
        """
        if self.everything:
            return Q()
        if not self.prefixes:
            return Q(pk__in=[])
        column = code_column(field)
        return reduce(or_, (Q(**{f"{column}__startswith": p}) for p in self._minimal_prefixes()))

    def filter(self, queryset: QuerySet, field: str) -> QuerySet:
        if self.everything:
            return queryset
        if not self.prefixes:
            return queryset.none()
        return queryset.filter(self.q(field))

    def _minimal_prefixes(self) -> list[str]:
        # Drop prefixes covered by shorter ones ("3701" under "37") so the SQL stays small.
        ordered = sorted(self.prefixes, key=len)
        kept: list[str] = []
        for p in ordered:
            if not any(p.startswith(k) for k in kept):
                kept.append(p)
        return sorted(kept)


def code_column(field: str) -> str:
    """The lookup path of the code that places a row, for a scope field (see Jurisdiction.q)."""
    return field if field == "code" or field.endswith("_code") else f"{field}__code"


Provider = Callable[[object], Iterable[str]]
_providers: list[Provider] = []


def register_provider(provider: Provider) -> None:
    """Add codes to users' jurisdictions; `provider(user)` returns division codes the user may see."""
    if provider not in _providers:
        _providers.append(provider)


def resolve_jurisdiction(user) -> Jurisdiction:
    """The single place a user's jurisdiction is decided. Middleware calls it once per request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Jurisdiction.nothing()
    if user.is_superuser:
        return Jurisdiction(everything=True)
    prefixes: set[str] = set()
    expected_level = ROLE_UNIT_LEVEL.get(user.role)
    # A staff role only grants its unit when the unit has the role's level; a mismatch grants nothing.
    if expected_level and user.unit_id and len(user.unit_id) == CODE_LENGTH[expected_level]:
        prefixes.add(user.unit_id)
    for provider in _providers:
        prefixes.update(code for code in provider(user) if code)
    return Jurisdiction(frozenset(prefixes))


def jurisdiction_for(request) -> Jurisdiction:
    """The request's jurisdiction, resolved once (by the middleware, or here for non-HTTP callers)."""
    jurisdiction = getattr(request, "jurisdiction", None)
    if jurisdiction is None:
        jurisdiction = resolve_jurisdiction(getattr(request, "user", None))
        request.jurisdiction = jurisdiction
    return jurisdiction


def get_in_jurisdiction_or_404(queryset: QuerySet, jurisdiction: Jurisdiction, field: str, **lookup):
    """Fetch one object inside the jurisdiction; outside it is indistinguishable from missing."""
    try:
        return jurisdiction.filter(queryset, field).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None


def is_staff_role(role: str) -> bool:
    return role in STAFF_ROLES
