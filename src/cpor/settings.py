"""CPOR settings: one module, every value from the environment (see README).

Two modes. ``CPOR_MODE=embedded`` (the default) runs on one machine with no services:
SQLite and files under ``var/``, a secret key generated once into ``var/``, and
background work run in-process. ``CPOR_MODE=production`` refuses to start without an
explicit ``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``DATABASE_URL``.
"""

import os
import secrets
from pathlib import Path

import bootstrap_wrapper
import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from cpor.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("CPOR_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

MODE = env_choice("CPOR_MODE", "embedded", ("embedded", "production"))
PRODUCTION = MODE == "production"

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required in production")
    # Embedded mode: a random key made once and kept beside the database.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required in production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

_database_url = env_str("DATABASE_URL")
if PRODUCTION and not _database_url:
    raise ImproperlyConfigured("DATABASE_URL is required in production")
DATABASES = {
    "default": dj_database_url.parse(
        _database_url or f"sqlite:///{VAR_DIR / 'cpor.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; IMMEDIATE makes every write
    # transaction take the write lock up front instead of failing to upgrade later.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif env_bool("DATABASE_PREPARED_STATEMENTS", True):
    # Parameters bound by the server, and a statement prepared on a connection once it
    # has run twice there: PostgreSQL then plans each hot statement once per connection
    # instead of on every run. Behind PgBouncer in transaction mode this needs
    # PgBouncer >= 1.21 with max_prepared_statements > 0 (docs/architecture.md); turn
    # it off for any other pooler.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=2
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

INSTALLED_APPS = [
    "cpor.accounts.apps.AdminConfig",  # django.contrib.admin, signing in through allauth
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "cpor.accounts",
    "cpor.catalog",
    "cpor.partners",
    "cpor.customers",
    "cpor.claims",
    "cpor.review",
    "cpor.consent",
    "cpor.notifications",
    "cpor.usage",
    "cpor.earnings",
    "cpor.api",
    "cpor.audit",
    "cpor.analytics",
    "cpor.web",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",  # CPOR's checks: accounts/oidc
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy, a nonce per response
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "cpor.audit.recording.AuditRequestMiddleware",  # who and from where, for admin changes
    "cpor.web.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "cpor.accounts.middleware.MfaEnrolmentMiddleware",  # second factor per role
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cpor.accounts.csp.sign_in_form_action",  # IdP hosts in the sign-in form-action
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "cpor.urls"
WSGI_APPLICATION = "cpor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cpor.web.context_processors.program",
            ],
        },
    },
    {
        # The rows of the long lists (claim list, review queue): Jinja2 renders a page's 50
        # rows in a quarter of the time Django's engine takes (a variable costs ~4 µs
        # there). Only rows, pre-labelled in the view, rendered by {% jinja_rows %}.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "rows",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "cpor.web.jinja2.environment"},
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("pt-pt", _("Portuguese (Portugal)"))]
LOCALE_PATHS = [BASE_DIR / "src" / "cpor" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Bootstrap ships inside an installed package (no CDN); htmx comes with django-htmx.
STATICFILES_DIRS = [("bootstrap", str(bootstrap_wrapper.get_bootstrap_dir()))]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Proofs of execution are private: never under STATIC or a public MEDIA URL. They go to
# a local folder, or to an S3-compatible bucket when S3_BUCKET is set; either way they
# are served only through permission-checked views.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "private")))
# Uploads too large to keep in memory spool here rather than in the shared system temp
# folder: readable by this user only, swept at the web process's start and by the
# periodic job `sweep_upload_temp` of whatever a crashed worker left (cpor.upload_temp).
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "upload-tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(mode=0o700, exist_ok=True)
os.chmod(FILE_UPLOAD_TEMP_DIR, 0o700)  # mkdir's mode is cut by the umask
FILE_UPLOAD_TEMP_MAX_AGE_SECONDS = env_int("FILE_UPLOAD_TEMP_MAX_AGE_SECONDS", 900, minimum=60)
_s3_bucket = env_str("S3_BUCKET", "")
if _s3_bucket:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _s3_bucket,
            "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("S3_REGION", "") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY", "") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

LOGIN_URL = "login"
LOGOUT_REDIRECT_URL = "/"
LOGIN_REDIRECT_URL = "/"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CPOR <no-reply@cpor.localhost>")

# The program operator's display name (SPEC §2).
CPOR_OPERATOR_NAME = env_str("CPOR_OPERATOR_NAME", "Contoso Partner Program")

SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp). Everything is served from this
# site (Bootstrap, htmx, our JavaScript as static files); no inline script or style
# attribute in our templates (web/tests/test_csp.py fails on one). Scripts that must be
# inline (drf-spectacular's Swagger UI set-up) carry the response's nonce. Views that need
# more say so with csp_update: the mail log's HTML preview, the ReDoc page. File downloads
# set their own stricter policy (default-src 'none'; sandbox), which the middleware keeps.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # HSTS on by default (a year, subdomains, preload); setting any of the three to 0
    # is the explicit opt-out, and silences the deploy check that would flag it.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SILENCED_SYSTEM_CHECKS = [
        check
        for check, opted_out in (
            ("security.W004", not SECURE_HSTS_SECONDS),
            ("security.W005", not SECURE_HSTS_INCLUDE_SUBDOMAINS),
            ("security.W021", not SECURE_HSTS_PRELOAD),
        )
        if opted_out
    ]
    # The proxy terminates TLS and says so in X-Forwarded-Proto; anything that reached
    # Django over plain HTTP is redirected, except the probes that balancers and
    # monitoring send straight to a node (deploy/README.md).
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}


# --- Accounts and sign-in (django-allauth) -------------------------------------------
# Sign-in by e-mail; partner users are onboarded by their admins or the program, never
# by public sign-up. TOTP second factor optional per user, with recovery codes.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
ACCOUNT_ADAPTER = "cpor.accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[CPOR] "
ACCOUNT_PREVENT_ENUMERATION = True
# Wrong passwords are throttled, never answered with a lock a stranger could hold on
# someone else's account (accounts/sign_in_throttle.py): failures per source address
# (any account), per account from one address (the user's successful sign-in clears it
# for their address), and, for an attack from many addresses, a short account-wide
# backoff that addresses the account signed in from recently do not wait for.
SIGN_IN_ADDRESS_FAILURES = env_int("SIGN_IN_ADDRESS_FAILURES", 10, minimum=1)
SIGN_IN_ADDRESS_WINDOW_SECONDS = env_int("SIGN_IN_ADDRESS_WINDOW_SECONDS", 60, minimum=1)
SIGN_IN_ACCOUNT_ADDRESS_FAILURES = env_int("SIGN_IN_ACCOUNT_ADDRESS_FAILURES", 5, minimum=1)
SIGN_IN_ACCOUNT_ADDRESS_WINDOW_SECONDS = env_int(
    "SIGN_IN_ACCOUNT_ADDRESS_WINDOW_SECONDS", 300, minimum=1
)
ACCOUNT_RATE_LIMITS = {
    "login_failed": (
        f"{SIGN_IN_ADDRESS_FAILURES}/{SIGN_IN_ADDRESS_WINDOW_SECONDS}s/ip,"
        f"{SIGN_IN_ACCOUNT_ADDRESS_FAILURES}/{SIGN_IN_ACCOUNT_ADDRESS_WINDOW_SECONDS}s/key"
    )
}
SIGN_IN_BACKOFF_AFTER = env_int("SIGN_IN_BACKOFF_AFTER", 20, minimum=1)
SIGN_IN_BACKOFF_WINDOW_SECONDS = env_int("SIGN_IN_BACKOFF_WINDOW_SECONDS", 3600, minimum=1)
SIGN_IN_BACKOFF_SECONDS = env_int("SIGN_IN_BACKOFF_SECONDS", 1, minimum=1)
SIGN_IN_BACKOFF_MAX_SECONDS = env_int("SIGN_IN_BACKOFF_MAX_SECONDS", 60, minimum=1)
SIGN_IN_KNOWN_ADDRESS_DAYS = env_int("SIGN_IN_KNOWN_ADDRESS_DAYS", 30, minimum=1)
# Behind a reverse proxy every client would have the proxy's address: the number of
# proxies whose X-Forwarded-For entries are trusted for the client's address.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
# WebAuthn needs https, except on a developer's own machine (http://127.0.0.1, localhost).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env_bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", not PRODUCTION)
MFA_TOTP_ISSUER = CPOR_OPERATOR_NAME
# allauth keeps sign-in rate limits and already-used TOTP codes in the cache: with several
# web processes they must share one (CACHE_URL, e.g. redis://127.0.0.1:6379/1).
# django-redis keeps one client per server; Django's own Redis backend builds a client
# for every operation (0.25 ms of CPU of the 0.4 ms each costs, several per request).
_cache_url = env_str("CACHE_URL", "")
if _cache_url:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": _cache_url,
        }
    }
    # Sessions read from the shared cache, written through to the database: a request
    # reads its session with one cache round trip instead of a query (0.8 ms of CPU).
    # Only with a shared cache: a cache per process would keep a session signed out
    # elsewhere alive in the others.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# With a cache the worker shares, a commit publishes no event wake-up while one is
