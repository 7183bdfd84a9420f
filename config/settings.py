"""Pilotage CVU settings, read from the environment.

Development defaults are safe: SQLite file, tasks run in-process, DEBUG off unless asked. Production
differs only by environment values (see README, "Production").
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """A string from NAME, or from the file named by NAME_FILE (for secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value in ("True", "true", "1"):
        return True
    if value in ("False", "false", "0"):
        return False
    raise ImproperlyConfigured(f"{name} doit valoir True ou False (reçu : {value!r}).")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} doit être un nombre entier (reçu : {value!r})."
        ) from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """DATABASES["default"] from postgres://user:password@host:port/name."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(f"DATABASE_URL : schéma non pris en charge ({parts.scheme!r}).")
    return postgres_database(
        name=unquote(parts.path.lstrip("/")),
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=parts.hostname or "",
        port=str(parts.port or ""),
    )


def postgres_options(statement_timeout_ms: int) -> str:
    """The session settings of every PostgreSQL connection (web, worker, benchmark)."""
    return f"-c statement_timeout={statement_timeout_ms} -c jit=off"


def postgres_database(*, name: str, user: str, password: str, host: str, port: str) -> dict:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": user,
        "PASSWORD": password,
        "HOST": host,
        "PORT": port,
        "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
        # PostgreSQL ends a statement after DATABASE_STATEMENT_TIMEOUT ms, 20 s by default: less
        # than gunicorn's 30 s, so a request it kills does not leave its query running. The
        # worker lifts it to WORKER_STATEMENT_TIMEOUT (config/celery.py), the benchmark to none.
        # JIT off: above jit_above_cost PostgreSQL compiles each query to machine code, which
        # pays off for long analytical scans but cost the dashboard's late-bilans query 270 ms
        # of its 330 ms at ten times PMA's history (measured with EXPLAIN ANALYZE).
        "OPTIONS": {"options": postgres_options(env_int("DATABASE_STATEMENT_TIMEOUT", 20_000))},
    }


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY est obligatoire quand DEBUG est désactivé.")
    SECRET_KEY = "dev-only-key-never-used-in-production-" + "x" * 20

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The application's public address, for links in e-mails sent by the worker.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "simple_history",
    "axes",
    "core",
    "comptes",
    "quartiers",
    "cvu",
    "participation",
    "reporting",
]

MIDDLEWARE = [
    # First: its request id and timing cover everything below.
    "core.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "reporting.middleware.FiguresWarmingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "core.context_processors.nav_section",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
elif env_str("POSTGRES_HOST"):
    # Separate variables, as the compose file and the postgres image name them: a password
    # needs no URL escaping (and may come from POSTGRES_PASSWORD_FILE).
    DATABASES = {
        "default": postgres_database(
            name=env_str("POSTGRES_DB", "pilotage_cvu"),
            user=env_str("POSTGRES_USER", "cvu"),
            password=env_str("POSTGRES_PASSWORD"),
            host=env_str("POSTGRES_HOST"),
            port=env_str("POSTGRES_PORT", "5432"),
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        }
    }

# Figures kept until the data they come from changes (core.versions). In each process's memory
# by default; with CACHE_URL (redis://host:6379/1) every web and worker process shares them, and
# after each write the worker computes the pages' default figures before anyone asks for them
# (reporting.tasks.warm_figures; FIGURES_WARM turns that off). Keys carry the database's name, so
# two deployments may share one Redis. With Redis down the figures are computed on each request.
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL:
    if urlsplit(CACHE_URL).scheme not in ("redis", "rediss"):
        raise ImproperlyConfigured(
            f"CACHE_URL : schéma non pris en charge ({urlsplit(CACHE_URL).scheme!r}), "
            "attendu redis:// ou rediss://."
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": f"pilotage:{DATABASES['default']['NAME']}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
FIGURES_WARM = env_bool("FIGURES_WARM", bool(CACHE_URL))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite (the demo) builds covering indexes without their INCLUDE columns, which is all they
# are for there: its warning at each migrate would only alarm (cvu.Financement's amounts index).
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "comptes.User"
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out address never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "comptes:login"
LOGIN_REDIRECT_URL = "reporting:home"
LOGOUT_REDIRECT_URL = "comptes:login"

# Failed logins (comptes/lockout.py): 5 tries for an account from one address lock that address
# out of it; 20 for an account from any addresses lock the account (password spraying). Both
# last the cool-off, which failures during the lock do not extend; the owner gets an e-mail.
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_ACCOUNT_FAILURE_LIMIT = env_int("AXES_ACCOUNT_FAILURE_LIMIT", 20)
AXES_FAILURE_LIMIT = "comptes.lockout.failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The login form's field is "username" even though it holds the e-mail address.
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "comptes/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0)
AXES_VERBOSE = False

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 10 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LANGUAGE_CODE = "fr-fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Files are private: no MEDIA_URL route; views serve them after a permission check.
DOCUMENT_MAX_SIZE = env_int("DOCUMENT_MAX_SIZE_MB", 10) * 1_000_000
IMPORT_MAX_SIZE = env_int("IMPORT_MAX_SIZE_MB", 5) * 1_000_000
FILE_UPLOAD_PERMISSIONS = 0o640
# Stored files (documents, pieces, reports, minutes, imports waiting for confirmation) go through
# Django's storage API: the MEDIA_ROOT directory by default, or S3-compatible object storage
# (django-storages) when S3_BUCKET is set, so that web and worker hosts share no disk. Files are
# private either way: the application streams them after a permission check, never by URL.
# "imports": import files between preview and confirmation, owner-only on a local disk.
S3_BUCKET = env_str("S3_BUCKET")
if S3_BUCKET:
    _S3 = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "location": env_str("S3_PREFIX"),
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
    STORAGES_FILES = {"default": _S3, "imports": _S3}
else:
    STORAGES_FILES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "imports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"file_permissions_mode": 0o600},
        },
    }
STORAGES = {
    **STORAGES_FILES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Pilotage CVU <ne-pas-repondre@localhost>")
# The accessibility statement's contact (RGAA): an e-mail address and a postal address of the
# service that answers; left empty, the statement points to the application's administrator.
ACCESSIBILITE_CONTACT_EMAIL = env_str("ACCESSIBILITE_CONTACT_EMAIL", "")
ACCESSIBILITE_CONTACT_ADRESSE = env_str("ACCESSIBILITE_CONTACT_ADRESSE", "")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: without a broker, tasks run in-process (demo, tests); with Redis, a real worker.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL) or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
# The worker logs through LOGGING above (ids, JSON) instead of replacing it with its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A worker child is replaced after this many tasks, or after a task leaves it above this many
# KiB resident (a big report peaks near 1.5 GiB): the memory goes back to the system.
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 100)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 500_000)
# Statement timeout of the worker's database connections, in ms (0: none); see DATABASES.
WORKER_STATEMENT_TIMEOUT = env_int("WORKER_STATEMENT_TIMEOUT", 0)
CELERY_RESULT_EXPIRES = 3600
# A request never waits on an absent broker (the defaults retry for ~20 s): one connection try
# of at most a second, one quick retry, then the caller gives up. What must happen is kept in
# the database (core.Courriel) and sent by core.tasks.send_pending_emails once Redis is back.
_QUICK_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
# A message taken by a worker that then disappears (killed, machine lost) goes back to the queue
# after visibility_timeout: just over the task time limit, not Redis's default hour.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 120,
    **_QUICK_RETRY,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = _QUICK_RETRY
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": _QUICK_RETRY}
# Beat remembers each entry's last run in this file (a shelve, written every few minutes): outside
# the repository, which stays read-only; in /tmp by default, so a reboot only forgets when the
# entries last ran. One beat per deployment; give it a lasting path in production.
CELERY_BEAT_SCHEDULE_FILENAME = env_str(
    "CELERY_BEAT_SCHEDULE_FILENAME",
    str(Path(tempfile.gettempdir()) / "pilotage-cvu-celerybeat-schedule"),
)
CELERY_BEAT_SCHEDULE = {
    "recapitulatif-hebdomadaire": {
        "task": "cvu.tasks.send_weekly_digest",
        "schedule": crontab(day_of_week="mon", hour=7, minute=30),
    },
    "anonymisation-des-membres": {
        "task": "participation.tasks.anonymise_members",
        "schedule": crontab(hour=3, minute=15),
    },
    "pack-mensuel-direction": {
        "task": "reporting.tasks.build_monthly_pack",
        "schedule": crontab(day_of_month=1, hour=6, minute=0),
    },
    "purge-des-rapports": {
        "task": "reporting.tasks.purge_reports",
        "schedule": crontab(hour=3, minute=45),
    },
    "envoi-des-courriels-en-attente": {
        "task": "core.tasks.send_pending_emails",
        "schedule": crontab(),  # every minute
    },
    "purge-des-courriels": {
        "task": "core.tasks.purge_emails",
        "schedule": crontab(hour=3, minute=35),
    },
    "purge-des-sessions": {
        "task": "core.tasks.clear_sessions",
        "schedule": crontab(hour=3, minute=30),
    },
    "prechauffage-des-chiffres": {
        "task": "reporting.tasks.warm_figures",
        "schedule": crontab(),  # every minute, for writes made outside a request (FIGURES_WARM)
    },
    "relance-des-rapports-interrompus": {
        "task": "reporting.tasks.requeue_interrupted_reports",
        "schedule": crontab(minute="*/5"),
    },
    "battement": {
        "task": "core.tasks.heartbeat",
        "schedule": crontab(),  # every minute: /healthz tells beat and the worker are alive
    },
    "purge-des-apercus-d-import": {
        "task": "participation.tasks.purge_import_previews",
        "schedule": crontab(minute=5),
    },
}
# PDF reports are kept this many days, then deleted (file and record).
RAPPORTS_CONSERVATION_JOURS = env_int("RAPPORTS_CONSERVATION_JOURS", 90)
# A bilan de programmation of more dossiers than this prints totals and groups only; its full
# lists of dossiers and bilans go into an Excel annex (PMA programmes about 130 a year).
PROGRAMMATION_LISTE_MAX = env_int("PROGRAMMATION_LISTE_MAX", 400)

# Security: the flags follow DEBUG, so production needs nothing but its environment.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# One line per request and per task (core.logs), each with its request id, task id and user id;
# LOG_FORMAT=json writes one JSON object per line for a log collector.
LOG_FORMAT = env_str("LOG_FORMAT", "texte")
if LOG_FORMAT not in ("texte", "json"):
    raise ImproperlyConfigured("LOG_FORMAT vaut « texte » ou « json ».")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.logs.ContextFilter"}},
    "formatters": {
        "texte": {
            "format": "%(asctime)s %(levelname)s %(name)s "
            "[requête %(request_id)s tâche %(task_id)s utilisateur %(user_id)s] %(message)s"
        },
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Personal data of council members: anonymised this many years after their mandate ends.
MEMBRES_CONSERVATION_ANNEES = env_int("MEMBRES_CONSERVATION_ANNEES", 3)
# A member file uploaded for a preview is deleted this many minutes later if not confirmed.
IMPORT_APERCU_MINUTES = env_int("IMPORT_APERCU_MINUTES", 60)
