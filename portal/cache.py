"""The Redis cache, degraded to "no cache" while Redis is down: pages are computed from the
database instead of failing (the cache only ever holds what can be recomputed)."""
from __future__ import annotations

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


def _guard(default):
    def wrap(method):
        def guarded(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except DOWN as exc:
                log.warning("cache unavailable (%s): %s", method.__name__, exc)
                return default() if callable(default) else default

        guarded.__name__ = method.__name__
        return guarded

    return wrap


class ResilientRedisCache(RedisCache):
    get = _guard(lambda: None)(RedisCache.get)
    get_many = _guard(dict)(RedisCache.get_many)
    set = _guard(None)(RedisCache.set)
    set_many = _guard(list)(RedisCache.set_many)
    # A lock taken through `add` is refused while Redis is down: the job waits for the next run.
    add = _guard(False)(RedisCache.add)
    # Counters (django-ratelimit's): None when Redis is down, which it reads as "cannot count".
    incr = _guard(lambda: None)(RedisCache.incr)
    delete = _guard(False)(RedisCache.delete)
    delete_many = _guard(None)(RedisCache.delete_many)
    has_key = _guard(False)(RedisCache.has_key)
    touch = _guard(False)(RedisCache.touch)
    clear = _guard(False)(RedisCache.clear)
