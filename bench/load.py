"""Bench: the portal at a working day's peak, on loopback. BROWSERS users of every level browse
their pages for DURATION_S (each waits THINK_S between pages, as people do); meanwhile INSPECTORS
inspectors, each the lead of a township's team in a fresh round, save their whole form at once
and then submit it at the same moment — twice, as a double click or a retry after a timeout does.

Counted: every answer but the expected ones is an error (a page or save not 200, a submit pair
that is not exactly one 200 and one 409 "already submitted"); afterwards the database must hold
each form submitted exactly once (one submit event, one audit record) and, once the queued
roll-ups have run, the team's judgments in the township's results — nothing lost, nothing twice.

Baselines, in the same run on the same server: the same pages fetched by one user alone, and one
inspector saving and submitting alone (a form of the same round). The driver and its checks are
tests/support/load.py (tests/test_concurrency.py runs them small); the server is
tests/support/live_server.py's gunicorn under bench.settings; with REDIS_URL set it runs with
Redis (cache and broker) and a Celery worker, as in production, otherwise tasks run in-process.
PostgreSQL only: many processes write at once.
"""
from __future__ import annotations

import contextlib
import json
import os
import time

from django.db import connection

from bench.dashboard_data import prepare_shandong
from bench.framework import Figure, GroupFailed
from evaluation.rollup import rollup_all
from evaluation.services.rollup_jobs import recomputation_held_back
from tests.support.live_server import Server, Worker
from tests.support.load import PERIOD, THINK_S, Answers, browsing_users, inspect, inspector_forms, peak, percentile, request, rolled_up, submissions

INSPECTORS, BROWSERS = 50, 100
DURATION_S, SAVE_AT_S, SUBMIT_AT_S = 60.0, 15.0, 25.0
ROLLUP_WAIT_S = 180
SAVES_ALONE = 20


def _print(line: str) -> None:
    print(f"  load: {line}", flush=True)


def _ms(values: list[float], q: float) -> float:
    return percentile(values, q) * 1000 if values else float("nan")


def _saves_alone(port: int, cookie: str, form_id: int, answers: Answers, times: int = SAVES_ALONE) -> None:
    """One inspector alone autosaving a comment, as the page does while they type: the save's
    own cost, with nothing else on the server."""
    status, body, _ = request(port, "GET", f"/api/forms/{form_id}/", cookie)
    if status != 200:
        answers.errors.append(f"alone open {form_id}: {status}")
        return
    form = json.loads(body)
    version, point = form["version"], form["judgments"][0]["point"]
    for i in range(times):
        status, body, seconds = request(port, "POST", f"/api/forms/{form_id}/save/", cookie, {"version": version, "answers": {point: {"comment": f"第{i}次保存"}}})
        answers.add("save_alone", seconds, None if status == 200 else f"alone save {form_id}: {status} {body[:160]}")
        if status != 200:
            return
        version = json.loads(body)["version"]


