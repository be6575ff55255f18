"""A web worker does its imports as it starts (portal/warmup.py), not on its first requests — and
starts even when the broker is down, since nothing there connects."""
import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import json, sys, time
started = time.monotonic()
import portal.wsgi  # what gunicorn loads in each worker
from celery import current_app
from django.urls import get_resolver
print(json.dumps({
    "urlconf_loaded": "url_patterns" in get_resolver().__dict__,
    "views_imported": "evaluation.api_forms" in sys.modules,
    "tasks_registered": "evaluation.tasks.rollup_county_task" in current_app.tasks,
    "eager": current_app.conf.task_always_eager,
    "transport_imported": "kombu.transport.redis" in sys.modules,
    "seconds": time.monotonic() - started,
}))
"""


def test_a_web_worker_imports_its_views_and_task_machinery_as_it_starts_even_with_the_broker_down():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.support.live_settings",
           # Nothing listens on port 1: had the warm-up connected, the worker would not start (or would wait).
           "REDIS_URL": "redis://127.0.0.1:1/0", "DATABASE_URL": f"sqlite:///{settings.BASE_DIR / 'var' / 'warmup-probe.sqlite3'}"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["eager"] is False
    assert probe["urlconf_loaded"] and probe["views_imported"] and probe["tasks_registered"] and probe["transport_imported"], probe
    assert probe["seconds"] < 60, probe  # no connection attempt waited out its retries
