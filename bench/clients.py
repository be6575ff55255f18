"""Processes the bench starts: HTTP clients (bench/dashboard.py) and a Django process of its own
(the import's peak memory), always with multiprocessing's 'spawn' start method.

A forked child inherits whatever the groups before it left in this process — threads holding
locks, a worker's sockets, open database connections — and may hang on them (the dashboard's
clients did, after the roll-up group). A spawned child starts from a fresh interpreter, so this
module imports nothing of Django at import time: the clients need only the standard library, and
`in_django` sets Django up itself.
"""
from __future__ import annotations

import http.client
import os
import threading
import time
from importlib import import_module
from multiprocessing import get_context

SPAWN = get_context("spawn")


def http_clients(port: int, path: str, cookie: str, threads: int, start_at: float, measure_from: float, stop_at: float, queue) -> None:
    """`threads` closed-loop clients; a process per group of threads so one GIL does not pace them all.
    Puts the (latency s, status) of every request sent inside the window and answered before it closed."""
    results: list[tuple[float, float, int]] = []
    lock = threading.Lock()

    def loop():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.time() < start_at:
            time.sleep(0.001)
        while True:
            sent = time.time()
            if sent >= stop_at:
                break
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            mine.append((sent, time.perf_counter() - t0, status))
        conn.close()
        with lock:
            results.extend(mine)

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    queue.put([(lat, status) for sent, lat, status in results if sent >= measure_from and sent + lat <= stop_at])


def in_django(settings_module: str, database_url: str, target: str, args: tuple, queue) -> None:
    """Set Django up on the bench's database, then put `module:function`(*args)'s result on the queue
    (or the exception's text, so the parent fails with it instead of waiting)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    os.environ["DATABASE_URL"] = database_url
    try:
        import django

        django.setup()
        module, func = target.split(":")
        queue.put(("ok", getattr(import_module(module), func)(*args)))
    except Exception as exc:  # reported to the parent, which raises it
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
