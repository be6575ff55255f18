"""The production stack without Docker: Debian's nginx with a generated certificate in front of
gunicorn running portal.settings.production on a PostgreSQL database of its own, a Celery worker
and beat — started with the commands, settings and health checks of docker-compose.yml
(tests/test_compose.py holds the compose file to the constants here, so the two cannot drift).
Chromium then opens the portal over HTTPS as the provisioned administrator (TOTP code from pyotp),
every request of the dashboard answers 200, an upload is rolled up by the worker, and the audit log
holds the client's address, not one a client forged.

Runs in CI's PostgreSQL pass; skipped without nginx, PostgreSQL (DATABASE_URL) or Redis."""
from __future__ import annotations

import os
import re
import shutil
import socket
import string
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyotp
import pytest
from django.conf import settings

from tests import import_files as f

BASE = settings.BASE_DIR
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TEMPLATE = BASE / "deploy" / "portal.conf.template"

# What docker-compose.yml runs (tests/test_compose.py checks it says exactly this).
WEB = ["gunicorn", "-c", "deploy/gunicorn.conf.py", "portal.wsgi:application"]
MIGRATE_THEN_WEB = ["sh", "-c", "python manage.py migrate --noinput && exec " + " ".join(WEB)]
WORKER = ["celery", "-A", "portal", "worker", "--loglevel=INFO", "--concurrency=2"]
BEAT = ["celery", "-A", "portal", "beat", "--loglevel=INFO"]
HEALTHCHECKS = {
    "web": ["CMD", "python", "deploy/healthcheck.py"],
    "worker": ["CMD-SHELL", "celery -A portal inspect ping -d celery@$$HOSTNAME --timeout 5"],
    "beat": ["CMD", "python", "manage.py", "beat_alive", "--max-age", "300"],
}
PORTAL_ENV = {"DJANGO_SETTINGS_MODULE": "portal.settings.production", "PORTAL_LOG_FORMAT": "json"}
NGINX_VARIABLES = {"PORTAL_UPSTREAM", "NGINX_HTTPS_PORT", "NGINX_HTTP_PORT", "NGINX_PROXY_ADDRESS", "TLS_CERTIFICATE", "TLS_CERTIFICATE_KEY"}
# nginx reaches gunicorn from this address (proxy_bind), the browser comes from 127.0.0.1: so the
# portal trusting only the proxy is seen to matter.
PROXY_ADDRESS = "127.0.0.2"

pytestmark = [pytest.mark.topology, pytest.mark.browser]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _argv(command: list[str]) -> list[str]:
    """The compose command as run here: this interpreter for python, gunicorn and celery."""
    head, *rest = command
    return {"python": [sys.executable], "gunicorn": [sys.executable, "-m", "gunicorn"], "celery": [sys.executable, "-m", "celery"]}[head] + rest


def render_nginx(values: dict) -> str:
    """envsubst as the official image does it: only the named variables, nginx's own $vars stay."""
    assert set(values) == NGINX_VARIABLES
    return string.Template(TEMPLATE.read_text()).safe_substitute(values)


def _requirements():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("the production topology needs PostgreSQL (DATABASE_URL)")
    if not os.environ.get("REDIS_URL"):
        pytest.skip("the production topology needs Redis (REDIS_URL)")
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (apt-get install nginx)")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    return url


@contextmanager
def _database(url: str):
    """A database of the topology's own, dropped afterwards."""
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_topology"
    admin = urlunsplit(parts._replace(path="/postgres"))
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@contextmanager
def _process(argv, env, log: Path):
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=BASE, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _wait(check, what: str, seconds: float = 90, every: float = 0.5):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} within {seconds:.0f} s"
        time.sleep(every)


