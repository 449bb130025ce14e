"""Django settings, read from environment variables.

SPREADSCALE_HOME      data directory (default ./var): SQLite database, uploads, secret key in demo mode
DATABASE_URL          e.g. postgres://user@127.0.0.1:5432/spreadscale; unset means SQLite in SPREADSCALE_HOME
SPREADSCALE_SECRET_KEY required unless SPREADSCALE_DEMO or SPREADSCALE_DEBUG is on
SPREADSCALE_DEBUG     Django debug pages (never in production)
SPREADSCALE_DEMO      demo mode: a secret key is generated in SPREADSCALE_HOME
SPREADSCALE_ALLOWED_HOSTS comma-separated host names (default: localhost names only)
SPREADSCALE_API_MAX_BODY_MB largest request body accepted, in MB (default 50, the import's file cap);
                      bigger API bodies get a JSON 413. File uploads are not counted against it.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from spreadscale.web.env import env_bool, env_int, env_list, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent
HOME = env_path("SPREADSCALE_HOME", "./var")
DEBUG = env_bool("SPREADSCALE_DEBUG")
DEMO = env_bool("SPREADSCALE_DEMO")


def _secret_key() -> str:
    key = env_str("SPREADSCALE_SECRET_KEY")
    if key:
        return key
    if not (DEBUG or DEMO):
        raise ImproperlyConfigured(
            "SPREADSCALE_SECRET_KEY is not set. Set it to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or run in demo mode with SPREADSCALE_DEMO=1."
        )
    # Demo and debug only: one random key per data directory, kept so sessions survive restarts.
    HOME.mkdir(parents=True, exist_ok=True)
    path = HOME / "secret.key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("SPREADSCALE_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("SPREADSCALE_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    # Listed so /api/docs renders Swagger UI from ninja's own static files, not from a CDN.
    "ninja",
    "spreadscale.web.core",
    "spreadscale.web.measurement",
    "spreadscale.web.improvement",
    "spreadscale.web.fidelity",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "spreadscale.web.middleware.NumberOutOfRangeMiddleware",
]

ROOT_URLCONF = "spreadscale.web.urls"
WSGI_APPLICATION = "spreadscale.web.wsgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]


def _databases() -> dict[str, dict[str, object]]:
    url = env_str("DATABASE_URL")
    if url:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
        return {"default": config}
    HOME.mkdir(parents=True, exist_ok=True)
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(HOME / "spreadscale.sqlite3"),
            "OPTIONS": {
                # WAL lets readers work while one writer commits; IMMEDIATE takes the write
                # lock at BEGIN so concurrent writers queue on busy_timeout instead of failing.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": env_int("SPREADSCALE_SQLITE_TIMEOUT", 20),
            },
            "TEST": {"NAME": None},
        }
    }


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Per process. The at-a-glance board keeps one entry per measure (its cells for every enrolled
# site), keyed on the measure's data token, so entries are never stale, only unused; the default
# limit of 300 entries would evict a large programme's board on every view.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": env_int("SPREADSCALE_CACHE_ENTRIES", 5000)},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("SPREADSCALE_TIME_ZONE", "Europe/London") or "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Static files are served by WhiteNoise straight from the package: no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Django's 2.5 MB default would refuse a bulk upsert of some 20k observations with an HTML 400.
# The limit counts every non-file request body; the API answers a bigger one with a JSON 413.
_MAX_BODY_MB = env_int("SPREADSCALE_API_MAX_BODY_MB", 50)
if _MAX_BODY_MB < 1:
    raise ImproperlyConfigured("SPREADSCALE_API_MAX_BODY_MB must be 1 or more (megabytes).")
DATA_UPLOAD_MAX_MEMORY_SIZE = _MAX_BODY_MB * 1024 * 1024

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "programme_list"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SPREADSCALE_SECURE_COOKIES", default=not (DEBUG or DEMO))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
