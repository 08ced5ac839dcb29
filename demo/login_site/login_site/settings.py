"""Settings of the gcverify demo staff login site (Django + django-otp TOTP).

Environment:
  GCVERIFY_LOGIN_SITE_DB          path of the SQLite database (required)
  GCVERIFY_LOGIN_SITE_SECRET_KEY  Django SECRET_KEY (default: random per start)
  GCVERIFY_LOGIN_SITE_MODE        "totp" (default), or one of the deliberately
                                  noncompliant variants: "password-only", "any-code",
                                  "portal-after-password", "replay" (see views.py)
"""
import os
import secrets

from django.core.exceptions import ImproperlyConfigured

SECRET_KEY = os.environ.get("GCVERIFY_LOGIN_SITE_SECRET_KEY") or secrets.token_urlsafe(50)

_db = os.environ.get("GCVERIFY_LOGIN_SITE_DB", "").strip()
if not _db:
    raise ImproperlyConfigured(
        "GCVERIFY_LOGIN_SITE_DB is not set: set it to the path of the SQLite "
        "database file of the login site (e.g. /tmp/login_site.sqlite3)"
    )

LOGIN_MODES = ("totp", "password-only", "any-code", "portal-after-password", "replay")
LOGIN_MODE = os.environ.get("GCVERIFY_LOGIN_SITE_MODE", "").strip() or "totp"
if LOGIN_MODE not in LOGIN_MODES:
    raise ImproperlyConfigured(
        f"GCVERIFY_LOGIN_SITE_MODE must be one of {', '.join(LOGIN_MODES)}, not {LOGIN_MODE!r}"
    )

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "login_site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "login_site.urls"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _db,
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LOGIN_URL = "/login/"
AUTH_PASSWORD_VALIDATORS = []

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-otp: the TOTP device's name as shown to authenticator apps.
OTP_TOTP_ISSUER = "gcverify demo"

# Warnings and errors only, to stderr (request lines of runserver included).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "django.server": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}
