"""The embedded default for a developer's machine and the demo (make run)."""
import os

from .base import *  # noqa: F401,F403
from .base import SECRET_KEY, VAR_DIR

# Off in the demo too, so a user sees the portal's Chinese 403/404/500 pages, never Django's
# debug page listing the URL patterns; DJANGO_DEBUG=1 turns it on for development. Without
# DEBUG, runserver serves static files only with --insecure (as `make run` starts it).
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
# A fixed key is fine on a developer's machine only; production refuses to start without one.
SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"
VAR_DIR.mkdir(parents=True, exist_ok=True)
# The demo logins and the browser tests log in with a password only and keep it.
PASSWORD_POLICY_ENFORCED = False
OTP_REQUIRED = False