# queued (cpor.notifications.consumers): a burst of transitions queues one task.
CPOR_WAKE_COALESCE = bool(_cache_url)

# --- Single sign-on and the second factor per role (issue 11; accounts/adapters.py) ---
# Roles that must use a second factor (TOTP or passkey; an IdP asserting MFA counts).
CPOR_MFA_REQUIRED_ROLES = env_list(
    "CPOR_MFA_REQUIRED_ROLES", ["program_admin", "reviewer", "partner_admin"]
)
_unknown_roles = set(CPOR_MFA_REQUIRED_ROLES) - {
    "program_admin",
    "reviewer",
    "partner_admin",
    "incentives_admin",
    "incentives_user",
}
if _unknown_roles:
    raise ImproperlyConfigured(f"CPOR_MFA_REQUIRED_ROLES: unknown roles {sorted(_unknown_roles)}")
# The operator's IdP: "<provider id>" or "<provider id>/<tenant id>". When set, reviewers
# and program admins sign in only through it (no password, no passkey).
CPOR_OPERATOR_IDP = env_str("CPOR_OPERATOR_IDP", "")
SOCIALACCOUNT_ADAPTER = "cpor.accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
# OpenID Connect providers besides those program admins add in the admin (Social
# applications): CPOR_OIDC_PROVIDERS=entra,okta, then per id CPOR_OIDC_<ID>_NAME,
# _SERVER_URL (issuer or discovery URL), _CLIENT_ID, _CLIENT_SECRET (or _FILE).
_oidc_apps = []
for _provider_id in env_list("CPOR_OIDC_PROVIDERS", []):
    _prefix = f"CPOR_OIDC_{_provider_id.upper().replace('-', '_')}_"
    _server_url, _client_id = env_str(_prefix + "SERVER_URL"), env_str(_prefix + "CLIENT_ID")
    if not (_server_url and _client_id):
        raise ImproperlyConfigured(f"{_prefix}SERVER_URL and {_prefix}CLIENT_ID are required")
    _oidc_apps.append(
        {
            "provider_id": _provider_id,
            "name": env_str(_prefix + "NAME", _provider_id),
            "client_id": _client_id,
            "secret": env_str(_prefix + "CLIENT_SECRET", ""),
            "settings": {"server_url": _server_url},
        }
    )
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "provider_class": "cpor.accounts.oidc.provider.CporOIDCProvider",
        "OAUTH_PKCE_ENABLED": True,
        "APPS": _oidc_apps,
    }
}

