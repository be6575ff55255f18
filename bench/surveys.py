"""Bench: one township's parents' meeting. ANSWERS parents answer the satisfaction survey on
their phones within DURATION_S (3,000 in 4 minutes: inside the 5 the issue allows) from CLIENTS
concurrent clients on loopback against gunicorn — each client GETs its code's page, then POSTs the
answers; every DOUBLE_EVERY-th code is submitted twice at the same moment (a double tap).

Counted: any answer but the expected ones is an error (a page not 200, an answer not 302 to the
thanks page, a double tap that is not exactly one 302 and one 409); afterwards the database must
hold one answer per accepted POST (0 lost), one spent code per answer and no answer without its
code (0 counted twice), and the township's year the same valid count once counted.

Beside them, in the same run: the floor — the bare INSERT of one answer row (the ORM, in this
process, one transaction each) — and one parent answering alone. The server is
tests/support/live_server.py's gunicorn under bench.settings (Redis and a Celery worker with
REDIS_URL set, as in production). Every client shares 127.0.0.1, as a school's Wi-Fi would.

Sizes: BENCH_SURVEY_ANSWERS, BENCH_SURVEY_CLIENTS, BENCH_SURVEY_SECONDS (3000, 200, 240).
"""
from __future__ import annotations

import contextlib
import os
import random
import time
from datetime import timedelta

from django.db import connections, transaction
from django.utils import timezone

from bench.clients import SPAWN
from bench.framework import Figure
from bench.survey_clients import CHOICES, answer_code, client_process
from tests.support.live_server import Server, Worker

ANSWERS = int(os.environ.get("BENCH_SURVEY_ANSWERS", "3000"))
CLIENTS = int(os.environ.get("BENCH_SURVEY_CLIENTS", "200"))
DURATION_S = float(os.environ.get("BENCH_SURVEY_SECONDS", "240"))
PROCESSES = 8
DOUBLE_EVERY = 20
ALONE = 30
FLOOR_INSERTS = 300


def _print(line: str) -> None:
    print(f"  surveys: {line}", flush=True)


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q + 0.999999) - 1)] * 1000 if ordered else float("nan")


