"""Bench figures for the dashboards: the provincial dashboard and a township page served by
gunicorn on loopback to 20 concurrent clients, beside a bare Django view (the floor).

Scales. The dashboard is provincial, so "city" and "shandong" both measure Shandong; "national"
measures Shandong, then adds the other 30 provinces and measures the same pages again (the same
provincial-staff user, the same township), so the national figures show what table size costs.

Data.
- Shandong: the roll-up bench's data (divisions, ~30k demo schools, 2023–2024 facts), the first
  pilot batch, the demo second batch and demo rounds (`load_demo`), then the real roll-up.
- National: all 41,352 township units. For the 乡镇 outside Shandong, schools, school years,
  point, target and township results (data only: rounds are Shandong's) are generated directly
  in SQL with deterministic pseudo-random verdicts — not from school facts, which did not fit the
  bench's time — and area results by the roll-up's own `rollup_levels`. Provinces that already
  have school facts in the run (the roll-up group at national scale) are rolled up from them
  instead. The output says which. PostgreSQL only.

Load. `portal.settings.bench` under gunicorn (WORKERS sync workers) on a free loopback port, the
same database; CLIENTS closed-loop clients (processes × threads, http.client, one session cookie)
per page: WARMUP_S unmeasured, then MEASURE_S measured. Any answer but 200 fails the run. Queries
per page are counted in-process with the test client, the same pages, at each scale.
"""
from __future__ import annotations

import http.client
import io
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from multiprocessing import get_context
from urllib.parse import quote

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evaluation.models import ObservationPoint, PointResult, SchoolYear, SourceKind, TownshipResult
from evaluation.rollup import current_framework, refresh_statistics, rollup_all, rollup_levels
from evaluation.services.demo import load_demo_facts, load_demo_round
from portal.bench import Figure
from townships.models import Division, Level, Role, School, User
from townships.services.demo import load_demo_users
from townships.services.divisions import load_divisions

PERIODS = (2023, 2024)
TOWNSHIP = "370881109"  # 曲阜市息陬镇: a first-batch pilot with demo schools
PAGES = {"dashboard": "/dashboard/", "township": f"/dashboard/township/{TOWNSHIP}/"}
FLOOR = "/bench/floor/"
WORKERS = 4
PROCESSES, THREADS = 4, 5
CLIENTS = PROCESSES * THREADS
WARMUP_S, MEASURE_S = 2.0, 12.0
NATIONAL_NOTE = "national: other provinces' result tables generated directly at national size, not from school facts"


# --- data ------------------------------------------------------------------------------------


def prepare_shandong() -> None:
    # The roll-up bench's Shandong (divisions, 24 village schools per 乡镇, 2023–2024 facts) plus
    # the pilot batches, logins and rounds the dashboard filters by.
    call_command("load_demo", villages_per_township=24, no_users=True, stdout=io.StringIO())
    load_demo_users()
    demo_schools = School.objects.filter(is_demo=True, township__code__startswith="37").count()
    missing = [p for p in PERIODS if SchoolYear.objects.filter(period=p, township__code__startswith="37").count() < demo_schools]
    if missing:
        load_demo_facts(province_prefix="37", periods=missing)
    load_demo_round()
    for period in PERIODS:  # oldest first, so each year sees the one before it
        rollup_all(period=period, prefix="37", analyze=True)
    assert School.objects.filter(township_id=TOWNSHIP).exists(), f"{TOWNSHIP} has no schools"
    assert PointResult.objects.filter(division_code=TOWNSHIP, period=PERIODS[-1]).exists(), f"{TOWNSHIP} has no point results"


def _point_stages() -> list[tuple[int, str]]:
    stages = []
    for pk, kind, point_stages in ObservationPoint.objects.filter(target__framework=current_framework()).values_list("id", "source_kind", "stages"):
        if kind == SourceKind.JUDGMENT:
            continue  # judgments come from inspectors' forms in rounds, which are Shandong's
        if kind == SourceKind.TOWNSHIP_COLUMN:
            stages.append((pk, point_stages or "all"))
        else:
            stages.extend((pk, s) for s in point_stages.split(","))
    return stages


# Codes starting with 6 are ours: demo schools start with 9 or 8, real identifiers with 1–5.
NATIONAL_SCHOOLS_SQL = """
INSERT INTO townships_school (code, name, stage, township_id, is_seat, is_urban, is_urban_quality, is_demo)
SELECT '6' || LPAD((ROW_NUMBER() OVER (ORDER BY d.code, g.n))::text, 9, '0'),
       d.name || '第' || g.n || '校（演示）',
       CASE WHEN g.n = 1 OR g.n %% 3 = 0 THEN 'kindergarten' WHEN g.n = 3 THEN 'junior' ELSE 'primary' END,
       d.code, g.n <= 3, FALSE, FALSE, TRUE
FROM townships_division d CROSS JOIN generate_series(1, 27) AS g(n)
WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND LEFT(d.code, 2) = ANY(%(provinces)s)
ON CONFLICT (code) DO NOTHING
"""