def _run(argv, env, timeout=1200):
    out = subprocess.run(argv, cwd=BASE, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, (argv, out.stdout[-3000:], out.stderr[-3000:])
    return out.stdout


def _healthy(name: str, env) -> bool:
    kind, *command = HEALTHCHECKS[name]
    if kind == "CMD-SHELL":
        shell = command[0].replace("$$HOSTNAME", socket.gethostname())
        argv = ["sh", "-c", shell.replace("celery ", f"{sys.executable} -m celery ", 1)]
    else:
        argv = _argv(command)
    return subprocess.run(argv, cwd=BASE, env=env, capture_output=True, timeout=60).returncode == 0


def _query(url: str, sql: str, params=()):
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def test_the_production_stack_serves_the_portal_over_https(tmp_path):
    url = _requirements()
    artifacts = BASE / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    with ExitStack() as stack:
        db_url = stack.enter_context(_database(url))
        web_port, https_port, http_port = _free_port(), _free_port(), _free_port()
        origin = f"https://127.0.0.1:{https_port}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))},
            **PORTAL_ENV,
            "DJANGO_SECRET_KEY": "topology-" + "k" * 30 + "-Yq8#kP2!vL9@mN4$wR7%tZ1",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_CSRF_TRUSTED_ORIGINS": origin,
            "DATABASE_URL": db_url,
            "PORTAL_PRIVATE_MEDIA": str(tmp_path / "private"),
            "PORTAL_STATIC_ROOT": str(tmp_path / "static"),
            "PORTAL_TRUSTED_PROXIES": PROXY_ADDRESS,
            "PORTAL_BIND": f"127.0.0.1:{web_port}",
            "GUNICORN_WORKERS": "2",
        }
        # The image's build step, then the runbook's first run.
        _run(_argv(["python", "manage.py", "collectstatic", "--noinput"]), env)
        _run(_argv(["python", "manage.py", "migrate", "--noinput"]), env)
        provisioned = _run(_argv(["python", "manage.py", "provision", "--province", "37", "--admin-username", "sheng_admin"]), env)
        password = re.search(r"一次性密码（仅显示这一次）：(\S+)", provisioned).group(1)
        _query(db_url, "SELECT 1")

        # Certificate and nginx, from the same template the stack mounts.
        _run(["bash", str(BASE / "scripts" / "self_signed_cert.sh"), str(tmp_path / "tls"), "127.0.0.1"], env)
        conf = tmp_path / "nginx"
        (conf / "tmp").mkdir(parents=True)
        (conf / "portal.conf").write_text(render_nginx({
            "PORTAL_UPSTREAM": f"127.0.0.1:{web_port}", "NGINX_HTTPS_PORT": f"127.0.0.1:{https_port}", "NGINX_HTTP_PORT": f"127.0.0.1:{http_port}",
            "NGINX_PROXY_ADDRESS": PROXY_ADDRESS, "TLS_CERTIFICATE": str(tmp_path / "tls" / "portal.crt"),
            "TLS_CERTIFICATE_KEY": str(tmp_path / "tls" / "portal.key"),
        }))
        (conf / "nginx.conf").write_text(f"""
daemon off;
worker_processes 1;
pid {conf}/nginx.pid;
error_log {conf}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {conf}/access.log;
    client_body_temp_path {conf}/tmp/body; proxy_temp_path {conf}/tmp/proxy;
    fastcgi_temp_path {conf}/tmp/fastcgi; uwsgi_temp_path {conf}/tmp/uwsgi; scgi_temp_path {conf}/tmp/scgi;
    include {conf}/portal.conf;
}}
""")
        _run([NGINX, "-t", "-q", "-c", str(conf / "nginx.conf"), "-p", str(conf)], env)

        web = stack.enter_context(_process(_argv(WEB), env, tmp_path / "web.log"))
        stack.enter_context(_process(_argv(WORKER), env, tmp_path / "worker.log"))
        stack.enter_context(_process(_argv(BEAT), env, tmp_path / "beat.log"))
        stack.enter_context(_process([NGINX, "-c", str(conf / "nginx.conf"), "-p", str(conf)], env, tmp_path / "nginx.log"))
        _wait(lambda: _healthy("web", env), "the web health check passing")
        assert web.poll() is None
        _wait(lambda: _healthy("worker", env), "the worker answering a ping", every=2)
        # Beat sends the every-minute task a minute after it starts.
        _wait(lambda: _healthy("beat", env), "beat's schedule ticking", seconds=180, every=3)

        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"])
            context = browser.new_context(ignore_https_errors=True, locale="zh-CN")
            page = context.new_page()
            console = []
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)

            # Plain HTTP only redirects to HTTPS.
            assert page.request.get(f"http://127.0.0.1:{http_port}/", max_redirects=0).status == 301

            # This client forges X-Forwarded-For on every request, a failed login first: the audit
            # log must name the address nginx saw.
            context.set_extra_http_headers({"X-Forwarded-For": "6.6.6.6"})
            page.goto(f"{origin}/accounts/login/")
            page.fill("input[name=username]", "sheng_admin")
            page.fill("input[name=password]", "not-the-password")
            page.click("button[type=submit]")
            page.wait_for_selector("p.error")
            page.goto(f"{origin}/accounts/login/")
            page.fill("input[name=username]", "sheng_admin")
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            # First login: a new password, then the second factor's enrolment (QR code on the page).
            page.wait_for_url(re.compile(r".*/accounts/password_change/.*"))
            new_password = "Qzzj-Topology-2026!"
            page.fill("input[name=old_password]", password)
            page.fill("input[name=new_password1]", new_password)
            page.fill("input[name=new_password2]", new_password)
            page.click("main button[type=submit]")
            page.goto(f"{origin}/dashboard/")
            page.wait_for_url(re.compile(r".*/accounts/otp/.*"))
            assert page.locator(".qr svg").count() == 1
            secret = page.locator("#otp-secret").inner_text().strip()
            page.screenshot(path=str(artifacts / "topology-otp.png"))
            page.fill("input[name=token]", pyotp.TOTP(secret).now())
            page.click("main button[type=submit]")
            page.wait_for_load_state("load")

            # The dashboard: every request it makes answers 200 (stylesheets, scripts, ECharts, data).
            responses = []
            page.on("response", lambda r: responses.append((r.status, r.url)))
            page.goto(f"{origin}/dashboard/")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(artifacts / "topology-dashboard.png"), full_page=True)
            # ECharts loaded and ran under the policy (a fresh installation has no results to chart yet).
            assert page.evaluate("typeof echarts") == "object"
            failed = [(s, u) for s, u in responses if s != 200]
            assert failed == [], failed
            assert any("/static/" in u and "echarts" in u for _, u in responses), responses
            # Static files come with hashed names and a long lifetime, compressed.
            css = [u for _, u in responses if u.endswith(".css")][0]
            head = page.request.get(css, headers={"Accept-Encoding": "gzip"})
            assert re.search(r"portal\.[0-9a-f]{12}\.css$", css) and "max-age=315360000" in head.headers["cache-control"]
            headers = page.request.get(f"{origin}/dashboard/").headers
            assert "script-src 'self'" in headers["content-security-policy"] and "strict-transport-security" in headers

            # An upload: a school of a pilot township and its year, then the worker's roll-up.
            township = _query(db_url, "SELECT township_id FROM townships_pilottownship ORDER BY township_id LIMIT 1")[0][0]
            workbook = f.xlsx({
                "学校名录": [["学校标识码", "学校名称", "学段", "所在乡镇代码", "是否乡镇驻地学校", "是否城区学校", "是否城区优质学校"],
                             ["3700000001", "拓扑测试小学", "小学", township, "是", "否", "否"]],
                "学校年度数据": [f.SY_HEADERS, ["3700000001", "拓扑测试小学", 2024, 820, 58, 12, 0.93, "是", "良", 31.5]],
            })
            page.goto(f"{origin}/data/")
            page.set_input_files("input[name=file]", files=[{"name": "学校数据.xlsx", "mimeType": "application/octet-stream", "buffer": workbook}])
            page.click("#upload-form button[type=submit]")
            page.wait_for_selector("#commit")
            page.click("#commit")
            page.wait_for_load_state("load")
            _wait(lambda: _query(db_url, "SELECT count(*) FROM evaluation_pointresult WHERE division_code = %s AND period = 2024", (township,))[0][0] > 0,
                  "the upload's township rolled up by the worker", seconds=120, every=1)
            # Then the area counts up to the province, and the dashboard again, now with results
            # and charts: still every request answered 200.
            _wait(lambda: _query(db_url, "SELECT count(*) FROM evaluation_arearesult WHERE division_code = '37' AND period = 2024")[0][0] > 0,
                  "the province's counts after the upload", seconds=120, every=1)
            responses.clear()
            page.goto(f"{origin}/dashboard/?period=2024")
            page.wait_for_load_state("networkidle")
            page.wait_for_selector("#headline .figure", timeout=20000)
            page.screenshot(path=str(artifacts / "topology-dashboard-results.png"), full_page=True)
            assert [(s, u) for s, u in responses if s != 200] == []
            browser.close()
        assert console == [], console

        audit = _query(db_url, "SELECT action, ip::text FROM security_auditevent WHERE username = 'sheng_admin' AND action IN ('login', 'login_failed') ORDER BY id")
        assert [a for a, _ in audit][:2] == ["login_failed", "login"], audit
        assert {ip.split("/")[0] for _, ip in audit} == {"127.0.0.1"}, audit  # not 6.6.6.6, nor the proxy's 127.0.0.2
        # The portal's log lines are JSON with the request's id, user and area.
        log = (tmp_path / "web.log").read_text(errors="replace")
        assert re.search(r'\{"time": .*"request_id": "[0-9a-f]{32}".*"user": "sheng_admin".*"area": "37"', log), log[-2000:]


def test_nginx_template_names_exactly_its_variables():
    used = set(re.findall(r"\$\{(\w+)\}", TEMPLATE.read_text()))
    assert used == NGINX_VARIABLES
    rendered = render_nginx(dict.fromkeys(NGINX_VARIABLES, "x"))
    assert "${" not in rendered and "$proxy_add_x_forwarded_for" in rendered and "$http_host" in rendered
