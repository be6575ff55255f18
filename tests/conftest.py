"""Two of everything (after RapidPro's org and org2): two cities, two counties in each, a user of
each role in each unit, and schools in every county, on top of Shandong's real geography."""
from dataclasses import dataclass

import pytest
from django.conf import settings

from tests.factories import SchoolFactory, UserFactory
from townships.models import Division, Role, School, Stage
from townships.services.divisions import load_divisions
from townships.services.pilots import load_aliases, load_pilot_batch

FIRST_BATCH = settings.BASE_DIR / "fixtures" / "pilots" / "batch-2021-1.txt"

CITY_A, CITY_B = "3708", "3702"  # 济宁市, 青岛市
COUNTIES = {CITY_A: ["370881", "370883"], CITY_B: ["370281", "370283"]}  # 曲阜 邹城 | 胶州 平度


def load_geography():
    load_divisions(provinces={"37"})
    load_aliases(path=settings.BASE_DIR / "fixtures" / "division_aliases.csv")
    report = load_pilot_batch(text=FIRST_BATCH.read_text(encoding="utf-8"), year=2021, name="首批", source_document="test")
    assert not report.unresolved


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_geography()


@pytest.fixture
def geography(db):
    # Transactional tests truncate every table when they end; put the geography back if so.
    if not Division.objects.filter(code="37").exists():
        load_geography()


@dataclass
class World:
    users: dict
    schools: dict  # county code -> list of School

    def user(self, key):
        return self.users[key]


@pytest.fixture
def world(geography):
    users = {
        "province": UserFactory(username="p_staff", role=Role.PROVINCE_STAFF, unit_id="37"),
        "inspector_a": UserFactory(username="insp_a", role=Role.INSPECTOR, unit_id=CITY_A),
        "inspector_b": UserFactory(username="insp_b", role=Role.INSPECTOR, unit_id=CITY_B),
    }
    schools = {}
    for city, counties in COUNTIES.items():
        users[f"city_{city}"] = UserFactory(username=f"c_{city}", role=Role.CITY_STAFF, unit_id=city)
        for county in counties:
            users[f"county_{county}"] = UserFactory(username=f"x_{county}", role=Role.COUNTY_OFFICER, unit_id=county)
            towns = list(Division.objects.filter(parent_id=county, kind="town").order_by("code")[:2])
            schools[county] = [
                SchoolFactory(code=f"7{county}{i:03d}", name=f"{t.name}学校{i}", township_id=t.code, stage=Stage.PRIMARY, is_seat=True)
                for i, t in enumerate(towns, start=1)
            ]
    return World(users=users, schools=schools)


def snapshot(*models):
    """The whole content of the given tables, to assert a refused request changed nothing."""
    return {m.__name__: sorted(m.objects.values_list(*[f.attname for f in m._meta.concrete_fields])) for m in models}


@pytest.fixture
def all_schools_snapshot():
    return lambda: snapshot(School)


@pytest.fixture
def worker_factory(transactional_db):
    """Start real Celery workers on Redis against the test database (REDIS_URL set, PostgreSQL);
    returns None on the embedded default, where tasks run eagerly in-process."""
    import os
    import subprocess
    import sys
    import time

    from django.db import connection

    from portal.celery import app

    procs = []
    if settings.CELERY_TASK_ALWAYS_EAGER:
        yield None
        return
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("a real worker needs a database shared between processes")
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    app.control.purge()

    def start(name="w1", **env):
        full_env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "portal.settings.test", **env}
        hostname = f"{name}-{os.getpid()}@%h"
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "-n", hostname, "--loglevel=WARNING"],
            cwd=settings.BASE_DIR,
            env=full_env,
        )
        procs.append(proc)
        deadline = time.monotonic() + 60
        while not any(name in key for reply in (app.control.ping(timeout=0.5) or []) for key in reply):
            assert proc.poll() is None, "the Celery worker exited"
            assert time.monotonic() < deadline, "the Celery worker did not answer within 60 s"
        return proc

    try:
        yield start
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        connection.close()


@pytest.fixture
def celery_worker(worker_factory):
    yield worker_factory() if worker_factory else None


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: the database rolls back between tests, so a results
    token can come back (see core.results_version) and must not meet an earlier test's pages."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the portal's default language (a request may have switched the thread's)."""
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield
