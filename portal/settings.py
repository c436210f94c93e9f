"""Portal settings: one module, configured from the environment (django-environ) with embedded defaults."""

import os
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env (never committed) lets `make run` keep its generated secrets between starts.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
TESTING = env.bool("DJANGO_TESTING", default=False)

if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-local-development-key-never-used-in-production")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
else:
    # Secure by default: without debug the portal refuses to start on a guessable key or an open host list.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # For its index expressions (OpClass in the trigram indexes of migration 0012); inert on SQLite.
    "django.contrib.postgres",
    "django_tables2",
    "django_filters",
    "syncapp",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.SecurityHeadersMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Production serves the collected static files itself (gunicorn has no static handler); runserver does in debug.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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

VAR_DIR.mkdir(exist_ok=True)  # the SQLite file, broker folders and beat schedule live here by default
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the Celery worker share the file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
    # A file (not memory) test database, so a browser test's live server and a real worker process share it.
    # One file per test process, so two test runs on one machine never share (and corrupt) each other's database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-portal-{os.getpid()}.sqlite3")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# --- Sign-in throttling (django-axes): the portal's and the admin's login share it --------------------------------
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# After this many failed sign-ins a user name, and separately an address, is locked out for the cool-off time.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "portal.client_ip.client_ip_address"
# How many reverse proxies in front of gunicorn append to X-Forwarded-For (0: the address is REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "syncapp:customer-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and not TESTING
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/table.html"

# --- Deployment hardening (all on unless debugging) -------------------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (django-csp): scripts and styles only from the portal's own static files, never inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"

# --- Celery -----------------------------------------------------------------------------------------------------
# Default broker needs no server: Celery's filesystem transport under var/. Set CELERY_BROKER_URL for Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The worker looks for new messages (and fires due countdowns) this often; Kombu's default of 1 s added up
        # to a second to every webhook's latency (measured in bench/webhook_bench.py). A listdir per tick is cheap.
        "polling_interval": 0.2,
    }
    CELERY_BROKER_TRANSPORT = "portal.broker:FilesystemTransport"  # publishing atomically
    # The filesystem transport expects its folders to exist.
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Longer than the hard time limit below, so a running task is never redelivered while it is still alive.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # kombu's Redis transport with a fix: a worker no longer exits when Redis restarts during a task.
    CELERY_BROKER_TRANSPORT = "portal.broker:RedisTransport"
CELERY_RESULT_BACKEND = None  # the page polls the SyncRun row, never Celery results
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A sync task works in slices shorter than this (it checkpoints and re-queues itself), so these are a safety net.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Beat only ticks; whether a scheduled sync is due is decided from the database schedule an administrator edits.
    "halopsa-product-sync-tick": {"task": "syncapp.tasks.scheduled_sync_tick", "schedule": 60.0},
}

# --- HaloPSA ----------------------------------------------------------------------------------------------------
# By default the portal talks to the local simulator (`make run` starts it); point these at a real tenant in production.
HALO_RESOURCE_URL = env.str("HALO_RESOURCE_URL", default="http://127.0.0.1:8765")
HALO_AUTH_URL = env.str("HALO_AUTH_URL", default="") or HALO_RESOURCE_URL.rstrip("/") + "/auth"
HALO_TENANT = env.str("HALO_TENANT", default="demo")
HALO_CLIENT_ID = env.str("HALO_CLIENT_ID", default="datagate-portal")
HALO_CLIENT_SECRET = env.str("HALO_CLIENT_SECRET", default="")
HALO_SCOPE = env.str("HALO_SCOPE", default="all")
HALO_RATE_LIMIT = env.int("HALO_RATE_LIMIT", default=300)
HALO_TIMEOUT = env.float("HALO_TIMEOUT", default=30.0)
# Retries of one HaloPSA request on 429, 5xx or a dropped connection, with capped, jittered back-off.
HALO_MAX_RETRIES = env.int("HALO_MAX_RETRIES", default=5)
# HaloPSA's rolling window (5 minutes on hosted tenants) and how long a sync sits out continuous 429s before failing.
HALO_RATE_WINDOW = env.float("HALO_RATE_WINDOW", default=300.0)
HALO_RATE_LIMIT_PATIENCE = env.float("HALO_RATE_LIMIT_PATIENCE", default=15 * 60.0)
# Every process draws from one HaloPSA request budget: in this cache when set (redis://..., dbcache://table),
# else in a file guarded by an OS lock (fine while the portal, worker and commands share one machine).
HALO_BUDGET_CACHE_URL = env.str("HALO_BUDGET_CACHE_URL", default="")
HALO_BUDGET_FILE = env.str("HALO_BUDGET_FILE", default=str(VAR_DIR / "halo-budget.json"))
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if HALO_BUDGET_CACHE_URL:
    CACHES["halo-budget"] = env.cache_url_config(HALO_BUDGET_CACHE_URL)
# Total seconds for a HaloPSA check a person waits for ("Test account access", the matching screen's id check,
# halo_check), retries included; well under gunicorn's --timeout (30 s) so a slow HaloPSA gets a plain message.
HALO_INTERACTIVE_BUDGET_SECONDS = env.float("HALO_INTERACTIVE_BUDGET_SECONDS", default=10.0)
# Plain-http HaloPSA URLs are accepted only for loopback (the simulator) and only when this or DEBUG is on.
HALO_ALLOW_HTTP_LOOPBACK = env.bool("HALO_ALLOW_HTTP_LOOPBACK", default=False)
# Seconds without a heartbeat after which a queued or running sync is considered abandoned (its worker died).
SYNC_STALE_AFTER_SECONDS = env.int("SYNC_STALE_AFTER_SECONDS", default=300)
# A queued run no worker has claimed for this long gets its task sent again by beat's tick (a broker restarted
# without persistence loses queued messages); must be well under SYNC_STALE_AFTER_SECONDS.
SYNC_RESEND_AFTER_SECONDS = env.int("SYNC_RESEND_AFTER_SECONDS", default=90)
# How often a running sync beats its heartbeat, also while HaloPSA's pacing holds it between pages.
SYNC_HEARTBEAT_SECONDS = env.int("SYNC_HEARTBEAT_SECONDS", default=30)
# A running sync without a heartbeat this long lost its worker: the next worker to get its task takes it over and
# goes on from its last written page (beat's tick sends the task again).
SYNC_TAKEOVER_AFTER_SECONDS = env.int("SYNC_TAKEOVER_AFTER_SECONDS", default=2 * SYNC_HEARTBEAT_SECONDS)
# A run whose worker died this many times is closed as abandoned instead of being taken up again.
SYNC_MAX_ATTEMPTS = env.int("SYNC_MAX_ATTEMPTS", default=5)
# How long one task slice may run before it checkpoints and re-queues the rest of the sync.
SYNC_SLICE_SECONDS = env.int("SYNC_SLICE_SECONDS", default=10 * 60)
# The schedule's defaults when first created: on for the demo (`make run` sets it), off in production.
SYNC_SCHEDULE_DEFAULT_ENABLED = env.bool("SYNC_SCHEDULE_DEFAULT_ENABLED", default=False)
SYNC_SCHEDULE_DEFAULT_INTERVAL_MINUTES = env.int("SYNC_SCHEDULE_DEFAULT_INTERVAL_MINUTES", default=60)
# A ticked HaloPSA client scoring at least this against an unlinked customer is held back from import as a
# possible duplicate (syncapp/matching/score.py: High starts at 60).
DUPLICATE_HOLD_BACK_SCORE = env.int("DUPLICATE_HOLD_BACK_SCORE", default=60)

# HaloPSA's outbound webhooks (POST /halo/webhook/): off unless a token or a username and password are set.
HALO_WEBHOOK_TOKEN = env.str("HALO_WEBHOOK_TOKEN", default="")
HALO_WEBHOOK_USERNAME = env.str("HALO_WEBHOOK_USERNAME", default="")
HALO_WEBHOOK_PASSWORD = env.str("HALO_WEBHOOK_PASSWORD", default="")
# Largest webhook body accepted, bytes (a batch of a few hundred events fits).
HALO_WEBHOOK_MAX_BODY_BYTES = env.int("HALO_WEBHOOK_MAX_BODY_BYTES", default=256 * 1024)
# A client's webhook events cost one read once they have been quiet this many seconds (a burst costs one read);
# a client changing non-stop is still read at least every HALO_WEBHOOK_COALESCE_MAX_SECONDS.
HALO_WEBHOOK_COALESCE_SECONDS = env.float("HALO_WEBHOOK_COALESCE_SECONDS", default=0.5)
HALO_WEBHOOK_COALESCE_MAX_SECONDS = env.float("HALO_WEBHOOK_COALESCE_MAX_SECONDS", default=10.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
