"""A gateway inside the current process, for commands that need one for a while (selftest)
when no `run_gateway` process serves the platform's folder."""

from __future__ import annotations

from django.conf import settings

from .server import AlreadyServed, GatewayThread


def start_if_not_running() -> GatewayThread | None:
    """Start a gateway thread on settings.BERTH_GATEWAY_DIR; None if another gateway serves it."""
    thread = GatewayThread(settings.BERTH_GATEWAY_DIR, settings.BERTH_DOCKER_URL, instance=settings.BERTH_INSTANCE)
    try:
        return thread.start()
    except RuntimeError as exc:
        if isinstance(thread.error, AlreadyServed):
            return None
        raise RuntimeError(f"could not start a gateway for the self-test: {exc}") from exc