# --- Notifications, outbox and background work (Celery) -----------------------------
# Every notification is an outbox row written with the state change that causes it.
# Without a broker (embedded) it is delivered in-process after commit and
# `manage.py run_periodic` (cron) runs the periodic jobs; with CELERY_BROKER_URL a Celery
# worker delivers it and Celery beat runs the jobs (docs: README, Configuration).
# Links in e-mails point at the port `make run` serves (PORT) unless the public address
# is given: behind a proxy or on another host, set CPOR_BASE_URL.
CPOR_BASE_URL = env_str("CPOR_BASE_URL") or f"http://127.0.0.1:{env_int('PORT', 8000, minimum=1)}"
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or None
CPOR_BACKGROUND = "celery" if CELERY_BROKER_URL else "inline"
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 12, minimum=1)
OUTBOX_BACKOFF_SECONDS = env_int("OUTBOX_BACKOFF_SECONDS", 30, minimum=1)
OUTBOX_BACKOFF_MAX_SECONDS = env_int("OUTBOX_BACKOFF_MAX_SECONDS", 6 * 3600, minimum=1)
# A claimed message is not retried by another worker before its lease runs out.
OUTBOX_LEASE_SECONDS = max(env_int("OUTBOX_LEASE_SECONDS", 300, minimum=10), 2 * EMAIL_TIMEOUT)
CPOR_DECLINE_LINK_DAYS = env_int("CPOR_DECLINE_LINK_DAYS", 30, minimum=1)
CPOR_DRAFT_WARNING_DAYS = env_int("CPOR_DRAFT_WARNING_DAYS", 7, minimum=1)
# Signs the history checkpoints (HMAC-SHA256); empty: derived from SECRET_KEY.
CPOR_HISTORY_KEY = env_str("CPOR_HISTORY_KEY", "")
CELERY_BEAT_SCHEDULE = {
    # The sweep behind the per-commit wake-ups of the event consumers.
    "consume-events": {
        "task": "cpor.run_periodic_job",
        "schedule": env_int("OUTBOX_RETRY_SECONDS", 60, minimum=5),
        "args": ("consume_events",),
    },
    "outbox-retry": {
        "task": "cpor.run_periodic_job",
        "schedule": env_int("OUTBOX_RETRY_SECONDS", 60, minimum=5),
        "args": ("outbox_retry",),
    },
    **{
        f"periodic-{job}": {
            "task": "cpor.run_periodic_job",
            "schedule": float(env_int("PERIODIC_JOB_SECONDS", 900, minimum=5)),
            "args": (job,),
        }
        for job in (
            "activate_associations",
            "expire_subscriptions",
            "warn_stale_drafts",
            "expire_stale_drafts",
            "reject_unanswered",
            "sweep_upload_temp",
        )
    },
    "history-checkpoint": {
        "task": "cpor.run_periodic_job",
        "schedule": float(env_int("HISTORY_CHECKPOINT_SECONDS", 3600, minimum=5)),
        "args": ("history_checkpoint",),
    },
}


# --- REST API (Django REST framework, drf-spectacular) -------------------------------
# Token (Bearer) authentication for integrations, the session for the browsable API;
# throttled per token with rates from the environment (DRF's "N/second|minute|hour|day").
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The API token, refused while its user must still enrol a second factor.
        "cpor.accounts.api_auth.EnrolledApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "cpor.api.parsers.LimitedJSONParser",
        "cpor.api.parsers.LimitedMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["cpor.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env_str("API_THROTTLE_RATE", "600/minute"),
        "anon": env_str("API_THROTTLE_ANON_RATE", "60/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cpor.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "cpor.api.pagination.CursorPage",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CPOR API",
    "DESCRIPTION": "Claims, proofs of execution, reviews and associations of the Claiming "
    "Partner of Record program. Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cpor.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ClaimStatusEnum": "cpor.claims.models.ClaimStatus",
        "AssociationStatusEnum": "cpor.claims.models.AssociationStatus",
    },
}
# Idempotency keys are remembered this long; webhook endpoints must be https:// except
# for the hosts listed here (tests and local development).
API_IDEMPOTENCY_TTL_HOURS = env_int("API_IDEMPOTENCY_TTL_HOURS", 24, minimum=1)
API_WEBHOOK_INSECURE_HOSTS = env_list("API_WEBHOOK_INSECURE_HOSTS", [])
API_BULK_MAX_ROWS = env_int("API_BULK_MAX_ROWS", 1000, minimum=1)

