"""Django settings for Sojourn, read from the environment.

Defaults run the demo on one laptop: SQLite in ``var/``, secrets generated into ``var/`` on first
use, mail written to files. ``sojourn check --deploy`` refuses those defaults for production.
"""

from __future__ import annotations

import secrets
from base64 import b64encode, urlsafe_b64encode
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from sojourn.environment import SettingError, env_bool, env_int, env_list, env_secret, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("SOJOURN_VAR_DIR", str(Path.cwd() / "var"))).resolve()


def _generated_secret(file_name: str, make: callable) -> str:
    """Return a secret kept in var/, creating it with owner-only permissions on first use."""
    path = VAR_DIR / file_name
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(make(), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


# Secrets ----------------------------------------------------------------------------------------
SECRET_KEY = env_secret("SOJOURN_SECRET_KEY")
SOJOURN_SECRET_KEY_GENERATED = not SECRET_KEY
if not SECRET_KEY:
    SECRET_KEY = _generated_secret("secret_key", lambda: secrets.token_urlsafe(50))

# The master key wraps every per-subject data key; old keys stay readable during a rotation.
SOJOURN_MASTER_KEY = env_secret("SOJOURN_MASTER_KEY")
SOJOURN_MASTER_KEY_GENERATED = not SOJOURN_MASTER_KEY
if not SOJOURN_MASTER_KEY:
    SOJOURN_MASTER_KEY = _generated_secret(
        "master_key", lambda: urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
    )
SOJOURN_PREVIOUS_MASTER_KEYS = env_list("SOJOURN_PREVIOUS_MASTER_KEYS", [])
# Signed checkpoints of the audit chain, kept outside the database so that a trail cut short or
# deleted is noticed (`sojourn audit verify`); point it at storage the database's users cannot write.
SOJOURN_AUDIT_CHECKPOINT_DIR = Path(env_str("SOJOURN_AUDIT_CHECKPOINT_DIR") or VAR_DIR / "audit-checkpoints")
SOJOURN_AUDIT_CHECKPOINT_EVERY = env_int("SOJOURN_AUDIT_CHECKPOINT_EVERY", 600)  # seconds, by the worker

# Runtime ----------------------------------------------------------------------------------------
DEBUG = env_bool("SOJOURN_DEBUG", False)
SOJOURN_HTTPS = env_bool("SOJOURN_HTTPS", False)
ALLOWED_HOSTS = env_list("SOJOURN_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("SOJOURN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "ninja",  # the API docs' Swagger UI from the package's own static files, not a CDN
    "sojourn.core",
    "sojourn.people",
    "sojourn.consent",
    "sojourn.questionnaires",
    "sojourn.tracking",
    "sojourn.content",
    "sojourn.safety",
    "sojourn.channels",
    "sojourn.dialogue",
    "sojourn.portal",
    "sojourn.insights",
    "sojourn.journeys",
    "sojourn.programs",
    "sojourn.simulation",
    "sojourn.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "sojourn.core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "sojourn.core.middleware.ApiErrorEnvelopeMiddleware",
    "sojourn.core.middleware.RequestGuardMiddleware",  # body size and control characters (docs/security.md)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sojourn.people.middleware.StaffContextMiddleware",
    "sojourn.people.middleware.ConsolePageMiddleware",
    "sojourn.core.middleware.DomainErrorPageMiddleware",  # refusals that leave a page's view (core/views.py)
    "axes.middleware.AxesMiddleware",
    "sojourn.core.middleware.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "sojourn.urls"
WSGI_APPLICATION = "sojourn.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "sojourn.people.context_processors.console",
                "sojourn.core.security.csp_nonce",
            ],
        },
    },
]

