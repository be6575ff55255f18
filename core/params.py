"""Query and form parameters read by one helper: a value that cannot be what the page asks for
(`?year=abc`, a round id of letters, a region that is not a division code) is a 400 with a
Chinese message naming the parameter, never a server error and never a silent default.

Views call these with `request.GET` or `request.POST`; `BadParameter` is turned into the 400 by
`portal.middleware.BadParameterMiddleware` (JSON `{"detail": …}` under /api/, a page elsewhere).
An absent or empty parameter gives the default: only a present, unreadable one is refused."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

# Division codes: province 2, city 4, county 6, township 9 digits.
DIVISION_CODE = re.compile(r"^(?:\d{2}|\d{4}|\d{6}|\d{9})$")
YEAR_MIN, YEAR_MAX = 2000, 2100
ID_MAX = 2**31 - 1


class BadParameter(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _raw(source: Mapping, name: str) -> str | None:
    value = source.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _refuse(name: str) -> BadParameter:
    return BadParameter(_("The parameter “%(name)s” has a value this page cannot use.") % {"name": name})


def int_param(source: Mapping, name: str, *, default: int | None = None, min_value: int = 0, max_value: int = ID_MAX) -> int | None:
    raw = _raw(source, name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?\d{1,12}", raw):
        raise _refuse(name)
    value = int(raw)
    if not min_value <= value <= max_value:
        raise _refuse(name)
    return value


def year_param(source: Mapping, name: str = "year", *, default: int | None = None) -> int | None:
    return int_param(source, name, default=default, min_value=YEAR_MIN, max_value=YEAR_MAX)


def id_param(source: Mapping, name: str) -> int | None:
    """A database id (a round, a form): a positive integer that fits the column."""
    return int_param(source, name, min_value=1, max_value=ID_MAX)


def code_param(source: Mapping, name: str, *, lengths: Iterable[int] = (2, 4, 6, 9)) -> str | None:
    """A division code of one of the given lengths (digits only)."""
    raw = _raw(source, name)
    if raw is None:
        return None
    if not DIVISION_CODE.fullmatch(raw) or len(raw) not in set(lengths):
        raise _refuse(name)
    return raw


def choice_param(source: Mapping, name: str, choices: Iterable[str]) -> str | None:
    raw = _raw(source, name)
    if raw is None:
        return None
    if raw not in set(choices):
        raise _refuse(name)
    return raw


def amount(value, *, max_digits: int, decimal_places: int) -> Decimal:
    """A non-negative amount that the column holds exactly: finite (no NaN, sNaN, Infinity), at
    most `decimal_places` decimals and below 10**(max_digits - decimal_places). Raises ValueError
    (the caller words the refusal for its field)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(value) from None
    if not number.is_finite() or number < 0 or number >= Decimal(10) ** (max_digits - decimal_places):
        raise ValueError(value)
    if number.as_tuple().exponent < -decimal_places and number != number.quantize(Decimal(1).scaleb(-decimal_places)):
        raise ValueError(value)
    return number.quantize(Decimal(1).scaleb(-decimal_places))
