"""docker-compose.yml says what tests/test_topology.py runs: the same commands, settings, health
checks and nginx configuration, so the stack that is tested without Docker is the one shipped."""
import re

import yaml
from django.conf import settings

from tests.test_topology import BEAT, HEALTHCHECKS, MIGRATE_THEN_WEB, NGINX_VARIABLES, PORTAL_ENV, TEMPLATE, WEB, WORKER

BASE = settings.BASE_DIR
COMPOSE = yaml.safe_load((BASE / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_portals_services_run_the_tested_commands_and_health_checks():
    assert SERVICES["web"]["command"] == MIGRATE_THEN_WEB
    assert SERVICES["worker"]["command"] == WORKER
    assert SERVICES["beat"]["command"] == BEAT
    for name, check in HEALTHCHECKS.items():
        assert SERVICES[name]["healthcheck"]["test"] == check, name
    # The image's default command is the web's, and it collects static files at build.
    dockerfile = (BASE / "Dockerfile").read_text()
    assert re.search(r'^CMD \["gunicorn", "-c", "deploy/gunicorn.conf.py", "portal.wsgi:application"\]', dockerfile, re.M)
    assert "manage.py collectstatic --noinput" in dockerfile
    assert WEB[-1] == "portal.wsgi:application"


def test_the_portals_settings_are_the_tested_ones_and_only_nginx_is_trusted():
    nginx = SERVICES["nginx"]
    address = nginx["networks"]["portal"]["ipv4_address"]
    for name in ("web", "worker", "beat"):
        env = SERVICES[name]["environment"]
        assert {k: env[k] for k in PORTAL_ENV} == PORTAL_ENV, name
        assert env["PORTAL_TRUSTED_PROXIES"] == address == nginx["environment"]["NGINX_PROXY_ADDRESS"]
        assert "DATABASE_URL" in env and "REDIS_URL" in env and "DJANGO_SECRET_KEY" in env
    # The web health check asks with a host the portal accepts.
    assert SERVICES["web"]["environment"]["DJANGO_ALLOWED_HOSTS"]


def test_nginx_is_the_official_image_with_the_tested_template_and_the_only_published_port():
    nginx = SERVICES["nginx"]
    assert re.fullmatch(r"nginx:[\d.]+", nginx["image"])
    assert f"./deploy/{TEMPLATE.name}:/etc/nginx/templates/{TEMPLATE.name}:ro" in nginx["volumes"]
    assert set(nginx["environment"]) == NGINX_VARIABLES
    assert nginx["environment"]["PORTAL_UPSTREAM"] == "web:8000"
    assert {p.split(":")[-1] for p in nginx["ports"]} == {nginx["environment"]["NGINX_HTTPS_PORT"], nginx["environment"]["NGINX_HTTP_PORT"]}
    assert [name for name, service in SERVICES.items() if "ports" in service] == ["nginx"]
    assert any(v.endswith(":/etc/nginx/tls:ro") for v in nginx["volumes"])
    assert nginx["environment"]["TLS_CERTIFICATE"].startswith("/etc/nginx/tls/")


def test_a_nightly_backup_with_retention_runs_the_documented_script():
    backup = SERVICES["backup"]
    assert backup["command"] == ["bash", "/scripts/backup_nightly.sh", "/backups"]
    assert "./scripts:/scripts:ro" in backup["volumes"]
    assert int(re.search(r"\d+", str(backup["environment"]["BACKUP_KEEP_DAYS"])).group()) > 0
    nightly = (BASE / "scripts" / "backup_nightly.sh").read_text()
    assert '"$here/backup.sh"' in nightly and "BACKUP_KEEP_DAYS" in (BASE / "scripts" / "backup.sh").read_text()


def test_backup_retention_deletes_only_old_backups(tmp_path):
    import os
    import subprocess
    import time

    old, new, other = tmp_path / "portal-20200101-000000.dump", tmp_path / "portal-20991231-000000.dump", tmp_path / "notes.txt"
    for path in (old, new, other):
        path.write_text("x")
    os.utime(old, (time.time() - 30 * 86400,) * 2)
    os.utime(other, (time.time() - 30 * 86400,) * 2)
    # Only the retention step: pg_dump replaced by a stub that writes its file.
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "pg_dump").write_text('#!/bin/sh\nfor a in "$@"; do case "$a" in --file=*) : > "${a#--file=}";; esac; done\n')
    (stub / "pg_dump").chmod(0o755)
    env = {**os.environ, "PATH": f"{stub}:{os.environ['PATH']}", "DATABASE_URL": "postgres://x@127.0.0.1/x", "BACKUP_KEEP_DAYS": "14",
           "PORTAL_PRIVATE_MEDIA": str(tmp_path / "none")}
    out = subprocess.run(["bash", str(BASE / "scripts" / "backup.sh"), str(tmp_path)], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert not old.exists() and new.exists() and other.exists()
    assert len(list(tmp_path.glob("portal-*.dump"))) == 2  # the new one and the recent one


def _as_the_stack_sets_it(env: dict) -> dict:
    """The web service's environment with compose's ${VAR:?…} filled by a trial .env and
    ${VAR:-default} by its default."""
    trial = {"DJANGO_SECRET_KEY": "stack-" + "s" * 40 + "-Yq8#kP2!vL9@mN4$wR7%tZ1", "POSTGRES_PASSWORD": "trial-password",
             "DJANGO_ALLOWED_HOSTS": "portal.example.cn", "DJANGO_CSRF_TRUSTED_ORIGINS": "https://portal.example.cn"}

    def fill(match):
        name, op, rest = match.group(1), match.group(2), match.group(3)
        return trial.get(name, rest if op == ":-" else "")

    return {k: re.sub(r"\$\{(\w+)(:[?-])?([^}]*)\}", fill, str(v)) for k, v in env.items()}


def test_deploy_checks_pass_with_the_settings_the_stack_sets():
    import os
    import subprocess
    import sys

    env = _as_the_stack_sets_it(SERVICES["web"]["environment"])
    assert env["DATABASE_URL"] == "postgres://portal:trial-password@db:5432/portal"
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_", "DATABASE_URL", "REDIS_URL"))}
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=BASE,
                         env={**full, **env}, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout
