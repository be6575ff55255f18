"""Health check of the web container (compose) and of the topology test: /healthz from inside,
with a Host the portal accepts and the scheme nginx would forward, so neither ALLOWED_HOSTS nor the
HTTPS redirect answers instead of the portal. 0 only when the database and Redis answer."""
import json
import os
import sys
import urllib.request

port = os.environ.get("PORTAL_BIND", "0.0.0.0:8000").rsplit(":", 1)[1]
host = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".") or "localhost"
request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
try:
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - a fixed local URL
        body = json.load(response)
except Exception as exc:  # noqa: BLE001 - whatever fails, the container is not healthy
    print(f"unhealthy: {exc}")
    sys.exit(1)
print(body)
sys.exit(0 if body.get("status") == "ok" else 1)