# Database ---------------------------------------------------------------------------------------
_database_url = env_str("SOJOURN_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'sojourn.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=env_int("SOJOURN_DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock up front so
        # two writers queue on busy_timeout instead of failing halfway through a transaction.
        # A 64 MB page cache keeps the event indexes of a large program in memory (SQLite's default
        # is 2 MB). A batch of 1,000 events over 100,000 patients changes about 4,000 pages (16 MB):
        # checkpointing every 64 MB of WAL instead of every 4 MB copies a page changed by several
        # batches back once, and spares three batches in four a checkpoint of their own.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                        "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=16000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# A streaming replica of the PostgreSQL database (optional): the console's analytics read from it once it
# has replayed the primary's latest writes, the primary otherwise (docs/postgresql.md, core/replicas.py).
_replica_url = env_str("SOJOURN_REPLICA_URL")
if _replica_url:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise SettingError("SOJOURN_REPLICA_URL needs SOJOURN_DATABASE_URL on PostgreSQL too")
    DATABASES["replica"] = dj_database_url.parse(_replica_url, conn_max_age=env_int("SOJOURN_DB_CONN_MAX_AGE", 0))
    if not DATABASES["replica"]["ENGINE"].endswith("postgresql"):
        raise SettingError("SOJOURN_REPLICA_URL must be a postgres:// URL")
    # An unreachable replica must not hold a page for long: analytics then read the primary.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    # A test run has no standby of its test database: the alias then reads the primary's.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
SOJOURN_REPLICA_WAIT_MS = env_int("SOJOURN_REPLICA_WAIT_MS", 2000)
DATABASE_ROUTERS = ["sojourn.core.replicas.AnalyticsRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The engine -------------------------------------------------------------------------------------
SOJOURN_EVENT_LATE_DAYS = env_int("SOJOURN_EVENT_LATE_DAYS", 30)  # events older than this are refused
# A request body (JSON or form fields, not uploaded files) past this many bytes is refused with 413
# before anything parses it (docs/security.md); Django's own default, stated so operators see it.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("SOJOURN_MAX_REQUEST_BYTES", 2_621_440)
# Channel → adapter class, over the defaults in channels/adapters.py (the recording channel, a table,
# for channels without one). From the environment as "web=dotted.Path,sms=dotted.Path".
SOJOURN_CHANNEL_ADAPTERS: dict[str, str] = dict(
    pair.split("=", 1) for pair in env_str("SOJOURN_CHANNEL_ADAPTERS").split(",") if "=" in pair)
# Seconds the recording channel waits per batch: only for tests that kill a worker mid-batch.
SOJOURN_RECORDING_DELAY = env_int("SOJOURN_RECORDING_DELAY_MS", 0) / 1000

# Authentication ---------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "console:sign-in"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:sign-in"

# Five failures for one username from one address lock that pair for fifteen minutes.
AXES_FAILURE_LIMIT = env_int("SOJOURN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "sojourn.people.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "sojourn.people.services.throttling.client_address"
# Throttles, counted in the database so that every web process shares them (people/services/throttling.py):
# sign-in codes one email address, and one client address, may ask for per hour (enrolled or not), and
# failed console sign-ins per client address per fifteen minutes, across usernames (password spraying).
SOJOURN_CODE_REQUESTS_PER_ADDRESS = env_int("SOJOURN_CODE_REQUESTS_PER_ADDRESS", 5)
SOJOURN_CODE_REQUESTS_PER_CLIENT = env_int("SOJOURN_CODE_REQUESTS_PER_CLIENT", 20)
SOJOURN_SIGN_IN_FAILURES_PER_CLIENT = env_int("SOJOURN_SIGN_IN_FAILURES_PER_CLIENT", 30)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_SECURE = SOJOURN_HTTPS
CSRF_COOKIE_SECURE = SOJOURN_HTTPS
SECURE_SSL_REDIRECT = SOJOURN_HTTPS and env_bool("SOJOURN_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SOJOURN_HSTS_SECONDS", 31536000 if SOJOURN_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SOJOURN_HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind our reverse proxy, the client address is the last X-Forwarded-For entry (the proxy's own).
SOJOURN_BEHIND_PROXY = env_bool("SOJOURN_BEHIND_PROXY", False)
if SOJOURN_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Internationalization ---------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German")), ("ja", _("Japanese")), ("fr", _("French"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# Static files -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

# Where patients reach Sojourn: the base of links in emails and text messages.
SOJOURN_PUBLIC_URL = env_str("SOJOURN_PUBLIC_URL", "http://localhost:8000")
# Who sends the program's E2B(R3) safety reports (N.1.3, and in every case's C.1.1): the operator's
# identifier as agreed with the sponsor's drug safety department.
SOJOURN_E2B_SENDER = env_str("SOJOURN_E2B_SENDER", "SOJOURN")

# Text messages: "local" writes them to var/sms/outbox.jsonl (development, the demo); "http" sends them
# through the provider at SOJOURN_SMS_URL with SOJOURN_SMS_TOKEN.
SOJOURN_SMS_PROVIDER = env_str("SOJOURN_SMS_PROVIDER", "local")
SOJOURN_SMS_URL = env_str("SOJOURN_SMS_URL")
SOJOURN_SMS_TOKEN = env_secret("SOJOURN_SMS_TOKEN")
SOJOURN_SMS_GATEWAY_DIR = VAR_DIR / "sms"
# Providers call back (SMS replies and delivery reports, email bounces) with signed webhooks (Standard
# Webhooks: webhook-id, webhook-timestamp, webhook-signature): a secret per channel, whsec_<base64>, with
# the previous one still accepted during a rotation. The demo generates its own into var/.
# Which of them were generated here (the deploy check refuses those: the provider must know the secret).
SOJOURN_WEBHOOK_SECRETS_GENERATED = [name for name in ("SOJOURN_SMS_WEBHOOK_SECRET", "SOJOURN_EMAIL_WEBHOOK_SECRET")
                                     if not env_secret(name)]
SOJOURN_SMS_WEBHOOK_SECRET = env_secret("SOJOURN_SMS_WEBHOOK_SECRET") or _generated_secret(
    "sms_webhook_secret", lambda: "whsec_" + b64encode(secrets.token_bytes(32)).decode("ascii"))
SOJOURN_SMS_WEBHOOK_PREVIOUS_SECRET = env_secret("SOJOURN_SMS_WEBHOOK_PREVIOUS_SECRET")
SOJOURN_EMAIL_WEBHOOK_SECRET = env_secret("SOJOURN_EMAIL_WEBHOOK_SECRET") or _generated_secret(
    "email_webhook_secret", lambda: "whsec_" + b64encode(secrets.token_bytes(32)).decode("ascii"))
SOJOURN_EMAIL_WEBHOOK_PREVIOUS_SECRET = env_secret("SOJOURN_EMAIL_WEBHOOK_PREVIOUS_SECRET")
# The print house's drop folder: each magazine issue is written to <folder>/<program>/<issue>/.
SOJOURN_PRINT_DIR = Path(env_str("SOJOURN_PRINT_DIR") or VAR_DIR / "print")
# …and, when set, uploaded to the print house: sftp://user@host:22/path, with a private key file and
# a known_hosts file holding the server's key (never trusted on first use).
SOJOURN_PRINT_SFTP_URL = env_str("SOJOURN_PRINT_SFTP_URL")
SOJOURN_PRINT_SFTP_KEY = env_str("SOJOURN_PRINT_SFTP_KEY")
SOJOURN_PRINT_SFTP_KNOWN_HOSTS = env_str("SOJOURN_PRINT_SFTP_KNOWN_HOSTS")

# Email ------------------------------------------------------------------------------------------
EMAIL_HOST = env_str("SOJOURN_EMAIL_HOST")
EMAIL_PORT = env_int("SOJOURN_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("SOJOURN_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_secret("SOJOURN_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("SOJOURN_EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env_str("SOJOURN_EMAIL_FROM", "Sojourn <no-reply@localhost>")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    # Without an SMTP server (the demo), every message is written to var/mail/<recipient>/ to be read;
    # erasing a patient deletes their folder (sojourn.channels.filebased, docs/privacy.md).
    EMAIL_BACKEND = "sojourn.channels.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# Logging: structured enough to operate, and never a line of personal data ------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("SOJOURN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50
