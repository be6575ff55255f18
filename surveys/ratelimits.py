"""Rate limits of the public answer pages (django-ratelimit on the default cache): every request
per client address, and failed code look-ups per address and per code prefix, so codes cannot be
guessed from one address nor from many addresses at one window."""
from __future__ import annotations

from django.conf import settings
from django_ratelimit.core import is_ratelimited

from security.audit import client_ip


def address(request) -> str:
    return client_ip(request) or "unknown"


def _limited(request, group: str, value: str, rate: str, increment: bool) -> bool:
    return is_ratelimited(request, group=group, key=lambda _group, _request: value, rate=rate, increment=increment)


def page_limited(request) -> bool:
    """Every request to the public pages, per address (generous: a school's Wi-Fi is one address)."""
    return _limited(request, "surveys.page", address(request), settings.SURVEY_RATE_PER_ADDRESS, True)


def guessing_limited(request, prefix: str) -> bool:
    """Whether failed look-ups from this address or at this prefix are over their limits already."""
    return (_limited(request, "surveys.miss.address", address(request), settings.SURVEY_MISS_RATE_PER_ADDRESS, False)
            or _limited(request, "surveys.miss.prefix", prefix, settings.SURVEY_MISS_RATE_PER_PREFIX, False))


def count_miss(request, prefix: str) -> None:
    _limited(request, "surveys.miss.address", address(request), settings.SURVEY_MISS_RATE_PER_ADDRESS, True)
    _limited(request, "surveys.miss.prefix", prefix, settings.SURVEY_MISS_RATE_PER_PREFIX, True)
