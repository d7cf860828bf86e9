"""The test suite: PostgreSQL (DATABASE_URL, set by `make test`), real Redis and Docker."""

from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, env

SECRET_KEY = "test-only-not-secret"  # noqa: S105 - never used outside tests
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
BERTH_RECORDINGS_DIR = Path(env.str("BERTH_RECORDINGS_DIR", default=str(BASE_DIR / "var" / "test-recordings")))
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
BERTH_INSTANCE = env("BERTH_INSTANCE", default="berthtest")
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = BASE_DIR / "var" / "test-staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The gateway's folder per instance: a dev server's gateway on the same machine serves its own.
BERTH_GATEWAY_DIR = Path(env.str("BERTH_GATEWAY_DIR", default=str(BASE_DIR / "var" / f"gateway-{BERTH_INSTANCE}")))
