"""Settings for the test suite: the embedded default unless DATABASE_URL / REDIS_URL are set."""
from .base import *  # noqa: F401,F403
from .base import SECRET_KEY, VAR_DIR

SECRET_KEY = SECRET_KEY or "test-only-not-secret"
VAR_DIR.mkdir(parents=True, exist_ok=True)
# MD5 for speed; PBKDF2 too, which the one-time passwords of the accounts spreadsheet use.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
# The demo logins and the browser tests log in with a password only and keep it.
PASSWORD_POLICY_ENFORCED = False
OTP_REQUIRED = False
