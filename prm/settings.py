"""Settings, read from the environment (django-environ).

With nothing set, the project runs on an embedded SQLite file with Celery tasks executed
eagerly: the fresh-machine path. With DATABASE_URL and REDIS_URL it runs on PostgreSQL with a
Redis broker and cache: the production path. Production hardening is switched by DEBUG=false,
not by a separate settings module.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env.smart_cast = False

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="django-insecure-dev-only-key-do-not-use-in-production-0123456789abcdef",
)
if not DEBUG and SECRET_KEY.startswith("django-insecure"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "axes",
    "partners",
    "deals",
    "quotes",
    "cases",
    "renewals",
    "mdf",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "partners.middleware.RequestContextMiddleware",
    "analytics.middleware.SecurityEventMiddleware",
    "partners.timezones.UserTimeZoneMiddleware",
    # Last, as django-axes asks: it turns a lockout into a 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "prm.urls"
WSGI_APPLICATION = "prm.wsgi.application"

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
                "partners.context_processors.portal",
            ],
            # The presentation filters (money, day, when, ago, label, person, sentence) everywhere.
            "builtins": ["partners.templatetags.present"],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections on PostgreSQL (a new one costs milliseconds per request), checked before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env.int(
    "CONN_MAX_AGE", default=60 if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" else 0
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "prm.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    # First: refuses logins for a username + IP with too many recent failures.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

# django-axes: lock a username + IP pair out after repeated failed logins (portal, admin and token).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# django-guardian: no anonymous user row; object grants only, never global ones for partner users.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="partners@helios.example")

# The parent company's identity: a real parent sets its own.
PARENT_COMPANY_NAME = env.str("PARENT_COMPANY_NAME", default="Helios Cloud")
PARENT_COMPANY_LOGO_URL = env.str("PARENT_COMPANY_LOGO_URL", default="/static/img/helios-logo.svg")
# Where people reach the portal: links in emails are absolute.
# The parent's accounting currency: credit limits, commission and pipeline totals.
PARENT_CURRENCY = env.str("PARENT_CURRENCY", default="USD")
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "prm.api.permissions.HasPortalAccess",
    ],
    "DEFAULT_PAGINATION_CLASS": "prm.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "prm.api.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "prm.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/minute"),
        "user": env.str("THROTTLE_USER", default="1200/minute"),
        "precheck": env.str("THROTTLE_PRECHECK", default="30/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PRM partner portal API",
    "DESCRIPTION": "Partners, customers, deals, quotes, orders and cases, under one access policy. "
    "What the caller may not see answers 404.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name get their own component names.
    "ENUM_NAME_OVERRIDES": {
        "PartnerStatusEnum": "partners.models.PartnerStatus",
        "CustomerStatusEnum": "partners.models.CustomerStatus",
        "CommissionStatusEnum": "partners.models.CommissionStatus",
        "LeadStatusEnum": "deals.models.LeadStatus",
        "OfferStatusEnum": "deals.models.OfferStatus",
        "RegistrationStatusEnum": "deals.models.RegistrationStatus",
        "ExtensionStatusEnum": "deals.models.ExtensionStatus",
        "QuoteStatusEnum": "quotes.models.QuoteStatus",
        "OrderStatusEnum": "quotes.models.OrderStatus",
        "ProvisioningStatusEnum": "quotes.models.ProvisioningStatus",
        "CaseStatusEnum": "cases.models.CaseStatus",
        "CustomerClaimStatusEnum": "partners.models.CustomerClaimStatus",
    },
}

# Celery: JSON only, late acks, one task at a time per worker process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 900}
CELERY_TIMEZONE = "UTC"
# Periodic work: the union of each domain app's schedule.py (see prm/schedule.py).
CELERY_BEAT_SCHEDULE = __import__("prm.schedule", fromlist=["BEAT_SCHEDULE"]).BEAT_SCHEDULE

# Production hardening, on whenever DEBUG is off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
SILENCED_SYSTEM_CHECKS = ["security.W021"] if not env.bool("SECURE_HSTS_PRELOAD", default=False) else []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Deal registrations above this estimated value need a second, different approver.
DEALS_SECOND_APPROVAL_ABOVE = Decimal(env.str("DEALS_SECOND_APPROVAL_ABOVE", default="100000.00"))

# Quotes and orders (see README, "Configuration").
QUOTES_APPROVAL_THRESHOLD = env.str("QUOTES_APPROVAL_THRESHOLD", default="50000.00")
QUOTES_VALIDITY_DAYS = env.int("QUOTES_VALIDITY_DAYS", default=30)
QUOTES_ORDER_AUTO_APPROVE = env.bool("QUOTES_ORDER_AUTO_APPROVE", default=True)
QUOTES_PROVISIONING_ADAPTER = env.str("QUOTES_PROVISIONING_ADAPTER", default="record")  # or "webhook"
QUOTES_PROVISIONING_WEBHOOK_URL = env.str("QUOTES_PROVISIONING_WEBHOOK_URL", default="")
QUOTES_PROVISIONING_WEBHOOK_SECRET = env.str("QUOTES_PROVISIONING_WEBHOOK_SECRET", default="")
QUOTES_PROVISIONING_MAX_ATTEMPTS = env.int("QUOTES_PROVISIONING_MAX_ATTEMPTS", default=5)
QUOTES_PROVISIONING_BACKOFF_SECONDS = env.int("QUOTES_PROVISIONING_BACKOFF_SECONDS", default=30)
QUOTES_PROVISIONING_WEBHOOK_TIMEOUT = env.int("QUOTES_PROVISIONING_WEBHOOK_TIMEOUT", default=10)

# Case attachments.
CASES_MAX_ATTACHMENT_BYTES = env.int("CASES_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)
MDF_MAX_PROOF_BYTES = env.int("MDF_MAX_PROOF_BYTES", default=10 * 1024 * 1024)

# Business defaults; per-program values live in the database.
PRM = {
    "DEFAULT_PROTECTION_DAYS": 90,
    "DEFAULT_LEAD_ACCEPT_HOURS": 72,
}

# Security hardening (issue 14; see README "Security"). --------------------------------------------
INSTALLED_APPS += ["knox", "csp", "prm.security"]
# The CSP header on every response, right inside the security middleware. After authentication: input
# errors nothing validated answer 400 (prm.security.guard), and the brand cookie of a white-label
# partner's people (partners.branding).
MIDDLEWARE.insert(1, "csp.middleware.CSPMiddleware")
_AFTER_AUTH = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
MIDDLEWARE[_AFTER_AUTH:_AFTER_AUTH] = [
    "prm.security.guard.InputErrorGuardMiddleware",
    "partners.branding.BrandCookieMiddleware",
]
# How many proxies in front of the app append to X-Forwarded-For; 0 (default) ignores the header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "prm.security.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "prm.security.lockout.lockout_response"
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "prm.api.authentication.TokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "prm.api.authentication.AnonThrottle",
    "prm.api.authentication.UserThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login_account"] = env.str("THROTTLE_LOGIN_ACCOUNT", default="20/hour")
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [
    "prm.api.parsers.BoundedJSONParser",
    "rest_framework.parsers.FormParser",
    "rest_framework.parsers.MultiPartParser",
]
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=20)
# A verified API token's user and actor are cached this long (prm.api.authentication), invalidated
# by any change of access (partners.access.ACCESS_GENERATION_KEY). Only with a shared cache (Redis):
# a per-process cache could not tell the other processes of a change.
API_TOKEN_CACHE_SECONDS = env.int("API_TOKEN_CACHE_SECONDS", default=300 if REDIS_URL else 0)
# API tokens (django-rest-knox): only a digest is stored, and each expires.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=24)),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_LIMIT_PER_USER": None,
    "AUTO_REFRESH": False,
}
# Content-Security-Policy: no inline script anywhere in the portal. Inline styles stay allowed (the
# brand colour, the printable quote document).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"] + env.list("CSP_IMG_SRC", default=[]),
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# The sender address of a white-label partner's mail (its brand name is the display name).
WHITE_LABEL_FROM_EMAIL = env.str("WHITE_LABEL_FROM_EMAIL", default="no-reply@partner-portal.example")
LOGGING["loggers"]["axes"] = {"level": env.str("AXES_LOG_LEVEL", default="WARNING")}
# Renewals (see README, "Renewals"; renewals/conf.py).
RENEWALS_LEAD_DAYS = env.int("RENEWALS_LEAD_DAYS", default=120)
RENEWALS_GRACE_DAYS = env.int("RENEWALS_GRACE_DAYS", default=30)
RENEWALS_BATCH_SIZE = env.int("RENEWALS_BATCH_SIZE", default=5000)
RENEWALS_REMINDER_PAUSE_SECONDS = env.float("RENEWALS_REMINDER_PAUSE_SECONDS", default=0)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {"LapseReasonEnum": "renewals.models.LapseReason", "RenewalSideEnum": "renewals.models.Side"}
)
# API and portal lists: counts are exact up to this many rows, estimated above (docs/scaling.md).
API_EXACT_COUNT_LIMIT = env.int("API_EXACT_COUNT_LIMIT", default=2000)

# A read replica for analytics and exports (prm/db_router.py, `use_replica()`); without one the
# alias is the primary itself (and the test database's mirror).
DATABASES["replica"] = (
    env.db_url("DATABASE_REPLICA_URL")
    if env.str("DATABASE_REPLICA_URL", default="")
    else {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
)
DATABASES["replica"].setdefault("CONN_MAX_AGE", DATABASES["default"]["CONN_MAX_AGE"])
DATABASE_ROUTERS = ["prm.db_router.ReplicaRouter"]
