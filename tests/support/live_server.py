"""A live portal over real HTTP, for the tests that need one (tests/test_concurrency.py) and the
bench's `dashboard` and `load` groups: gunicorn on a free loopback port against this process's
database, a Celery worker beside it, and sessions logged in here that it accepts.

The server runs tests/support/live_settings.py unless told otherwise (the bench passes
bench.settings, which adds its floor view)."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.test import Client

from townships.models import User

LIVE_SETTINGS = "tests.support.live_settings"
WORKERS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Server:
    """gunicorn on loopback against this process's database; stopped on exit, also on error."""

    def __init__(self, redis_url: str | None = None, settings_module: str = LIVE_SETTINGS, workers: int = WORKERS):
        self.port = free_port()
        self.proc = None
        self.redis_url = redis_url  # None: no Redis (in-process tasks, local cache)
        self.settings_module, self.workers = settings_module, workers

    def __enter__(self) -> Server:
        self.env = env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "DATABASE_URL": database_url(),
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
             "--workers", str(self.workers), "--worker-class", "sync", "--log-level", "warning"],
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


class Worker:
    """A Celery worker on the server's broker and database (pass `Server.env`), as production runs
    beside the web."""

    def __init__(self, env: dict):
        self.env, self.proc = env, None

    def __enter__(self) -> Worker:
        self.proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "--loglevel=WARNING", "-n", f"bench-{os.getpid()}@%h"],
                                     cwd=settings.BASE_DIR, env=self.env, start_new_session=True)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def logged_in_client(user: User) -> Client:
    # A host the live settings allow; this runs outside the test runner's "testserver".
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def session_cookie(user: User) -> str:
    """A Cookie header value for a fresh session of `user`, valid on the live server."""
    return f"{settings.SESSION_COOKIE_NAME}={logged_in_client(user).cookies[settings.SESSION_COOKIE_NAME].value}"
