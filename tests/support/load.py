"""The load driver over HTTP: users of every level browsing their pages while inspectors, each the
lead of a township's team in a fresh round, save their whole form at once and then submit it at
the same moment — twice, as a double click or a retry after a timeout does — and the checks of
what the database holds afterwards. tests/test_concurrency.py runs it small against the live
server; the bench's `load` group runs the full peak (bench/load.py).

Counted: every answer but the expected ones is an error (a page or save not 200, a submit pair
that is not exactly one 200 and one 409 "already submitted"); afterwards the database must hold
each form submitted exactly once (one submit event, one audit record) and, once the queued
roll-ups have run, the team's judgments in the township's results — nothing lost, nothing twice.
"""
from __future__ import annotations

import http.client
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field

from django.db import connections

from evaluation.models import FormEvent, FormStatus, InspectionForm, JudgmentLevel, ObservationPoint, PointResult, SourceKind
from evaluation.rollup import current_framework
from evaluation.services.forms import assign_team, create_round
from security.models import AuditEvent
from tests.support.live_server import session_cookie
from townships.models import Division, Level, Role, School, User

THINK_S = (1.0, 3.0)
PERIOD = 2024
# A CSRF secret of the client's own choosing, sent as cookie and header, as a browser's script does.
CSRF = "benchloadcsrfsecret0123456789abc"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q + 0.999999) - 1)]


@dataclass
class Answers:
    """Latencies (s) by kind and every unexpected answer, shared by the client threads."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    pages: list[tuple[float, str, float]] = field(default_factory=list)  # (sent at, page, seconds)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if error:
                self.errors.append(error)


def request(port: int, method: str, path: str, cookie: str, body: dict | None = None) -> tuple[int, str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": f"{cookie}; csrftoken={CSRF}", "Accept-Language": "zh-hans"}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers.update({"Content-Type": "application/json", "X-CSRFToken": CSRF})
    started = time.perf_counter()
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        return response.status, text, time.perf_counter() - started
    except (OSError, http.client.HTTPException) as exc:
        return 0, repr(exc), time.perf_counter() - started
    finally:
        conn.close()


# --- who ---------------------------------------------------------------------------------------


def bench_user() -> User:
    """The provincial staff who creates the rounds (and, in the bench, watches the dashboard)."""
    user, _ = User.objects.update_or_create(
        username="bench-dashboard", defaults={"role": Role.PROVINCE_STAFF, "unit_id": "37", "is_staff": True}
    )
    return user


def _first_town(prefix: str) -> str:
    return Division.objects.filter(level=Level.TOWNSHIP, code__startswith=prefix, kind__in=("town", "xiang")).order_by("code").values_list("code", flat=True)[0]


def browsing_users(count: int) -> list[tuple[str, list[str]]]:
    """(session cookie, pages) per user: a tenth provincial staff, three tenths city staff, the
    rest county officers, spread over Shandong's cities and counties, each with their own pages."""
    cities = list(Division.objects.filter(level=Level.CITY, code__startswith="37").order_by("code").values_list("code", flat=True))
    counties = list(Division.objects.filter(level=Level.COUNTY, code__startswith="37", children__kind__in=("town", "xiang")).distinct().order_by("code").values_list("code", flat=True))
    users = []
    for n in range(count):
        if n < count // 10:
            role, unit = Role.PROVINCE_STAFF, "37"
        elif n < count * 4 // 10:
            role, unit = Role.CITY_STAFF, cities[n % len(cities)]
        else:
            role, unit = Role.COUNTY_OFFICER, counties[(n * 7) % len(counties)]
        user, _ = User.objects.update_or_create(username=f"bench-load-{n:03d}", defaults={"role": role, "unit_id": unit, "is_staff": True})
        town = _first_town(unit)
        pages = ["/", "/dashboard/", f"/dashboard/township/{town}/", "/api/schools/?limit=50", "/workflow/rectification/"]
        if role == Role.COUNTY_OFFICER:
            pages += ["/data/", "/api/school-years/?limit=50"]
        users.append((session_cookie(user), pages))
    return users