NATIONAL_SCHOOL_YEARS_SQL = """
INSERT INTO evaluation_schoolyear (school_id, period, township_id, students, teachers, care_quality_grade, safety_grade, updated_at)
SELECT s.id, %(period)s, s.township_id, 80 + GET_BYTE(DECODE(MD5(s.code), 'hex'), 0) * 4, 8 + GET_BYTE(DECODE(MD5(s.code), 'hex'), 1) / 8, '', '', NOW()
FROM townships_school s WHERE LEFT(s.township_id, 2) = ANY(%(provinces)s)
ON CONFLICT (school_id, period) DO NOTHING
"""

# A township's strength and each point's draw come from hashes, so verdicts correlate across a
# township's points and improve year on year, as real ones do; the same every run.
NATIONAL_POINTS_SQL = """
WITH ps(point_id, stage) AS (VALUES {values}),
draw AS (
  SELECT d.code, ps.point_id, ps.stage,
         GET_BYTE(DECODE(MD5(d.code), 'hex'), 0) / 255.0 AS strength,
         GET_BYTE(DECODE(MD5(d.code || ':' || ps.point_id || ':' || ps.stage || ':' || %(period)s), 'hex'), 0) / 255.0 AS noise,
         GET_BYTE(DECODE(MD5(d.code || ':' || ps.point_id || ':' || ps.stage || ':' || (%(period)s - 1)), 'hex'), 0) / 255.0 AS last_noise
  FROM townships_division d CROSS JOIN ps
  WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND LEFT(d.code, 2) = ANY(%(provinces)s)
)
INSERT INTO evaluation_pointresult (division_code, point_id, period, round_key, stage, value, previous_value, reference, verdict, computed_at)
SELECT code, point_id, %(period)s, 0, stage, ROUND((strength * 0.6 + noise * 0.4)::numeric, 4), ROUND((strength * 0.6 + last_noise * 0.4)::numeric, 4), 0.5,
       CASE WHEN noise < 0.01 THEN 'insufficient'
            WHEN strength * 0.6 + noise * 0.4 + (%(period)s - 2023) * 0.05 > 0.5 THEN 'attained'
            ELSE 'not_attained' END,
       NOW()
FROM draw
ON CONFLICT (division_code, point_id, period, round_key, stage) DO NOTHING
"""

# The roll-up's verdict rule for a target (any point not attained, else any without data) and its
# township count, for data points only: rounds and judgments are Shandong's.
NATIONAL_TARGETS_SQL = """
INSERT INTO evaluation_targetresult (division_code, target_number, period, round_key, verdict, score, vetoed, computed_at)
SELECT pr.division_code, t.number, pr.period, 0,
       CASE WHEN BOOL_OR(pr.verdict = 'not_attained') THEN 'not_attained' WHEN BOOL_OR(pr.verdict = 'insufficient') THEN 'insufficient' ELSE 'attained' END,
       ROUND(100.0 * AVG(CASE pr.verdict WHEN 'attained' THEN 1.0 WHEN 'not_attained' THEN 0.0 END), 1),
       BOOL_OR(p.veto AND pr.verdict = 'not_attained'), NOW()
FROM evaluation_pointresult pr
JOIN evaluation_observationpoint p ON p.id = pr.point_id
JOIN evaluation_target t ON t.id = p.target_id
WHERE pr.period = %(period)s AND pr.round_key = 0 AND LEFT(pr.division_code, 2) = ANY(%(provinces)s)
GROUP BY pr.division_code, t.number, pr.period
ON CONFLICT (division_code, target_number, period, round_key) DO NOTHING
"""

NATIONAL_TOWNSHIPS_SQL = """
INSERT INTO evaluation_townshipresult (division_code, period, round_key, targets_attained, all_seven, score, computed_at)
SELECT division_code, period, 0, COUNT(*) FILTER (WHERE verdict = 'attained'),
       COUNT(*) FILTER (WHERE verdict = 'attained') = 7 AND NOT BOOL_OR(vetoed), ROUND(AVG(score), 1), NOW()
FROM evaluation_targetresult
WHERE period = %(period)s AND round_key = 0 AND LEFT(division_code, 2) = ANY(%(provinces)s)
GROUP BY division_code, period
ON CONFLICT (division_code, period, round_key) DO NOTHING
"""


