"""What a production stack relies on at the edge: the client's address only from the configured
proxy, the security headers on every page, static files served by the portal itself, and a
health check that names what does not answer."""
import pytest
from django.test import RequestFactory
from django.urls import reverse

from security.audit import client_ip
from security.models import AuditEvent

pytestmark = pytest.mark.django_db
PROXY = "172.28.0.10"


def _request(remote, forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_without_a_configured_proxy_a_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.7", "6.6.6.6")) == "203.0.113.7"


def test_through_the_proxy_the_address_it_saw_is_taken_not_one_the_client_wrote(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    # The client sent "X-Forwarded-For: 6.6.6.6"; nginx appended the address it saw.
    assert client_ip(_request(PROXY, "6.6.6.6, 198.51.100.23")) == "198.51.100.23"
    assert client_ip(_request(PROXY, "198.51.100.23")) == "198.51.100.23"
    # Not through the proxy: the header is the client's own and says nothing.
    assert client_ip(_request("198.51.100.99", "6.6.6.6")) == "198.51.100.99"
    # A proxy network, and a header that is not an address.
    settings.TRUSTED_PROXIES = ["172.28.0.0/24"]
    assert client_ip(_request("172.28.0.3", "198.51.100.23, 172.28.0.9")) == "198.51.100.23"
    assert client_ip(_request(PROXY, "not-an-address")) == PROXY


def test_a_failed_login_is_audited_with_the_connections_address_whatever_the_header_says(client, world, settings):
    settings.TRUSTED_PROXIES = []
    client.post(reverse("login"), {"username": "x_370881", "password": "wrong"}, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="6.6.6.6")
    event = AuditEvent.objects.filter(action__icontains="login").order_by("-id").first()
    assert event is not None and event.ip == "203.0.113.7"


def test_every_page_carries_the_security_headers(client, world):
    pages = [client.get(reverse("login"))]
    client.force_login(world.user("county_370881"))
    pages += [client.get(url) for url in (reverse("home"), reverse("reports:dashboard"), "/api/docs/")]
    for response in pages:
        url = response.request["PATH_INFO"]
        assert response.status_code == 200, url
        policy = response.headers["Content-Security-Policy"]
        script = policy.split("script-src")[1].split(";")[0]
        assert "'self'" in script and "unsafe-inline" not in script and "unsafe-eval" not in script, url
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "camera=()" in response.headers["Permissions-Policy"]


def test_no_template_runs_an_inline_script_or_handler():
    import re

    from django.conf import settings

    offending = []
    for path in settings.BASE_DIR.glob("*/templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", text) or re.search(r"\son[a-z]+=\"", text):
            offending.append(str(path.relative_to(settings.BASE_DIR)))
    assert offending == []


def test_static_files_come_from_the_portal_itself():
    from django.test import Client

    response = Client().get("/static/portal/portal.css")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) if response.streaming else response.content


def test_health_check_names_what_does_not_answer(client, settings):
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.json()["database"] == "ok"
    if settings.REDIS_URL:
        assert ok.json()["redis"] == "ok"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    down = client.get("/healthz")
    assert down.status_code == 503 and down.json()["status"] == "unavailable" and down.json()["redis"] != "ok"


def test_log_lines_are_json_with_the_requests_id_user_and_area(client, world):
    import io
    import json
    import logging

    from portal.logs import JsonFormatter, RequestContextFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("portal.access")
    access.addHandler(handler)
    old_level = access.level
    access.setLevel(logging.INFO)
    try:
        client.force_login(world.user("county_370881"))
        forged = client.get(reverse("home"), HTTP_X_REQUEST_ID="not an id")
        given = client.get(reverse("home"), HTTP_X_REQUEST_ID="0123456789abcdef0123456789abcdef")
    finally:
        access.removeHandler(handler)
        access.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(x["user"], x["area"], x["path"], x["status"]) for x in lines] == [("x_370881", "370881", "/", 200)] * 2
    assert lines[1]["request_id"] == given["X-Request-ID"] == "0123456789abcdef0123456789abcdef"
    assert lines[0]["request_id"] == forged["X-Request-ID"] != "not an id" and len(forged["X-Request-ID"]) == 32