def prepare():
    """Shandong's divisions, ten schools in one 乡镇, the framework, the default questionnaires and
    a window with one code per expected answer (and the parent alone's)."""
    from evaluation.services.framework import load_framework
    from surveys.services.questionnaires import load_questionnaires
    from surveys.services.windows import open_window
    from townships.jurisdiction import resolve_jurisdiction
    from townships.models import Division, Role, School, Stage, User
    from townships.services.divisions import load_divisions

    if not Division.objects.filter(code="37").exists():
        load_divisions(provinces={"37"})
    load_framework()
    parents = load_questionnaires()[0]
    town = Division.objects.filter(parent_id="370881", kind="town").order_by("code").first()
    schools = [School.objects.get_or_create(code=f"S{town.code[-6:]}{i:02d}", defaults={"name": f"{town.name}第{i}学校", "stage": Stage.PRIMARY, "township": town})[0]
               for i in range(10)]
    officer, _ = User.objects.get_or_create(username="bench_survey_county", defaults={"role": Role.COUNTY_OFFICER, "unit_id": "370881"})
    total = ANSWERS + ALONE
    targets = {s.pk: total // len(schools) + (1 if i < total % len(schools) else 0) for i, s in enumerate(schools)}
    now = timezone.now()
    window = open_window(user=officer, jurisdiction=resolve_jurisdiction(officer), township_code=town.code, questionnaire=parents, period=2024,
                         opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(hours=2), targets=targets)
    codes = list(window.codes.values_list("code", flat=True))
    random.Random(20).shuffle(codes)
    return window, codes[:ALONE], codes[ALONE:]


def meeting(port: int, codes: list[str]) -> tuple[list[tuple], float]:
    """CLIENTS clients, each with its share of the codes at random moments of DURATION_S."""
    rng = random.Random(2026)
    per_client: list[list[tuple[str, float, bool]]] = [[] for _ in range(CLIENTS)]
    for i, code in enumerate(codes):
        per_client[i % CLIENTS].append((code, rng.uniform(0, DURATION_S * 0.95), i % DOUBLE_EVERY == 0))
    for mine in per_client:
        mine.sort(key=lambda job: job[1])
    groups = [per_client[i::PROCESSES] for i in range(PROCESSES)]
    queue = SPAWN.Queue()
    connections.close_all()  # the children must not share this process's database socket
    start_at = time.time() + 5.0  # a spawned interpreter takes a moment to start; all begin together
    procs = [SPAWN.Process(target=client_process, args=(port, group, start_at, queue)) for group in groups]
    for p in procs:
        p.start()
    rows = [row for _ in procs for row in queue.get(timeout=DURATION_S + 600)]
    for p in procs:
        p.join()
    return rows, time.time() - start_at


def check(rows: list[tuple]) -> tuple[list[str], set[str]]:
    """Unexpected answers, and the codes whose answer the server accepted."""
    errors, accepted = [], set()
    doubles: dict[str, list[int]] = {}
    for kind, code, status, location, _seconds in rows:
        if kind == "page" and status != 200:
            errors.append(f"GET {code}: {status} {location}")
        elif kind == "answer":
            if status == 302 and location.endswith("/s/done/"):
                accepted.add(code)
            else:
                errors.append(f"POST {code}: {status} {location}")
        elif kind == "double":
            doubles.setdefault(code, []).append(status)
    for code, statuses in doubles.items():
        if sorted(statuses) == [302, 409]:
            accepted.add(code)
        else:
            errors.append(f"double tap {code}: {statuses}")
    return errors, accepted


def floor_insert_s(window) -> list[float]:
    """The bare INSERT of one answer row, each in its own transaction (what an answer cannot be
    cheaper than), into a throwaway copy of the figures' school."""
    from surveys.models import Answer

    school_id = window.codes.values_list("school_id", flat=True).first()
    times = []
    for i in range(FLOOR_INSERTS):
        t0 = time.perf_counter()
        with transaction.atomic():
            Answer.objects.create(window=window, school_id=school_id, questionnaire_id=window.questionnaire_id, submitted_at=timezone.now(),
                                  answers={"1": CHOICES[i % 5]}, satisfied=True, sheet="floor")
        times.append(time.perf_counter() - t0)
    Answer.objects.filter(sheet="floor").delete()
    return times


def survey_figures(scale: str) -> list[Figure]:
    from evaluation.models import TownshipYear
    from surveys.models import Answer, AnswerCode
    from surveys.services.counting import count_window

    window, alone_codes, codes = prepare()
    floor = floor_insert_s(window)
    redis_url = os.environ.get("REDIS_URL")
    with Server(redis_url=redis_url, settings_module="bench.settings") as server:
        worker = Worker(server.env) if redis_url else None
        with worker or contextlib.nullcontext():
            _print(f"gunicorn on 127.0.0.1:{server.port}, " + ("Redis + a Celery worker" if redis_url else "tasks in-process (no REDIS_URL)"))
            box: list = [None]
            alone_rows = [row for code in alone_codes for row in answer_code(server.port, code, random.Random(code), False, box)]
            _print(f"{len(codes)} answers from {CLIENTS} clients within {DURATION_S:g} s; every {DOUBLE_EVERY}th a double tap")
            rows, took = meeting(server.port, codes)
    errors, accepted = check(rows)
    alone_errors, alone_accepted = check(alone_rows)
    errors += alone_errors
    accepted |= alone_accepted
    count_started = time.perf_counter()
    count_window(window_id=window.pk)
    count_s = time.perf_counter() - count_started
    stored = Answer.objects.filter(window=window).count()
    spent = AnswerCode.objects.filter(window=window, spent_at__isnull=False).count()
    row = TownshipYear.objects.get(township_id=window.township_id, period=window.period)
    lost = len(accepted) - stored if stored < len(accepted) else 0
    twice = max(0, stored - spent) + max(0, stored - len(accepted)) + abs(row.parent_surveys_valid - stored)
    for e in errors[:10]:
        _print("error: " + e)
    answer_s = [s for kind, _c, st, _l, s in rows if kind in ("answer", "double") and st in (302, 409)]
    page_s = [s for kind, _c, _st, _l, s in rows if kind == "page"]
    alone_s = [s for kind, _c, _st, _l, s in alone_rows if kind == "answer"]
    _print(f"{len(accepted)} accepted in {took:.1f} s; stored {stored}, codes spent {spent}, township valid {row.parent_surveys_valid}")
    _print(f"answer p50 {_ms(answer_s, .5):.1f} ms p95 {_ms(answer_s, .95):.1f} ms; page p95 {_ms(page_s, .95):.1f} ms; "
           f"alone p50 {_ms(alone_s, .5):.1f} ms; floor INSERT p50 {_ms(floor, .5):.2f} ms p95 {_ms(floor, .95):.2f} ms")
    figures = [
        Figure("surveys answer p95", _ms(answer_s, .95), "ms", _ms(floor, .95), "bare INSERT of one answer p95"),
        Figure("surveys answer p50", _ms(answer_s, .5), "ms", _ms(alone_s, .5), "one parent alone p50"),
        Figure("surveys page p95", _ms(page_s, .95), "ms"),
        Figure("surveys answers per s", len(accepted) / took if took else 0, "1/s", higher_is_better=True),
        Figure("surveys meeting duration", took, "s", 300.0, "the 5 minutes allowed"),
        Figure("surveys errors", len(errors), "count"),
        Figure("surveys lost", lost, "count"),
        Figure("surveys counted twice", twice, "count"),
        Figure("surveys count window", count_s, "s"),
    ]
    if errors or lost or twice or stored != len(accepted) or took > 300:
        raise RuntimeError(f"surveys bench failed: {len(errors)} errors, {lost} lost, {twice} counted twice, {stored} stored of {len(accepted)} accepted, {took:.0f} s")
    if _ms(answer_s, .95) > 300:
        _print(f"answer p95 {_ms(answer_s, .95):.1f} ms is above the 300 ms asked")
    return figures