def load_figures(scale: str) -> list[Figure]:
    if connection.vendor != "postgresql":
        _print("needs PostgreSQL (many processes write at once); skipped")
        return []
    prepare_shandong()
    users = browsing_users(BROWSERS)
    # Setting up is not the peak: the fresh round's own results (every county of the year) are
    # computed here, before the server starts, not queued to the worker — which would otherwise
    # recompute the province all through the baselines "alone" and the peak (its queue still
    # held work after the run).
    with recomputation_held_back():
        inspectors = inspector_forms(INSPECTORS + 1)
    rollup_all(period=PERIOD, prefix="37")
    alone_inspector, inspectors = inspectors[0], inspectors[1:]
    redis_url = os.environ.get("REDIS_URL")
    with Server(redis_url=redis_url, settings_module="bench.settings") as server:
        worker = Worker(server.env) if redis_url else None
        with worker or contextlib.nullcontext():
            _print(f"gunicorn on 127.0.0.1:{server.port}, " + ("Redis + a Celery worker" if redis_url else "tasks in-process (no REDIS_URL)"))
            # Baselines: the same pages by one user alone; one inspector alone.
            alone = Answers()
            for _ in range(3):
                for c, p in users[:: BROWSERS // 10]:
                    for path in p:
                        status, body, seconds = request(server.port, "GET", path, c)
                        alone.add("browse", seconds, None if status == 200 else f"alone GET {path}: {status}")
            _saves_alone(server.port, *alone_inspector, alone)
            now = time.time()
            inspect(server.port, alone_inspector[0], alone_inspector[1], now, now, alone)
            _print(f"{INSPECTORS} inspectors and {BROWSERS} users for {DURATION_S:g} s (think {THINK_S[0]:g}–{THINK_S[1]:g} s); saves at {SAVE_AT_S:g} s, double submits at {SUBMIT_AT_S:g} s")
            answers = peak(server.port, users, inspectors, DURATION_S, SAVE_AT_S, SUBMIT_AT_S)
            form_ids = [pk for _, pk in inspectors] + [alone_inspector[1]]
            held = submissions(form_ids)
            done = rolled_up(form_ids, ROLLUP_WAIT_S)
    errors = alone.errors + answers.errors
    for e in errors[:10]:
        _print("error: " + e)
    browse_ms, submit_ms, save_ms = answers.latencies.get("browse", []), answers.latencies.get("submit", []), answers.latencies.get("save", [])
    _print(f"browse {len(browse_ms)} pages p50 {_ms(browse_ms, .5):.1f} ms p95 {_ms(browse_ms, .95):.1f} ms; alone p50 {_ms(alone.latencies['browse'], .5):.1f} ms")
    started = min(sent for sent, _, _ in answers.pages)
    for name, (lo, hi) in {"before the saves": (0, SAVE_AT_S), "saves and submits": (SAVE_AT_S, SUBMIT_AT_S + 10), "after": (SUBMIT_AT_S + 10, DURATION_S)}.items():
        window = [s for sent, _, s in answers.pages if lo <= sent - started + 1.0 < hi]
        _print(f"  {name:<18} {len(window):5d} pages p50 {_ms(window, .5):8.1f} ms p95 {_ms(window, .95):8.1f} ms")
    for page in sorted({p for _, p, _ in answers.pages}):
        window = [s for _, p, s in answers.pages if p == page]
        _print(f"  {page:<32} {len(window):5d} pages p50 {_ms(window, .5):8.1f} ms p95 {_ms(window, .95):8.1f} ms")
    _print(f"save {len(save_ms)} p50 {_ms(save_ms, .5):.1f} p95 {_ms(save_ms, .95):.1f} ms; submit {len(submit_ms)} p50 {_ms(submit_ms, .5):.1f} p95 {_ms(submit_ms, .95):.1f} ms")
    _print(f"database: {held}; rolled up {done}/{len(form_ids)}")
    alone_browse, alone_submit = alone.latencies["browse"], alone.latencies["submit"] + alone.latencies["save"]
    label = f"{BROWSERS} users + {INSPECTORS} inspectors, {DURATION_S:g} s"
    figures = [
        Figure("load.browse_p50_ms", _ms(browse_ms, .5), "ms", _ms(alone_browse, .5), "same pages, one user alone; " + label),
        Figure("load.browse_p95_ms", _ms(browse_ms, .95), "ms", _ms(alone_browse, .95), "same pages, one user alone; " + label),
        Figure("load.save_submit_p50_ms", _ms(save_ms + submit_ms, .5), "ms", _ms(alone_submit, .5), f"one inspector alone; {INSPECTORS} saving, then double-submitting at once"),
        Figure("load.save_submit_p95_ms", _ms(save_ms + submit_ms, .95), "ms", _ms(alone_submit, .95), f"one inspector alone; {INSPECTORS} saving, then double-submitting at once"),
        Figure("load.save_alone_p50_ms", _ms(alone.latencies.get("save_alone", []), .5), "ms", None,
               f"one inspector alone autosaving a comment {SAVES_ALONE} times over HTTP (p95 {_ms(alone.latencies.get('save_alone', []), .95):.1f} ms); target ≤ 20"),
        Figure("load.browse_p95_vs_alone", _ms(browse_ms, .95) / _ms(alone_browse, .95), "×", None, "browse p95 under load ÷ alone; target ≤ 4"),
        Figure("load.pages_served", len(browse_ms), "pages", None, f"{len(browse_ms) / DURATION_S:.1f} pages/s from {BROWSERS} users"),
        Figure("load.errors", len(errors), "answers", None, "anything but 200 (and one 409 per double submit); target 0"),
        Figure("load.submissions_lost", held["lost"], "forms", None, f"of {len(form_ids)}; target 0"),
        Figure("load.submissions_duplicated", held["duplicated"], "forms", None, f"submit events {held['events']}, audit records {held['audits']} for {len(form_ids)} forms; target 0"),
        Figure("load.rolled_up", done, "townships", None, f"of {len(form_ids)} submitted, judgments in the results within {ROLLUP_WAIT_S} s"),
    ]
    if errors or held["lost"] or held["duplicated"] or held["events"] != len(form_ids) or held["audits"] != len(form_ids) or done != len(form_ids):
        raise GroupFailed(f"load: {len(errors)} errors, {held}, rolled up {done}/{len(form_ids)}", figures)
    return figures