def prepare_national() -> str:
    """The other provinces at national size; returns a note on how their results were made."""
    started = time.perf_counter()
    load_divisions(provinces=None)
    todo = [
        code for code in Division.objects.filter(level=Level.PROVINCE).exclude(code="37").order_by("code").values_list("code", flat=True)
        if not TownshipResult.objects.filter(division_code__startswith=code, period=PERIODS[-1]).exists()
    ]
    # Provinces another group gave school facts (the roll-up bench at national scale) are rolled
    # up from them; the rest get their result tables generated directly.
    from_facts = [p for p in todo if SchoolYear.objects.filter(township__code__startswith=p, period=PERIODS[-1]).exists()]
    direct = [p for p in todo if p not in from_facts]
    if direct:
        _generate(direct)
    for period in PERIODS:
        for province in from_facts:
            rollup_all(period=period, prefix=province)
        for province in direct:
            rollup_levels(period=period, prefix=province)
    refresh_statistics()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE evaluation_townshipresult, evaluation_arearesult")
    towns = Division.objects.filter(level=Level.TOWNSHIP).count()
    results = TownshipResult.objects.filter(period=PERIODS[-1], round_key=0).count()
    made = f"{len(direct)} provinces generated directly, {len(from_facts)} rolled up from school facts" if todo else "already loaded"
    return (
        f"{NATIONAL_NOTE if direct else 'national'}: {made} in {time.perf_counter() - started:.0f} s; "
        f"{towns} township units, {School.objects.count()} schools, {results} township results {PERIODS[-1]}"
    )


@transaction.atomic  # all or nothing: a half-generated province would be skipped the next time
def _generate(provinces: list[str]) -> None:
    values = ", ".join(f"({pk}, '{stage}')" for pk, stage in _point_stages())
    with connection.cursor() as cursor:
        cursor.execute(NATIONAL_SCHOOLS_SQL, {"provinces": provinces})
        for period in PERIODS:
            params = {"provinces": provinces, "period": period}
            cursor.execute(NATIONAL_SCHOOL_YEARS_SQL, params)
            cursor.execute(NATIONAL_POINTS_SQL.format(values=values), params)
            cursor.execute(NATIONAL_TARGETS_SQL, params)
            cursor.execute(NATIONAL_TOWNSHIPS_SQL, params)
    refresh_statistics()


# --- pages -----------------------------------------------------------------------------------


def bench_user() -> User:
    user, _ = User.objects.update_or_create(
        username="bench-dashboard", defaults={"role": Role.PROVINCE_STAFF, "unit_id": "37", "is_staff": True}
    )
    return user


def logged_in_client(user: User) -> Client:
    # A host the bench settings allow; the bench runs outside the test runner's "testserver".
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


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


# --- server and load -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Server:
    """gunicorn on loopback against the bench's database; stopped on exit, also on error."""

    def __init__(self, redis_url: str | None = None):
        self.port = _free_port()
        self.proc = None
        self.redis_url = redis_url  # None: no Redis (in-process tasks, local cache)

    def __enter__(self) -> Server:
        self.env = env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.bench",
            "DATABASE_URL": _database_url(),
            # The same key as this process, so the session logged in here is valid there.
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "LOG_LEVEL": "WARNING",
        }
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        else:
            env.pop("REDIS_URL", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(WORKERS), "--worker-class", "sync", "--log-level", "warning"],
            cwd=settings.BASE_DIR, env=env, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("gunicorn did not start answering /healthz")
            time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _client_process(port: int, path: str, cookie: str, start_at: float, measure_from: float, stop_at: float, queue) -> None:
    """THREADS closed-loop clients; a process per group of threads so one GIL does not pace them all."""
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

    threads = [threading.Thread(target=loop) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Only requests sent inside the window and answered before it closed count.
    window = [(lat, status) for sent, lat, status in results if sent >= measure_from and sent + lat <= stop_at]
    queue.put(window)


def load(port: int, path: str, cookie: str) -> dict:
    ctx = get_context("fork")
    queue = ctx.Queue()
    start_at = time.time() + 0.5
    measure_from, stop_at = start_at + WARMUP_S, start_at + WARMUP_S + MEASURE_S
    connections.close_all()  # the children must not share this process's database socket
    procs = [ctx.Process(target=_client_process, args=(port, path, cookie, start_at, measure_from, stop_at, queue)) for _ in range(PROCESSES)]
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
    with Server() as server:
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
