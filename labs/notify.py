"""Telling open pages what changed, over the channel layer (Redis). Sent after commit, so a page
never hears about a state the database then rolls back."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def status_group(user_id: int, lab_id: int) -> str:
    """The group a student's lab page listens to (one per student and lab, across sessions)."""
    return f"labstatus.{user_id}.{lab_id}"


def session_group(session_id) -> str:
    """Everything attached to one session: terminals (to close on stop), observers, check runners."""
    return f"labsession.{str(session_id).replace('-', '')}"


def send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - a page update must never break a state change
        log.warning("could not notify %s", group, exc_info=True)


def send_on_commit(group: str, message: dict) -> None:
    transaction.on_commit(lambda: send(group, message))
