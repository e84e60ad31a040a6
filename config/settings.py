"""Maillage settings: one file, driven by the environment.

MAILLAGE_ENV selects the mode: ``dev`` (default, embedded SQLite, DEBUG on), ``test`` (set by the
test suite) or ``production`` (refuses to start without real secrets).
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


MAILLAGE_ENV = env("MAILLAGE_ENV", "dev")
PRODUCTION = MAILLAGE_ENV == "production"
TESTING = MAILLAGE_ENV == "test"

# Development-only fallbacks: production refuses them (see the checks below).
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"  # noqa: S105
_DEV_ENCRYPTION_KEYS = "dev1:ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzJieXRlcyE="

SECRET_KEY = env("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET_KEY)
# Keys for the encryption at rest of free-text fields: "kid:base64key,kid2:base64key", first is current.
MAILLAGE_ENCRYPTION_KEYS = env("MAILLAGE_ENCRYPTION_KEYS", "" if PRODUCTION else _DEV_ENCRYPTION_KEYS)

# Key of the access journal's HMAC chain, kept outside the database: someone who can write to the database
# cannot rewrite the journal and its chain head unnoticed (CNIL 2021-122: entries sealed at creation).
_DEV_AUDIT_KEY = "dev-only-audit-chain-key-do-not-use-in-production"  # noqa: S105
MAILLAGE_AUDIT_KEY = env("MAILLAGE_AUDIT_KEY", "" if PRODUCTION else _DEV_AUDIT_KEY)

if PRODUCTION:
    if not MAILLAGE_AUDIT_KEY or MAILLAGE_AUDIT_KEY == _DEV_AUDIT_KEY or len(MAILLAGE_AUDIT_KEY) < 32:
        raise ImproperlyConfigured("MAILLAGE_AUDIT_KEY must be set to at least 32 random characters.")
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters.")
    if not MAILLAGE_ENCRYPTION_KEYS or MAILLAGE_ENCRYPTION_KEYS == _DEV_ENCRYPTION_KEYS:
        raise ImproperlyConfigured("MAILLAGE_ENCRYPTION_KEYS must be set (see README: encryption keys).")
    if MAILLAGE_ENCRYPTION_KEYS.split(":", 1)[-1] in SECRET_KEY:
        raise ImproperlyConfigured("The encryption keys must not be derived from SECRET_KEY.")

DEBUG = env_bool("DEBUG", MAILLAGE_ENV == "dev")
ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "widget_tweaks",
    "dsfr",
    "django_htmx",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.usersessions",
    "django_tasks",
    "django_tasks_db",
    "maillage.core",
    "maillage.accounts",
    "maillage.territories",
    "maillage.programmes",
    "maillage.people",
    "maillage.audit",
    "maillage.referrals",
    "maillage.pathways",
    "maillage.governance",
    "maillage.offers",
    "maillage.steering",
    "maillage.www",
    "maillage.operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Memberships, charter state and per-pathway access facts read once per request (the policy).
    "maillage.core.request_cache.RequestCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Renews the session and records its activity at most once a minute (allauth's own middleware
    # and SESSION_SAVE_EVERY_REQUEST wrote at every request, read-only pages included).
    "maillage.accounts.middleware.SessionHeartbeatMiddleware",
    "maillage.accounts.middleware.SessionLifetimeMiddleware",
    "maillage.accounts.mfa.MFAEnrolmentMiddleware",
    "maillage.core.middleware.RequestContextMiddleware",
    # Nominative pages (@sensitive views) show the charter instead until it is signed.
    "maillage.audit.middleware.CharterGateMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "maillage" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "maillage.core.context_processors.site",
                "maillage.www.context.navigation",
            ],
        },
    }
]

# Database: embedded SQLite by default, PostgreSQL through DATABASE_URL.
(BASE_DIR / "var" / "static").mkdir(parents=True, exist_ok=True)
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'maillage.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
    DATABASES["default"]["TEST"] = {"NAME": env("SQLITE_TEST_NAME", "") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}
        if env("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "maillage_cache"}
    )
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; the suite creates thousands of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
# CNIL délibération 2022-100: at least 12 characters and a check against common passwords.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# allauth: email login, no self sign-up (accounts come from invitations).
ACCOUNT_ADAPTER = "maillage.accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Maillage] "
ACCOUNT_RATE_LIMITS = {"login_failed": "5/15m/key,20/15m/ip", "reset_password": "5/15m/ip,3/15m/key"}
# French labels, DSFR hints and the password rules on allauth's forms.
ACCOUNT_FORMS = {
    "login": "maillage.accounts.forms.LoginForm",
    "reset_password": "maillage.accounts.forms.ResetPasswordForm",
    "reset_password_from_key": "maillage.accounts.forms.ResetPasswordKeyForm",
    "change_password": "maillage.accounts.forms.ChangePasswordForm",
    "set_password": "maillage.accounts.forms.SetPasswordForm",
}
# Second factor (issue 5): TOTP with recovery codes, security keys and passkeys (WebAuthn).
# Enrolment is forced by maillage.accounts.mfa.MFAEnrolmentMiddleware; a TOTP code is accepted
# once only (allauth marks it used in the shared cache for the whole tolerance window).
MFA_ADAPTER = "maillage.accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
MFA_TOTP_ISSUER = "Maillage"
MFA_TOTP_TOLERANCE = 0  # a code lives 30 s (ASVS 6.5.5)
MFA_RECOVERY_CODE_COUNT = 10
# Step-up (maillage.accounts.stepup): exports, break-glass, team changes need a login or a
# re-authentication less than 10 minutes old.
MAILLAGE_STEPUP_SECONDS = 10 * 60
ACCOUNT_REAUTHENTICATION_TIMEOUT = MAILLAGE_STEPUP_SECONDS
# Sessions listed on "compte/sessions/" (allauth.usersessions), with the last activity.
USERSESSIONS_TRACK_ACTIVITY = True
# Client address for allauth's rate limits and session list: behind the production proxy, the last
# X-Forwarded-For hop (as maillage.core.middleware.RequestContextMiddleware), never the proxy's own.
ALLAUTH_TRUSTED_PROXY_COUNT = int(env("ALLAUTH_TRUSTED_PROXY_COUNT", "1" if PRODUCTION else "0"))
SOCIALACCOUNT_ONLY = False
# ProConnect (issue 5, point 8), optional, by environment only: without a client id and secret no
# provider app exists, the login page shows no ProConnect button and its URLs answer 404. Redirect
# URI to register with ProConnect: https://<host>/compte/oidc/proconnect/login/callback/
# (maillage.accounts.social: invited accounts only, nonce, signed ID token and userinfo).
SOCIALACCOUNT_ADAPTER = "maillage.accounts.social.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # matching by address is done, stricter, by the adapter
SOCIALACCOUNT_STORE_TOKENS = False
PROCONNECT_CLIENT_ID = env("PROCONNECT_CLIENT_ID")
PROCONNECT_CLIENT_SECRET = env("PROCONNECT_CLIENT_SECRET")
PROCONNECT_SERVER_URL = env("PROCONNECT_SERVER_URL", "https://auth.agentconnect.gouv.fr/api/v2")
PROCONNECT_SCOPES = env("PROCONNECT_SCOPES", "openid email given_name usual_name siret").split()
SOCIALACCOUNT_PROVIDERS: dict = {
    "openid_connect": {
        "provider_class": "maillage.accounts.social.ProConnectProvider",
        "APPS": [
            {
                "provider_id": "proconnect",
                "name": "ProConnect",
                "client_id": PROCONNECT_CLIENT_ID,
                "secret": PROCONNECT_CLIENT_SECRET,
                "settings": {
                    "server_url": PROCONNECT_SERVER_URL,
                    "scope": PROCONNECT_SCOPES,
                    # ProConnect rejects any unknown parameter of the authorisation request: PKCE on demand.
                    "oauth_pkce_enabled": env_bool("PROCONNECT_PKCE", False),
                    "token_auth_method": "client_secret_post",
                    # ProConnect's addresses are verified by the identity providers of the federation.
                    "verified_email": True,
                },
            }
        ]
        if PROCONNECT_CLIENT_ID and PROCONNECT_CLIENT_SECRET
        else [],
    }
}

MAILLAGE_INVITATION_DAYS = 7
# Absolute links in emails sent outside a request (commands, tasks); inside one, its host is used.
MAILLAGE_BASE_URL = env("MAILLAGE_BASE_URL", "http://127.0.0.1:8000")

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "maillage" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "maillage" / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

EMAIL_HOST = env("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 1025)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Maillage <ne-pas-repondre@maillage.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Documents prepared by the task worker (steering.ExportJob): files deleted after this many days (by
# the worker as it prepares new ones, and by apply_retention); a document finished less than
# REUSE minutes ago is offered again instead of being prepared twice; a job pending for longer than
# STALE minutes (a worker stopped mid-task) is shown as failed, with a retry.
MAILLAGE_EXPORT_RETENTION_DAYS = env_int("MAILLAGE_EXPORT_RETENTION_DAYS", 7)
MAILLAGE_EXPORT_REUSE_MINUTES = env_int("MAILLAGE_EXPORT_REUSE_MINUTES", 10)
MAILLAGE_EXPORT_STALE_MINUTES = env_int("MAILLAGE_EXPORT_STALE_MINUTES", 30)

# Instance branding: the State's brand block only on an instance operated by a State service.
MAILLAGE_INSTANCE_NAME = env("MAILLAGE_INSTANCE_NAME", "Maillage")
MAILLAGE_INSTANCE_TAGLINE = env("MAILLAGE_INSTANCE_TAGLINE", "Programme de réussite éducative")
MAILLAGE_STATE_OPERATED = env_bool("MAILLAGE_STATE_OPERATED", False)
MAILLAGE_OPERATOR_NAME = env("MAILLAGE_OPERATOR_NAME", "Ville de Démo")
# Legal notice and privacy notice: filled in by the operator (blank shows "[à compléter par l'opérateur]").
MAILLAGE_OPERATOR_ADDRESS = env("MAILLAGE_OPERATOR_ADDRESS")
MAILLAGE_OPERATOR_EMAIL = env("MAILLAGE_OPERATOR_EMAIL")
MAILLAGE_PUBLICATION_DIRECTOR = env("MAILLAGE_PUBLICATION_DIRECTOR")
MAILLAGE_DPO_EMAIL = env("MAILLAGE_DPO_EMAIL")
# Where security flaws are reported (/.well-known/security.txt); default: security@<host of the request>.
MAILLAGE_SECURITY_EMAIL = env("MAILLAGE_SECURITY_EMAIL")
MAILLAGE_HOSTING_NAME = env("MAILLAGE_HOSTING_NAME")
MAILLAGE_HOSTING_ADDRESS = env("MAILLAGE_HOSTING_ADDRESS")
MAILLAGE_HOSTING_CONTACT = env("MAILLAGE_HOSTING_CONTACT")

# Security headers and cookies.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# 30 minutes idle (the stored session is renewed by activity, at most once a minute:
# maillage.accounts.middleware.SessionHeartbeatMiddleware), 10 hours at most after the login
# (maillage.accounts.middleware.SessionLifetimeMiddleware).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False
MAILLAGE_SESSION_HEARTBEAT_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
MAILLAGE_SESSION_ABSOLUTE_SECONDS = 10 * 60 * 60
CSRF_COOKIE_HTTPONLY = True
SESSION_ENGINE = "django.contrib.sessions.backends.db"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        # The DSFR sets inline style attributes from its scripts; styles cannot run code.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
if SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]:
    # The ProConnect button posts to Maillage, which redirects to ProConnect: form-action covers redirects.
    _proconnect_url = urlsplit(PROCONNECT_SERVER_URL)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] = [
        *CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"],
        f"{_proconnect_url.scheme}://{_proconnect_url.netloc}",
    ]

FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
