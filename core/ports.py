"""Ports: what a lower app asks and a higher app answers, so imports only ever run downward.

- Data locks: evaluation asks whether a township's year is locked before it changes data or a
  form; workflow (approvals up the levels) answers — with the message naming the lock, and as an
  SQL condition a statement can carry (a form's save asks it in the statement that locks the form).
- Notifications: evaluation tells inspectors of an assignment or a returned form; workflow owns
  the notifications and delivers them.
- Facts changed: townships (the pilot list: who is a pilot, in which phase, until when) tells
  that results read by a roll-up changed; evaluation recomputes them.

A higher app registers its answer in its AppConfig.ready(). With nothing registered a lock
question answers "not locked" and a notification goes nowhere — which is what a deployment
without the workflow app would mean, not an error.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

# provider(keys) → {(township code, period): message naming the lock} for the locked keys.
LockProvider = Callable[[set[tuple[str, int]]], dict[tuple[str, int], str]]
_lock_providers: list[LockProvider] = []


def register_lock_provider(provider: LockProvider) -> None:
    if provider not in _lock_providers:
        _lock_providers.append(provider)


# lock_sql(township, period) → an SQL condition, true when the township's year is locked, over
# two SQL expressions of the asking statement (its township-code and period columns). A write
# that reads its row anyway asks it in that same statement, and asks `locked` (for the message)
# only when it is true: one round trip fewer on every save of a form.
LockSql = Callable[[str, str], str]
_lock_sqls: list[LockSql] = []


def register_lock_sql(provider: LockSql) -> None:
    if provider not in _lock_sqls:
        _lock_sqls.append(provider)


def lock_sql(*, township: str, period: str) -> str:
    """The SQL condition "this township's year is locked" for a statement's columns; with no
    provider registered, never (as `locked` answers)."""
    conditions = [provider(township, period) for provider in _lock_sqls]
    return "(" + " OR ".join(conditions) + ")" if conditions else "(1 = 0)"


def locked(keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    keys = set(keys)
    found: dict[tuple[str, int], str] = {}
    if not keys:
        return found
    for provider in _lock_providers:
        found.update(provider(keys))
    return found


class Notifier(Protocol):
    def __call__(self, *, users: Iterable, kind: str, title: str, body: str = "", url: str = "", key: str = "") -> object: ...


_notifiers: list[Notifier] = []


def register_notifier(notifier: Notifier) -> None:
    if notifier not in _notifiers:
        _notifiers.append(notifier)


def notify(*, users: Iterable, kind: str, title: str, body: str = "", url: str = "", key: str = "") -> None:
    users = list(users)
    for notifier in _notifiers:
        notifier(users=users, kind=kind, title=title, body=body, url=url, key=key)


# listener(township_codes, from_period): facts the results read changed for these 乡镇, from
# that school year on (None: every year). Evaluation answers by recomputing them after commit;
# lower apps (the pilot list) tell it so without importing it.
FactsListener = Callable[[Iterable[str], "int | None"], None]
_facts_listeners: list[FactsListener] = []


def register_facts_listener(listener: FactsListener) -> None:
    if listener not in _facts_listeners:
        _facts_listeners.append(listener)


def facts_changed(*, township_codes: Iterable[str], from_period: int | None = None) -> None:
    codes = sorted(set(township_codes))
    for listener in _facts_listeners:
        listener(codes, from_period)


# listener(county_codes, periods): the roll-up recomputed these counties (or prefixes) for these
# school years, inside its transaction. Workflow answers by re-checking rectification items
# against the new results; evaluation never imports it.
RecomputedListener = Callable[[list[str], list[int]], None]
_recomputed_listeners: list[RecomputedListener] = []


def register_recomputed_listener(listener: RecomputedListener) -> None:
    if listener not in _recomputed_listeners:
        _recomputed_listeners.append(listener)


def results_recomputed(*, county_codes: Iterable[str], periods: Iterable[int]) -> None:
    codes, years = sorted(set(county_codes)), sorted(set(periods))
    for listener in _recomputed_listeners:
        listener(codes, years)
