"""tumourboard settings: everything from the environment, with defaults that need no server.

Unset DATABASE_URL means a SQLite file in the checkout; unset REDIS_URL means Celery runs tasks
in-process (eager). DJANGO_DEBUG defaults to 0: production is the safe default, and the Makefile
sets DJANGO_DEBUG=1 for `make run` and `make test`.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from tumourboard import env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.secret_key(os.environ.get("SECRET_KEY"), debug=DEBUG)
# Django raises on any read of an empty SECRET_KEY; the start-up checks read this flag instead.
SECRET_KEY_IS_SET = bool(SECRET_KEY)
ALLOWED_HOSTS = env.env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.env_list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "simple_history",
    # Second factor (TOTP, recovery codes) and login lockout (issue 9).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "common",
    "accounts",
    "scoring",
    "cases",
    "meetings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response, pages and API alike (issue 9).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETag/Last-Modified on reads and 304 on a matching If-None-Match (issue 8); resources with a
    # version set their own ETag, other GET responses get one from their content.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    # Every page needs a login except those marked @login_not_required (login, /healthz).
    # DRF views opt out and answer 401 themselves.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Chairs and coordinators (and anyone with a confirmed device) pass the second factor first.
    "accounts.views_otp.OtpRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Reads of patient data and exports go to the append-only audit log (issue 9).
    "common.audit.AccessAuditMiddleware",
    # Last, as django-axes requires: turns a lockout flagged during authentication into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tumourboard.urls"
WSGI_APPLICATION = "tumourboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.database_config(os.environ.get("DATABASE_URL"), default_sqlite=BASE_DIR / "db.sqlite3")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3") and os.environ.get("REDIS_URL"):
    # A real worker process must open the test database too, so it cannot live in memory.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out username or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.time_zone(os.environ.get("TIME_ZONE"))
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# In development static files are served from the apps' folders as they change.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security: production values unless DEBUG (manage.py check --deploy is clean with DEBUG off).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.env_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env.env_bool("SECURE_PROXY_SSL_HEADER", default=False):
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# The health probe answers over plain HTTP on the host's own address (load balancers, CI probes).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Request bodies above 1 MiB are refused (400/413) before they are parsed; no form or JSON body
# of this product comes near it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# Failed logins (login page, admin, token endpoint) lock out the username and, separately, the
# client address after 5 failures for 15 minutes; a successful login resets the count. Behind a
# shared NAT the address rule can lock a whole site out for the cool-off: see docs/security.md.
AXES_FAILURE_LIMIT = env.env_int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.env_int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429

# Second factor: the issuer name authenticator apps show beside the account.
OTP_TOTP_ISSUER = "tumourboard"

# Content-Security-Policy: nothing inline, nothing from elsewhere. The interactive API docs
# (Swagger UI, ReDoc) load their scripts from a CDN with inline start-up code, so they are left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/v1/schema/swagger/", "/api/v1/schema/redoc/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    },
}

# --- REST API (contract: token auth, 401/403/404 semantics, field-level 400s).
REST_FRAMEWORK = {
    # Token first: an unauthenticated API request gets 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.DefaultPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "common.throttling.ServiceAccountRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("THROTTLE_ANON", "30/minute"),
        "user": os.environ.get("THROTTLE_USER", "2000/minute"),
        "service": os.environ.get("THROTTLE_SERVICE", "600/minute"),
    },
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
    "EXCEPTION_HANDLER": "common.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "tumourboard API",
    "DESCRIPTION": "Multidisciplinary tumour board for metastatic spine disease (NOMS).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for each shared vocabulary, wherever a field uses it.
    "ENUM_NAME_OVERRIDES": {
        "PrimaryEnum": "scoring.rules.primary.PRIMARY_CHOICES",
        "UrgencyEnum": "cases.vocabulary.Urgency",
        "CaseStatusEnum": "cases.vocabulary.CaseStatus",
        "LevelEnum": "scoring.rules.sins.LEVELS",
        "SectionStateEnum": "cases.vocabulary.SectionState",
        "DecisionStateEnum": "meetings.models.Decision.State",
        "AgendaItemStateEnum": "meetings.models.AgendaItem.State",
        "MeetingStatusEnum": "meetings.models.Meeting.Status",
    },
}

# --- Celery (house style 7): late ack, prefetch 1, JSON only, explicit limits; the database is
# the source of truth for work that must happen, so a lost broker message is re-driven by a sweep.
REDIS_URL = env.redis_url(os.environ.get("REDIS_URL"))
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Above the longest task's hard limit, so a running task is never handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 3}
CELERY_TASK_DEFAULT_QUEUE = "default"
# autodiscover_tasks() imports only <app>.tasks; the record tasks live in their own module.
CELERY_IMPORTS = ("meetings.tasks_records",)
# PDF rendering on its own queue (house style 7), so long renders never hold up scoring or e-mail.
CELERY_TASK_ROUTES = {"meetings.render_decision_record": {"queue": "pdf"}}
CELERY_WORKER_MAX_TASKS_PER_CHILD = 200
CELERY_TIMEZONE = TIME_ZONE
# History keeps the whole reason for a change (a deferral, an amendment, a reopened section):
# the default column is 100 characters, and PostgreSQL refuses longer reasons.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Re-drive work the broker lost: the database records what must happen (house style 7).
    "redrive-stale-scores": {"task": "scoring.redrive_stale_scores", "schedule": 60.0},
    "redrive-notifications": {"task": "cases.redrive_notifications", "schedule": 60.0},
    "generate-series-meetings": {"task": "meetings.generate_series_meetings", "schedule": 6 * 3600.0},
    "schedule-ready-cases": {"task": "meetings.schedule_ready_cases", "schedule": 600.0},
    "send-due-agendas": {"task": "meetings.send_due_agendas", "schedule": 900.0},
    "close-ended-meetings": {"task": "meetings.close_ended_meetings", "schedule": 900.0},
    "redrive-decision-records": {"task": "meetings.redrive_pending_records", "schedule": 300.0},
}

# Readiness gate: the whole-spine MRI must be at most this many days old when a case becomes ready.
# A product setting for each board to choose; the clinical spec gives no number.
READINESS_MRI_MAX_AGE_DAYS = env.env_int("READINESS_MRI_MAX_AGE_DAYS", default=30)

# Meetings: agendas are e-mailed this long before a meeting; series are generated this far ahead.
AGENDA_LEAD_TIME_HOURS = env.env_int("AGENDA_LEAD_TIME_HOURS", default=48)
MEETING_SERIES_HORIZON_WEEKS = env.env_int("MEETING_SERIES_HORIZON_WEEKS", default=12)
# A meeting is closed this long after its planned end, and the cases still planned on its agenda
# (not discussed) go back to the queue. A product setting: issue 6 gives no figure.
MEETING_CLOSE_AFTER_HOURS = env.env_int("MEETING_CLOSE_AFTER_HOURS", default=12)

# /healthz waits this long (seconds) for a worker to answer the ping task.
HEALTHZ_WORKER_TIMEOUT = float(os.environ.get("HEALTHZ_WORKER_TIMEOUT", "2"))

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tumourboard@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
