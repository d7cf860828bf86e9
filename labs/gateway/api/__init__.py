"""The Engine API as a session sees it: one module per endpoint group over a small core.

    core       routes, the request context (strict query and body parsing), dispatch, relaying
    resolve    what a request names, among the session's own objects only
    verify     after the engine acts: inspect what it made, undo what breaks the invariants
    uploads    tar uploads re-packed before the engine sees them
    system, containers, execs, images, builds, networks, volumes, unavailable: the endpoints

Endpoints not routed here are refused (403): the gateway is an allowlist.
"""

from . import builds, containers, execs, images, networks, system, unavailable, volumes  # noqa: F401 - routes
from .core import serve_connection

__all__ = ["serve_connection"]
