"""The bench's web server (`python -m bench --only dashboard` starts gunicorn with these): the
live server's settings (tests/support/live_settings.py: the production request path — DEBUG off,
persistent connections — on loopback only, without the production checks for secrets and Redis),
plus the floor view (bench/urls.py) and the bench as an installed app."""
from tests.support.live_settings import *  # noqa: F401,F403
from tests.support.live_settings import DATABASES, INSTALLED_APPS

ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # `python -m bench` under these settings makes its throwaway database beside the named one
    # (qzzj_bench → qzzj_bench_run), never a test_… database a test run may be using.
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", f"{DATABASES['default']['NAME']}_run")
