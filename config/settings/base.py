"""Settings shared by every environment. Values come from the environment (django-environ)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core --------------------------------------------------------------------------------------
# SECRET_KEY: set by each environment module (production has no default).
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_celery_beat",
    "accounts",
    "courses",
    "labs",
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
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Data --------------------------------------------------------------------------------------
# SQLite is the embedded default so `make run` works with nothing installed; set DATABASE_URL for
# PostgreSQL (the test suite and production use it).
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"  # empty = unset
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("CACHE_URL", default=REDIS_URL.rsplit("/", 1)[0] + "/1"),
        "KEY_PREFIX": env("BERTH_CACHE_PREFIX", default="berth"),
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [env("CHANNEL_LAYER_URL", default=REDIS_URL.rsplit("/", 1)[0] + "/2")],
            "prefix": env("BERTH_CHANNEL_PREFIX", default="berth"),
            "capacity": 200,
            "expiry": 30,
        },
    }
}

# --- Auth --------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "catalog"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-up is by cohort join code or invite; open sign-up (no code) is off unless enabled.
BERTH_OPEN_SIGNUP = env.bool("BERTH_OPEN_SIGNUP", default=False)

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="Berth <berth@localhost>")

# --- I18N --------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "var" / "staticfiles")))
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Celery ------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Berth -------------------------------------------------------------------------------------
BERTH_DOCKER_URL = env("BERTH_DOCKER_URL", default="unix:///var/run/docker.sock")
BERTH_LAB_RUNTIME = env("BERTH_LAB_RUNTIME", default="")  # "" = engine default (runc); "runsc" = gVisor
BERTH_RECORDINGS_DIR = Path(env.str("BERTH_RECORDINGS_DIR", default=str(BASE_DIR / "var" / "recordings")))
BERTH_RECORDING_MAX_BYTES = env.int("BERTH_RECORDING_MAX_BYTES", default=5 * 1024 * 1024)
BERTH_MAX_LIVE_SESSIONS_PER_USER = env.int("BERTH_MAX_LIVE_SESSIONS_PER_USER", default=2)
BERTH_MAX_TERMINALS_PER_USER = env.int("BERTH_MAX_TERMINALS_PER_USER", default=8)
BERTH_REAP_INTERVAL_SECONDS = env.int("BERTH_REAP_INTERVAL_SECONDS", default=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Labels every container with this instance name, so two Berth installs (or the test suite and a
# dev server) can share one engine without touching each other's sandboxes.
BERTH_INSTANCE = env("BERTH_INSTANCE", default="berth")
BERTH_ALLOWED_IMAGES = env.list("BERTH_ALLOWED_IMAGES", default=["berth/lab-base:1", "berth/lab-docker:1"])
BERTH_GATEWAY_DIR = Path(env.str("BERTH_GATEWAY_DIR", default=str(BASE_DIR / "var" / "gateway")))
BERTH_DEFAULT_HOST_CAPACITY = env.int("BERTH_DEFAULT_HOST_CAPACITY", default=50)
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
# Runtime for containers students start through the gateway ("" = engine default, "runsc" = gVisor).
BERTH_STUDENT_CONTAINER_RUNTIME = env("BERTH_STUDENT_CONTAINER_RUNTIME", default="")
BERTH_REGISTRY_MIRROR = env("BERTH_REGISTRY_MIRROR", default="")
# Docker storage a Docker lab's student may use on the host (writable layers, volumes, images they
# built); over it the gateway refuses new writes and stops the session's running containers.
BERTH_DOCKER_DISK_QUOTA_BYTES = env.int("BERTH_DOCKER_DISK_QUOTA_BYTES", default=2 * 1024**3)
# The site's public address, for links in emails sent outside a request (enrolment, invites).
BERTH_BASE_URL = env("BERTH_BASE_URL", default="http://127.0.0.1:8000")
