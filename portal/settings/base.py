"""Settings shared by every environment.

Service addresses come from the environment. With none set, the portal runs on the
embedded default: SQLite and Celery tasks executed in-process, so a newcomer needs no server.
"""
import os
import warnings
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "portal.apps.PortalStaticFilesConfig",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_celery_beat",
    "portal.apps.PortalConfig",
    "core",
    "townships",
    "evaluation",
    "reports",
    "workflow",
    "surveys",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "security",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from gunicorn itself (compressed; hashed names in production), before anything
    # that would touch a session or a database for a stylesheet.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.PermissionsPolicyMiddleware",
    "portal.middleware.NoStoreMiddleware",
    "portal.logs.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "townships.middleware.JurisdictionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "security.middleware.AccountPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.middleware.BadParameterMiddleware",
    # Last, as django-axes asks: it turns a lockout into the locked-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "townships.User"

# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "portal.auth_backends.UnitModelBackend"]

# Passwords: at least 8 characters, 3 of 4 character classes, not common, not like the user's
# own details; changed at first login for imported accounts and every PASSWORD_MAX_AGE_DAYS.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "security.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "security.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "security.validators.PasswordHistoryValidator", "OPTIONS": {"remember": 5}},
]
PASSWORD_MAX_AGE_DAYS = 180
# Forced password change and the second factor (provincial staff, administrators). On here and
# in production; the demo and test settings switch them off so demo logins and browser tests work.
PASSWORD_POLICY_ENFORCED = True
OTP_REQUIRED = True
OTP_TOTP_ISSUER = "教育强镇筑基平台"
# The admin never shows a device's secret or QR code: enrolment is /accounts/otp/, by the user.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Lockout after 5 failures for 15 minutes, per login name (django-axes; logged in the audit log).
from datetime import timedelta  # noqa: E402

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
# Per login name, not per address: a county bureau's staff share one NAT address, and locking the
# address would lock the whole office out after five typos among them.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Sessions: idle timeout 30 minutes (security.middleware), gone when the browser closes.
SESSION_IDLE_TIMEOUT_S = 30 * 60
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_S
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# The audit log is kept at least this long (security/management/commands/purge_audit.py).
AUDIT_RETENTION_DAYS = max(180, int(os.environ.get("AUDIT_RETENTION_DAYS", "180")))
# The client's address is read from X-Forwarded-For only for a request that comes from one of these
# proxies (addresses or networks, e.g. "172.28.0.10" or "10.0.0.0/24"; the production stack's
# nginx): then it is the rightmost address that is not a proxy (one a client writes itself is to
# its left). Empty by default: the address is the connection's, whatever a header says.
TRUSTED_PROXIES = [a.strip() for a in os.environ.get("PORTAL_TRUSTED_PROXIES", "").split(",") if a.strip()]
# django-axes records (and could lock) by the same address as the audit log.
AXES_CLIENT_IP_CALLABLE = "security.audit.client_ip"

# Content-Security-Policy (django-csp): scripts, styles, fonts and images from the portal's own
# origin only — nothing loads from the internet, and no inline script runs. Inline style
# attributes stay allowed (ECharts and a few templates position elements with them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
# Powerful browser features the portal never uses (photos come through the file picker).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("PORTAL_STATIC_ROOT", BASE_DIR / "staticfiles"))
# Outside production the files are served from their apps as they are (production collects them
# at image build, hashed); WhiteNoise then has no collected directory to warn about.
WHITENOISE_USE_FINDERS = True
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
# ECharts from npm (package.json, `make install`), served from our own static files.
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "portal.static_finders.VendorFinder",  # vendor/echarts/echarts.min.js, not the rest of its dist
]
# Uploaded files (originals of imports, evidence) are private: never under the web root.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PORTAL_PRIVATE_MEDIA", VAR_DIR / "private"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Celery: a Redis URL switches to a real worker; without one, tasks run in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
# Longer than any one task, so a task still running is never handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", str(30 * 60)))
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat records each task it sends at once (one small UPDATE a minute), so its health check
# (manage.py beat_alive) sees the schedule ticking.
CELERY_BEAT_SYNC_EVERY = 1
CELERY_TIMEZONE = TIME_ZONE

