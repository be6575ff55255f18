"""The token result pages are cached by (see evaluation.models.ResultsVersion)."""
from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager

from evaluation.models import ResultsVersion

_batch = threading.local()


def results_token() -> str:
    return ResultsVersion.objects.filter(pk=1).values_list("token", flat=True).first() or "none"


def bump_results_version() -> None:
    """Give result pages a new token, inside the caller's transaction: other processes see the
    new token exactly when they see the new results (until then, the old token with the old
    results, which is consistent). Callers bump last, so the row lock lasts only to the commit.
    A random token rather than a counter: a restored backup does not step back onto tokens
    pages were cached under since."""
    if getattr(_batch, "depth", 0):
        _batch.pending = True
        return
    updated = ResultsVersion.objects.filter(pk=1).update(token=uuid.uuid4().hex)
    if not updated:
        ResultsVersion.objects.get_or_create(pk=1, defaults={"token": uuid.uuid4().hex})


@contextmanager
def one_bump_at_the_end():
    """Bumps inside the block become one bump when it ends. For a transaction that changes
    results in several steps (a county, then the areas above it): a bump in the middle would hold
    the token's row lock through the later steps, and every request that bumps (a submitted form,
    a saved draft) would wait for them. Use it inside the transaction, so the bump still commits
    with the results."""
    _batch.depth = getattr(_batch, "depth", 0) + 1
    ok = False
    try:
        yield
        ok = True
    finally:
        _batch.depth -= 1
        if _batch.depth == 0:
            pending, _batch.pending = getattr(_batch, "pending", False), False
            if ok and pending:
                bump_results_version()