# --- Usage -----------------------------------------------------------------------------
# Usage files are imported in batches of this many rows (memory stays flat whatever the
# file size); the upload page keeps this many rejected rows to show.
USAGE_IMPORT_BATCH_ROWS = env_int("USAGE_IMPORT_BATCH_ROWS", 50_000, minimum=1)
USAGE_REJECTIONS_SHOWN = env_int("USAGE_REJECTIONS_SHOWN", 1000, minimum=1)
# PostgreSQL memory for one import's checks and staging table (work_mem, temp_buffers).
USAGE_IMPORT_WORK_MEM = env_str("USAGE_IMPORT_WORK_MEM", "256MB")

# --- Partner self-service and customer-granted visibility (issue 11) --------------------
# Tenant look-ups in the claim wizard and the API, per user and per partner organisation
# within a sliding window; customers' partner invitations expire after this many days.
TENANT_LOOKUP_LIMIT_PER_USER = env_int("TENANT_LOOKUP_LIMIT_PER_USER", 30, minimum=1)
TENANT_LOOKUP_LIMIT_PER_ORGANISATION = env_int(
    "TENANT_LOOKUP_LIMIT_PER_ORGANISATION", 100, minimum=1
)
TENANT_LOOKUP_WINDOW_SECONDS = env_int("TENANT_LOOKUP_WINDOW_SECONDS", 3600, minimum=1)
CUSTOMER_INVITATION_DAYS = env_int("CUSTOMER_INVITATION_DAYS", 14, minimum=1)

# --- Operations: health, metrics, JSON logs, backups (cpor.ops, issue 12) --------------
# /health/live, /health/ready and /metrics (docs/operations.md). django-prometheus times
# every request by view (its two middlewares wrap all the others); django-structlog binds a
# request id per request (nginx's X-Request-ID when it sends one) and carries it into the
# Celery tasks the request publishes. With several gunicorn workers set
# PROMETHEUS_MULTIPROC_DIR (an empty directory per host, emptied at start) so one scrape
# reports them all.
INSTALLED_APPS += ["django_structlog", "cpor.ops"]
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "django_structlog.middlewares.RequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# /metrics: with a token, only `Authorization: Bearer <token>`; without one, production
# answers 404 and the embedded mode answers loopback clients only.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# State read from the database per scrape (claims by status, outbox) is shared through
# the cache this long, so many scrapers cost one set of grouped queries.
METRICS_DB_CACHE_SECONDS = env_int("METRICS_DB_CACHE_SECONDS", 15, minimum=0)
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True  # nginx sets it, replacing the client's
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # worker logs go through LOGGING below
# JSON lines in production, readable lines otherwise (CPOR_LOG_FORMAT overrides).
from cpor.ops.logs import logging_config  # noqa: E402 (structlog only, no models)

LOGGING = logging_config(
    json=env_choice("CPOR_LOG_FORMAT", "json" if PRODUCTION else "console", ("json", "console"))
    == "json",
    level=env_str("LOG_LEVEL", "INFO"),
)


# --- Data lifecycle: PoE files, retention, erasure (issue 11) -----------------------
# A PoE file no row references is deleted by the sweep once older than this: a younger
# one may belong to an upload whose transaction has not committed yet.
POE_ORPHAN_GRACE_SECONDS = env_int("POE_ORPHAN_GRACE_SECONDS", 6 * 3600, minimum=600)
# The analytics tables are kept this long in the cache once computed (0: never kept).
ANALYTICS_CACHE_SECONDS = env_int("ANALYTICS_CACHE_SECONDS", 300, minimum=0)
# Sent outbox messages (the mail log) and delivered webhook calls are kept this long;
# decline links this long after they expire. Idempotency keys: API_IDEMPOTENCY_TTL_HOURS.
RETENTION_SENT_MESSAGES_DAYS = env_int("RETENTION_SENT_MESSAGES_DAYS", 180, minimum=1)
RETENTION_DECLINE_LINKS_DAYS = env_int("RETENTION_DECLINE_LINKS_DAYS", 30, minimum=1)
CELERY_BEAT_SCHEDULE.update(
    {
        f"periodic-{job}": {
            "task": "cpor.run_periodic_job",
            "schedule": float(env_int("PERIODIC_JOB_SECONDS", 900, minimum=5)),
            "args": (job,),
        }
        for job in (
            "sweep_poe_orphans",
            "purge_sent_messages",
            "purge_decline_links",
            "purge_idempotency_records",
        )
    }
)
