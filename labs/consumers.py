"""WebSocket consumers. Adapters only: access is decided by labs.selectors before accept()."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from labs import notify, selectors, services

CLOSE_NOT_FOUND = 4404  # refused, for a stranger and for a session that does not exist alike


@database_sync_to_async
def _lab_and_snapshot(user, course_slug: str, lab_slug: str):
    lab = selectors.lab_for_user(user=user, course_slug=course_slug, lab_slug=lab_slug)
    if lab is None:
        return None, None
    session = selectors.current_session(user=user, lab=lab)
    return lab, services.session_snapshot(session) if session else None


class LabStatusConsumer(AsyncJsonWebsocketConsumer):
    """Pushes the student's session state for one lab page: starting, queue position, running,
    time left, stopped. Server-sent only; the page sends nothing but keepalive pings."""

    group: str | None = None

    async def connect(self):
        user = self.scope.get("user")
        kwargs = self.scope["url_route"]["kwargs"]
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        lab, snapshot = await _lab_and_snapshot(user, kwargs["course_slug"], kwargs["lab_slug"])
        if lab is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = notify.status_group(user.pk, lab.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "session", "session": snapshot})

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def session_update(self, event):
        await self.send_json({"type": "session", "session": event["session"]})
