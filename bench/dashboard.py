"""Bench figures for the dashboards: the provincial dashboard and a township page served by
gunicorn on loopback to 20 concurrent clients, beside a bare Django view (the floor).

Scales. The dashboard is provincial, so "city" and "shandong" both measure Shandong; "national"
measures Shandong, then adds the other 30 provinces and measures the same pages again (the same
provincial-staff user, the same township), so the national figures show what table size costs.

Data: bench/dashboard_data.py (Shandong; the other provinces at national scale, PostgreSQL only).

Load. `bench.settings` under gunicorn (WORKERS sync workers, tests/support/live_server.py) on a
free loopback port, the same database; CLIENTS closed-loop clients (processes × threads,
http.client, one session cookie) per page: WARMUP_S unmeasured, then MEASURE_S measured. Any
answer but 200 fails the run. Queries per page are counted in-process with the test client, the
same pages, at each scale.
"""
from __future__ import annotations

import statistics
import time

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.clients import SPAWN, http_clients
from bench.dashboard_data import NATIONAL_NOTE, TOWNSHIP, prepare_national, prepare_shandong
from bench.framework import Figure
from tests.support.live_server import Server, logged_in_client
from tests.support.load import bench_user

PAGES = {"dashboard": "/dashboard/", "township": f"/dashboard/township/{TOWNSHIP}/"}
FLOOR = "/bench/floor/"
WORKERS = 4
PROCESSES, THREADS = 4, 5
CLIENTS = PROCESSES * THREADS
WARMUP_S, MEASURE_S = 2.0, 12.0


# --- pages -----------------------------------------------------------------------------------


def queries_per_page(client: Client) -> dict[str, int]:
    """Queries of each page computed afresh (an empty cache: what a page costs after every roll-up)
    and served from the page cache (what it costs until the next one)."""
    from django.core.cache import cache

    counts = {}
    for name, path in PAGES.items():
        # Settle the session first: its activity stamp is saved at most once a minute (security
        # middleware), a write that would otherwise land in whichever count comes a minute later.
        assert client.get(path).status_code == 200, path
        for state in ("computed", "cached"):
            if state == "computed":
                cache.clear()
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            counts[f"{name} {state}"] = len(ctx.captured_queries)
    return counts


# --- load ------------------------------------------------------------------------------------


def load(port: int, path: str, cookie: str) -> dict:
    # Spawned, not forked: a fresh interpreter inherits nothing an earlier group left behind.
    queue = SPAWN.Queue()
    start_at = time.time() + 3.0  # a spawned interpreter takes about a second to start
    measure_from, stop_at = start_at + WARMUP_S, start_at + WARMUP_S + MEASURE_S
    procs = [SPAWN.Process(target=http_clients, args=(port, path, cookie, THREADS, start_at, measure_from, stop_at, queue)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    window = [item for _ in procs for item in queue.get(timeout=WARMUP_S + MEASURE_S + 120)]
    for p in procs:
        p.join()
    failed = [status for _, status in window if status != 200]
    if failed or not window:
        raise RuntimeError(f"{path}: {len(failed)} of {len(window)} answers were not 200 (e.g. {failed[:5]})")
    latencies = sorted(lat for lat, _ in window)
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000,
        "rps": len(latencies) / MEASURE_S,
        "requests": len(latencies),
    }


def _print(line: str) -> None:
    print(f"  dashboard: {line}", flush=True)


def dashboard_figures(scale: str) -> list[Figure]:
    prepare_shandong()
    user = bench_user()
    client = logged_in_client(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    queries = {"shandong": queries_per_page(client)}
    runs = {}
    with Server(settings_module="bench.settings", workers=WORKERS) as server:
        _print(f"gunicorn {WORKERS} sync workers on 127.0.0.1:{server.port}, {CLIENTS} clients ({PROCESSES} processes × {THREADS} threads), {WARMUP_S:g} s warm-up + {MEASURE_S:g} s per page")
        for name, path in {"floor": FLOOR, **PAGES}.items():
            runs[("shandong", name)] = load(server.port, path, cookie)
        if scale == "national":
            if connection.vendor != "postgresql":
                _print("national scale needs PostgreSQL; measured Shandong only")
            else:
                _print(prepare_national())
                queries["national"] = queries_per_page(client)
                for name, path in PAGES.items():
                    runs[("national", name)] = load(server.port, path, cookie)
    for (where, name), r in runs.items():
        _print(f"{where:<9} {name:<10} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  {r['rps']:7.1f} req/s  ({r['requests']} requests)")
    for where, counts in queries.items():
        _print(f"{where:<9} queries per page: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    floor, dash, town = runs[("shandong", "floor")], runs[("shandong", "dashboard")], runs[("shandong", "township")]
    floor_label = f"floor: bare view, 16 × 7 table from one query, {CLIENTS} clients"
    all_counts = [n for counts in queries.values() for n in counts.values()]
    equal = len({tuple(c.values()) for c in queries.values()}) == 1
    figures = [
        Figure("dashboard.shandong_p50_ms", dash["p50_ms"], "ms", floor["p50_ms"], floor_label),
        Figure("dashboard.shandong_p95_ms", dash["p95_ms"], "ms", floor["p95_ms"], floor_label + "; target ≤ 100"),
        Figure("dashboard.shandong_rps", dash["rps"], "req/s", floor["rps"], floor_label, higher_is_better=True),
        Figure("dashboard.township_shandong_p95_ms", town["p95_ms"], "ms", floor["p95_ms"], floor_label + "; target ≤ 100"),
        Figure("dashboard.floor_rps", floor["rps"], "req/s", None, "bench/floor/, same server, same clients"),
        Figure("dashboard.floor_p95_ms", floor["p95_ms"], "ms", None, "bench/floor/, same server, same clients"),
        Figure("dashboard.ratio_vs_floor", dash["rps"] / floor["rps"], "×", None, "dashboard req/s ÷ floor req/s, Shandong; target ≥ 0.5"),
    ]
    if ("national", "dashboard") in runs:
        nat, nat_town = runs[("national", "dashboard")], runs[("national", "township")]
        figures += [
            Figure("dashboard.national_p95_ms", nat["p95_ms"], "ms", dash["p95_ms"], "same page at Shandong scale; target ≤ 250; " + NATIONAL_NOTE),
            Figure("dashboard.township_national_p95_ms", nat_town["p95_ms"], "ms", town["p95_ms"], "same page at Shandong scale; target ≤ 250; " + NATIONAL_NOTE),
        ]
    figures.append(
        Figure("dashboard.queries_per_page", max(all_counts), "queries", None,
               "max over pages and scales: " + "; ".join(f"{w} " + "/".join(f"{k} {v}" for k, v in c.items()) for w, c in queries.items())
               + ("" if equal else " — NOT equal across scales") + "; target ≤ 15")
    )
    return figures
