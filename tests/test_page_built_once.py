"""A result page nobody has cached is built by one request; the others asking for it meanwhile
wait for that build in the cache (reports.views.built_once) rather than compute it again — a
token renewed under a crowd (every provincial user on the dashboard) costs one build, not one per
user. A builder that fails or dies leaves no one waiting for long."""
import threading
import time

import pytest
from django.core.cache import cache

from reports import views
from reports.views import built_once


@pytest.fixture
def key():
    key = f"page:test-built-once-{time.monotonic_ns()}"
    yield key
    cache.delete_many([key, key + ":building"])


def test_a_page_asked_for_by_many_at_once_is_built_once(key):
    calls = []

    def build():
        calls.append(threading.get_ident())
        time.sleep(0.3)
        return {"body": "页面"}

    pages = []
    crowd = [threading.Thread(target=lambda: pages.append(built_once(key, build))) for _ in range(5)]
    for t in crowd:
        t.start()
    for t in crowd:
        t.join()
    assert len(calls) == 1
    assert pages == [{"body": "页面"}] * 5
    assert cache.get(key) == {"body": "页面"}
    assert cache.get(key + ":building") is None


def test_a_build_that_fails_lets_the_next_request_build(key):
    def broken():
        raise RuntimeError("数据库不可用")

    with pytest.raises(RuntimeError):
        built_once(key, broken)
    assert cache.get(key + ":building") is None
    assert built_once(key, lambda: {"body": "好了"}) == {"body": "好了"}


def test_a_lock_left_by_a_dead_builder_delays_a_request_only_so_long(key, monkeypatch):
    monkeypatch.setattr(views, "BUILD_WAIT_S", 0.2)
    cache.add(key + ":building", 1, 60)  # a worker killed mid-build leaves its lock
    started = time.monotonic()
    assert built_once(key, lambda: {"body": "重建"}) == {"body": "重建"}
    assert 0.2 <= time.monotonic() - started < 2
    assert cache.get(key) == {"body": "重建"}
