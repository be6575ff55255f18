"""The token result pages are cached by (see evaluation.models.ResultsVersion)."""
from __future__ import annotations

import uuid

from evaluation.models import ResultsVersion


def results_token() -> str:
    return ResultsVersion.objects.filter(pk=1).values_list("token", flat=True).first() or "none"


def bump_results_version() -> None:
    """Give result pages a new token, inside the caller's transaction: other processes see the
    new token exactly when they see the new results (until then, the old token with the old
    results, which is consistent). Callers bump last, so the row lock lasts only to the commit.
    A random token rather than a counter: a restored backup does not step back onto tokens
    pages were cached under since."""
    updated = ResultsVersion.objects.filter(pk=1).update(token=uuid.uuid4().hex)
    if not updated:
        ResultsVersion.objects.get_or_create(pk=1, defaults={"token": uuid.uuid4().hex})
