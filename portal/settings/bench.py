"""The bench's web server (`manage.py bench --only dashboard` starts gunicorn with these): the
production request path — DEBUG off, persistent connections — on loopback only, without the
production checks for secrets and Redis, plus the floor view (portal/bench_urls.py)."""
from .base import *  # noqa: F401,F403
from .base import DATABASES, LOGGING, SECRET_KEY

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "portal.bench_urls"
# The bench hands the server its own key so the session it logs in is valid there; a fixed
# fallback is tolerable only because this server listens on loopback for one bench run.
SECRET_KEY = SECRET_KEY or "bench-loopback-only-not-secret"
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # `manage.py bench` under these settings makes its throwaway database beside the named one
    # (qzzj_bench → qzzj_bench_run), never a test_… database a test run may be using.
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", f"{DATABASES['default']['NAME']}_run")
# The bench's provincial-staff user logs in with a session only, as in the demo.
PASSWORD_POLICY_ENFORCED = False
OTP_REQUIRED = False
# The bench logs in a few hundred users and answers double submits with 409 on purpose: keep its
# table readable (errors are still logged).
LOGGING = {**LOGGING, "loggers": {"axes": {"level": "WARNING"}, "django.request": {"level": "ERROR"}}}