def inspector_forms(count: int) -> list[tuple[str, int]]:
    """(session cookie, form id) for `count` inspectors, each the lead of one township's team in a
    new round (a new one each run, so every run submits fresh forms)."""
    towns = list(
        School.objects.filter(township__code__startswith="37", is_seat=True).order_by("township_id").values_list("township_id", flat=True).distinct()
    )
    step = max(1, len(towns) // count)
    chosen = towns[::step][:count]
    assert len(chosen) == count, f"only {len(chosen)} townships with schools"
    rnd = create_round(name=f"负载测试 {time.strftime('%Y-%m-%d %H:%M:%S')}", period=PERIOD, framework=current_framework(),
                       township_codes=chosen, created_by=bench_user())
    result = []
    for n, town in enumerate(chosen):
        user, _ = User.objects.update_or_create(username=f"bench-inspector-{n:03d}", defaults={"role": Role.INSPECTOR, "unit_id": town[:4]})
        form = assign_team(round=rnd, township_code=town, inspectors=[user], lead=user)
        result.append((session_cookie(user), form.pk))
    return result


# --- what they do ------------------------------------------------------------------------------


def browse(port: int, cookie: str, pages: list[str], seed: int, stop_at: float, answers: Answers, kind: str = "browse") -> None:
    rng = random.Random(seed)
    time.sleep(rng.uniform(0, THINK_S[1]))  # people arrive over the first seconds, not all at once
    while time.time() < stop_at:
        path = rng.choice(pages)
        sent = time.time()
        status, body, seconds = request(port, "GET", path, cookie)
        answers.add(kind, seconds, None if status == 200 else f"GET {path}: {status} {body[:120]}")
        with answers.lock:
            answers.pages.append((sent, re.sub(r"\d{6,}", "…", path), seconds))
        time.sleep(rng.uniform(*THINK_S))


def inspect(port: int, cookie: str, form_id: int, save_at: float, submit_at: float, answers: Answers, prefix: str = "") -> None:
    """Open the form, give every point a level, save; at `submit_at` submit it twice at once."""
    status, body, seconds = request(port, "GET", f"/api/forms/{form_id}/", cookie)
    answers.add(prefix + "open", seconds, None if status == 200 else f"open {form_id}: {status} {body[:120]}")
    if status != 200:
        return
    form = json.loads(body)
    levels = [JudgmentLevel.ATTAINED, JudgmentLevel.ATTAINED, JudgmentLevel.NOT_ATTAINED]
    plan = {j["point"]: {"level": levels[i % 3], "comment": "现场核查"} for i, j in enumerate(form["judgments"])}
    _wait_until(save_at)
    status, body, seconds = request(port, "POST", f"/api/forms/{form_id}/save/", cookie, {"version": form["version"], "answers": plan})
    answers.add(prefix + "save", seconds, None if status == 200 else f"save {form_id}: {status} {body[:160]}")
    if status != 200:
        return
    version = json.loads(body)["version"]
    _wait_until(submit_at)
    pair: list[tuple[int, str, float]] = []

    def submit():
        pair.append(request(port, "POST", f"/api/forms/{form_id}/submit/", cookie, {"version": version}))

    clicks = [threading.Thread(target=submit) for _ in range(2)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    statuses = sorted(s for s, _, _ in pair)
    for _status, _body, seconds in pair:
        answers.add(prefix + "submit", seconds)
    if statuses != [200, 409]:
        answers.errors.append(f"submit {form_id}: {statuses} {[b[:120] for _, b, _ in pair]}")


def _wait_until(moment: float) -> None:
    while time.time() < moment:
        time.sleep(min(0.05, max(0.0, moment - time.time())))


def peak(port: int, users: list[tuple[str, list[str]]], inspectors: list[tuple[str, int]], duration: float, save_at: float, submit_at: float) -> Answers:
    """Everyone at once: each user and each inspector a thread of this process (they wait on the
    network almost all the time, so one process drives them)."""
    answers = Answers()
    start = time.time() + 1.0
    threads = [threading.Thread(target=browse, args=(port, cookie, pages, n, start + duration, answers)) for n, (cookie, pages) in enumerate(users)]
    threads += [threading.Thread(target=inspect, args=(port, cookie, form_id, start + save_at, start + submit_at, answers)) for cookie, form_id in inspectors]
    connections.close_all()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 300)
    return answers


# --- checks ------------------------------------------------------------------------------------


def submissions(form_ids: list[int]) -> dict[str, int]:
    """What the database holds of the submitted forms: each submitted, exactly once."""
    forms = InspectionForm.objects.filter(pk__in=form_ids)
    events = {pk: n for pk, n in _count(FormEvent.objects.filter(form_id__in=form_ids, action="submit"), "form_id").items()}
    audits = _count(AuditEvent.objects.filter(action="form_submit", target__in=[f"inspection-form:{pk}" for pk in form_ids]), "target")
    return {
        "forms": len(form_ids),
        "submitted": forms.filter(status=FormStatus.SUBMITTED).count(),
        "lost": len(form_ids) - forms.filter(status=FormStatus.SUBMITTED).count(),
        "duplicated": sum(1 for n in events.values() if n > 1) + sum(1 for n in audits.values() if n > 1),
        "events": sum(events.values()),
        "audits": sum(audits.values()),
    }


def _count(queryset, column: str) -> dict:
    from django.db.models import Count

    return dict(queryset.values_list(column).annotate(n=Count("id")).values_list(column, "n"))


def rolled_up(form_ids: list[int], wait_s: float) -> int:
    """How many of the submitted townships have every judgment of their form in the results (the
    roll-up runs after the commit, on the worker or in-process); waits up to `wait_s`."""
    forms = list(InspectionForm.objects.filter(pk__in=form_ids).values_list("township_id", "round_id", "round__framework_id"))
    points = {fw: ObservationPoint.objects.filter(target__framework_id=fw, source_kind=SourceKind.JUDGMENT).count() for _, _, fw in forms}
    judged = ("attained", "basic", "not_attained")
    deadline = time.monotonic() + wait_s
    while True:
        done = sum(
            1 for town, rnd, fw in forms
            if PointResult.objects.filter(division_code=town, round_key=rnd, period=PERIOD, verdict__in=judged).count() == points[fw]
        )
        if done == len(forms) or time.monotonic() > deadline:
            return done
        time.sleep(1)
