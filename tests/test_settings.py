"""Settings per environment, and the compose file that deploys them."""
import os
import subprocess
import sys

import yaml
from django.conf import settings

BASE = settings.BASE_DIR
PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.DEBUG)"
)


def run_settings(module, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY")}
    clean.update(DJANGO_SETTINGS_MODULE=module, **env)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=BASE, env=clean, capture_output=True, text=True, timeout=60)


def test_embedded_default_needs_no_server():
    out = run_settings("portal.settings.local")
    assert out.returncode == 0, out.stderr
    engine, eager, broker, debug = out.stdout.split()
    assert engine == "django.db.backends.sqlite3" and eager == "True" and broker == "memory://"


def test_service_urls_switch_to_postgres_and_a_real_worker():
    out = run_settings("portal.settings.local", DATABASE_URL="postgres://u@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/3")
    assert out.returncode == 0, out.stderr
    engine, eager, broker, _debug = out.stdout.split()
    assert engine == "django.db.backends.postgresql" and eager == "False" and broker == "redis://127.0.0.1:6379/3"


def test_production_refuses_to_start_without_a_secret_key():
    out = run_settings("portal.settings.production", DATABASE_URL="postgres://u@h/x", REDIS_URL="redis://h:6379/0")
    assert out.returncode != 0 and "DJANGO_SECRET_KEY" in out.stderr
    weak = run_settings("portal.settings.production", DJANGO_SECRET_KEY="short", DATABASE_URL="postgres://u@h/x", REDIS_URL="redis://h:6379/0")
    assert weak.returncode != 0 and "DJANGO_SECRET_KEY" in weak.stderr


def test_production_starts_with_its_environment():
    out = run_settings(
        "portal.settings.production",
        DJANGO_SECRET_KEY="x" * 30 + "-Yq8#kP2!vL9@mN4$wR7%tZ1",
        DATABASE_URL="postgres://u@h/x",
        REDIS_URL="redis://h:6379/0",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[3] == "False"  # DEBUG off


def test_compose_names_every_service_the_settings_need():
    compose = yaml.safe_load((BASE / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"web", "worker", "beat", "db", "redis"} <= set(services)
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "portal.settings.production"
        # Every variable production settings insist on is provided, pointing at the compose services.
        assert "@db:5432/" in env["DATABASE_URL"] and env["REDIS_URL"].startswith("redis://redis:6379")
        assert "DJANGO_SECRET_KEY" in env
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert "worker" in services["worker"]["command"] and "beat" in services["beat"]["command"]
    for name in services:
        assert "healthcheck" in services[name], name
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "pgdata" in compose["volumes"]


def test_dependencies_are_pinned_and_locked():
    import tomllib

    project = tomllib.loads((BASE / "pyproject.toml").read_text())["project"]
    lock = {}
    for line in (BASE / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[name.lower().replace("_", "-")] = version
    for dep in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name, version = dep.split("==")
        name = name.split("[")[0].lower().replace("_", "-")
        assert lock.get(name) == version, dep