CACHES = {
    "default": (
        {"BACKEND": "portal.cache.ResilientRedisCache", "LOCATION": REDIS_URL,
         # Fail fast when Redis is down: a page is then computed, not kept waiting.
         "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "强镇筑基 portal API",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the sidecar package: pages never load anything from the internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set shared by several fields, so the schema (and `check --deploy`) is clean.
    "ENUM_NAME_OVERRIDES": {
        "GradeEnum": "evaluation.vocabulary.Grade",
        "JudgmentLevelEnum": "evaluation.vocabulary.JudgmentLevel",
        "PlanLevelEnum": "workflow.models.PlanLevel",
        "DivisionLevelEnum": "townships.models.Level",
        "EvaluationStageEnum": "evaluation.vocabulary.EvaluationStage",
        # A result's verdict and a value-added verdict are both "verdict" in the results API.
        "VerdictEnum": "evaluation.vocabulary.Verdict",
        "ValueAddedVerdictEnum": "evaluation.models.results.ValueAddedVerdict",
    },
}

IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# JSON lines with the request's id, user and area in production (portal/logs.py); text otherwise.
LOG_FORMAT = os.environ.get("PORTAL_LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "portal.logs.RequestContextFilter"}},
    "formatters": {"json": {"()": "portal.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request"], **({"formatter": "json"} if LOG_FORMAT == "json" else {})}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

# Uploads: limits on the file and on what an XLSX (a zip) unpacks to; larger files run as jobs.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
IMPORT_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
IMPORT_MAX_ZIP_ENTRIES = 2000
IMPORT_MAX_ROWS = 200_000
IMPORT_ASYNC_BYTES = int(os.environ.get("IMPORT_ASYNC_BYTES", str(512 * 1024)))
# A value moving by more than this factor from last year is flagged for confirmation.
IMPORT_IMPLAUSIBLE_FACTOR = float(os.environ.get("IMPORT_IMPLAUSIBLE_FACTOR", "1.5"))
# Satisfaction surveys (surveys/). The minimum of valid answers is the framework's (min_valid).
SURVEY_MAX_CODES_PER_SCHOOL = 5000
SURVEY_MAX_WINDOW_DAYS = 60
# The township's figures follow the answers at most this many seconds later.
SURVEY_COUNT_EVERY_S = int(os.environ.get("SURVEY_COUNT_EVERY_S", "30"))
# Printed in the QR codes; by default the address the county's page was opened at.
SURVEY_PUBLIC_BASE_URL = os.environ.get("SURVEY_PUBLIC_BASE_URL", "")
# Public answer pages, per client address: every request — generous, since a school's Wi-Fi is
# one address for a whole parents' meeting (3,000 answers in 5 minutes are 1,200 requests a
# minute on average, more at its peak); failed code look-ups per address and per code prefix are
# what stop guessing.
SURVEY_RATE_PER_ADDRESS = os.environ.get("SURVEY_RATE_PER_ADDRESS", "3000/m")
SURVEY_MISS_RATE_PER_ADDRESS = "10/10m"
SURVEY_MISS_RATE_PER_PREFIX = "30/10m"
# Flagged to the county: this many answers within these seconds from one address; this many
# identical answer sheets in a row at one school.
SURVEY_BURST_ANSWERS = 10
SURVEY_BURST_SECONDS = 30
SURVEY_IDENTICAL_RUN = 10
# django-ratelimit counts in the default cache: Redis when REDIS_URL is set (shared by every
# worker); on the embedded default the in-process cache, right for the one process runserver is.
# While Redis is down the limits are not applied (the answers' one-time codes live in the database).
RATELIMIT_FAIL_OPEN = True
# The programme's goal: this share of the province's 乡镇 (镇 and 乡) attains all seven targets.
PROGRAMME_GOAL_SHARE = 0.5
# ... by the end of the 14th five-year plan (十四五, 2021–2025).
PROGRAMME_GOAL_YEAR = 2025
# The path to the goal (reports.selectors.programme): each goal as (start year, goal year, share
# of 乡镇 attaining all seven). A school year is measured against the first goal not yet past;
# when the province sets the next one (say half → two thirds by 2030), add it here — no code.
PROGRAMME_GOALS = [
    {"start": 2021, "year": PROGRAMME_GOAL_YEAR, "share": PROGRAMME_GOAL_SHARE},
]
PROVINCE_CODE = "37"
# Dashboards and township pages are cached by the results token (core.results_version),
# which every change to what they show replaces; this only bounds how long an entry lives.
RESULT_PAGE_CACHE_SECONDS = int(os.environ.get("RESULT_PAGE_CACHE_SECONDS", "3600"))
# Rectification: days from the inspectors' submission to an item's deadline; days overdue before
# a notice (通报) becomes a formal talk (约谈).
RECTIFICATION_DAYS = int(os.environ.get("RECTIFICATION_DAYS", "90"))
RECTIFICATION_TALK_AFTER_DAYS = int(os.environ.get("RECTIFICATION_TALK_AFTER_DAYS", "30"))
# Notifications are in the portal; set to also send them by e-mail (EMAIL_* settings).
NOTIFY_BY_EMAIL = os.environ.get("NOTIFY_BY_EMAIL", "") == "1"
# An approved map (审图号) provincial staff upload to replace the tile map; GeoJSON, at most this size.
MAP_MAX_BYTES = 8 * 1024 * 1024
from celery.schedules import crontab  # noqa: E402

# Nightly full recomputation (django-celery-beat copies this into its table at start).
CELERY_BEAT_SCHEDULE = {
    "nightly-rollup": {"task": "evaluation.tasks.nightly_rollup_task", "schedule": crontab(hour=2, minute=0)},
    "daily-workflow": {"task": "workflow.tasks.daily_workflow_task", "schedule": crontab(hour=6, minute=0)},
    "flush-deferred-tasks": {"task": "evaluation.tasks.flush_deferred_tasks_task", "schedule": 60.0},
}
