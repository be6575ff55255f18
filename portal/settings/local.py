"""The embedded default for a developer's machine and the demo (make run)."""
from .base import *  # noqa: F401,F403
from .base import SECRET_KEY, VAR_DIR

DEBUG = True
# A fixed key is fine on a developer's machine only; production refuses to start without one.
SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"
VAR_DIR.mkdir(parents=True, exist_ok=True)
# The demo logins and the browser tests log in with a password only and keep it.
PASSWORD_POLICY_ENFORCED = False
OTP_REQUIRED = False
