"""`make run` on a developer's machine: debug on, a generated secret key if none is set."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env


def _local_secret_key() -> str:
    # Never used in production (production.py has no default): a key made once per checkout.
    path = BASE_DIR / "var" / "secret_key"
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("DJANGO_SECRET_KEY", default=None) or _local_secret_key()
DEBUG = env.bool("DJANGO_DEBUG", default=True)
