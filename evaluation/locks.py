"""Data locked by an approval up the levels (the workflow app decides what is locked; evaluation
only asks). Kept as a provider so evaluation never imports the workflow app."""
from __future__ import annotations

from collections.abc import Callable, Iterable

# provider(keys) → {(township code, period): message naming the lock} for the locked keys.
LockProvider = Callable[[set[tuple[str, int]]], dict[tuple[str, int], str]]
_providers: list[LockProvider] = []


def register_lock_provider(provider: LockProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def locked(keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    keys = set(keys)
    found: dict[tuple[str, int], str] = {}
    if not keys:
        return found
    for provider in _providers:
        found.update(provider(keys))
    return found
