"""The live server's settings (tests/support/live_server.py starts gunicorn and Celery with these;
tests/test_database_restart.py too): the production request path — DEBUG off, persistent
connections — on loopback only, without the production checks for secrets and Redis.
bench/settings.py adds the bench's floor view to them."""
from portal.settings.base import *  # noqa: F401,F403
from portal.settings.base import LOGGING, SECRET_KEY

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# The harness hands the server its own key so the session it logs in is valid there; a fixed
# fallback is tolerable only because this server listens on loopback for one run.
SECRET_KEY = SECRET_KEY or "bench-loopback-only-not-secret"
# The harness's users log in with a session only, as in the demo.
PASSWORD_POLICY_ENFORCED = False
OTP_REQUIRED = False
# The load driver logs in a few hundred users and answers double submits with 409 on purpose:
# keep the output readable (errors are still logged).
LOGGING = {**LOGGING, "loggers": {"axes": {"level": "WARNING"}, "django.request": {"level": "ERROR"}}}
