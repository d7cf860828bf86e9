"""WebSocket consumers. Adapters only: access is decided by labs.selectors before any work."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections

from labs import notify, selectors, services, terminal, terminal_slots
from labs.models import LabSession
from labs.runtime import LabRuntimeError
from labs.runtime.tty import open_tty

CLOSE_NOT_FOUND = 4404  # refused, for a stranger and for a session that does not exist alike


@database_sync_to_async
def _lab_and_snapshot(user, course_slug: str, lab_slug: str):
    lab = selectors.lab_for_user(user=user, course_slug=course_slug, lab_slug=lab_slug)
    if lab is None:
        return None, None
    session = selectors.current_session(user=user, lab=lab)
    return lab, services.session_snapshot(session) if session else None


class LabStatusConsumer(AsyncJsonWebsocketConsumer):
    """Pushes the student's session state for one lab page (starting, queue position, running,
    time left, stopped) and check results. While the page is open it also drives continuous
    checking: every few seconds, backing off to 30 s while the student is idle, it asks for one
    round of checks (run by a worker next to the engine, one at a time per session)."""

    group: str | None = None
    auto_task: asyncio.Task | None = None

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
        self.user_id, self.lab_id, self.auto_on = user.pk, lab.pk, True
        self.wake = asyncio.Event()
        self.group = notify.status_group(user.pk, lab.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "session", "session": snapshot})
        self.auto_task = asyncio.create_task(self._auto_checks())

    async def _auto_checks(self):
        interval, last_activity = AUTO_MIN, None
        while True:
            try:
                # A session change (started, reset) wakes the loop early.
                await asyncio.wait_for(self.wake.wait(), interval)
                self.wake.clear()
                interval = AUTO_MIN
            except TimeoutError:
                pass
            if not self.auto_on:
                continue
            state = await _auto_check_round(self.user_id, self.lab_id)
            if state is None:  # no running session, or nothing left to check: look again rarely
                interval = min(interval * 2, AUTO_MAX)
                continue
            activity = state
            interval = AUTO_MIN if activity != last_activity else min(interval * 2, AUTO_MAX)
            last_activity = activity

    async def disconnect(self, code):
        if self.auto_task is not None:
            self.auto_task.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        elif content.get("type") == "auto":
            self.auto_on = bool(content.get("on"))

    async def session_update(self, event):
        await self.send_json({"type": "session", "session": event["session"]})
        if (event.get("session") or {}).get("state") == "running":
            self.wake.set()

    async def task_result(self, event):
        await self.send_json({"type": "task", "result": event["result"]})


AUTO_MIN, AUTO_MAX = 3.0, 30.0


@database_sync_to_async
def _auto_check_round(user_id: int, lab_id: int):
    """Queue one round of checks for the running session, unless one is queued already.
    Returns the session's last activity time (the caller backs off while it does not move)."""
    from labs import checks

    session = LabSession.objects.filter(user_id=user_id, lab_id=lab_id, state=LabSession.State.RUNNING).first()
    if session is None or not checks.pending_tasks(session=session):
        return None
    services.checks_request_auto(session=session)
    return session.last_activity_at


# --- the terminal ------------------------------------------------------------------------------------

log = logging.getLogger(__name__)

CLOSE_NOT_RUNNING = 4409  # the lab is not running (yet / any more)
CLOSE_ENDED = 4410  # the lab stopped while the terminal was open
CLOSE_TOO_MANY = 4429  # the per-user cap on open terminals
CLOSE_TOO_BIG = 1009
ACTIVITY_EVERY = 30.0  # seconds between activity writes (the reaper's idle clock)
FLUSH_EVERY = 5.0  # seconds between recording writes (or sooner past FLUSH_BYTES)
FLUSH_BYTES = 64 * 1024


@database_sync_to_async
def _terminal_access(user, session_id):
    """Who is asking, about which session: None unless they may see it (owner, the owner's
    instructors, admins). Nothing about the session is revealed otherwise."""
    session = selectors.session_visible_to(user=user, session_id=session_id)
    if session is None:
        return None
    lab = session.lab
    return {
        "role": "owner" if session.user_id == user.pk else "observer",
        "running": session.state == session.State.RUNNING and bool(session.container_id),
        "container_id": session.container_id,
        "base_url": session.host.base_url if session.host_id else settings.BERTH_DOCKER_URL,
        "lab_user": "root" if "non_root" in lab.relax else "student",
        "title": f"{lab.title} · {session.user.display_name}",
    }


@database_sync_to_async
def _recording_open(session_id, tab: str, cols: int, rows: int):
    from labs.models import Recording

    folder = settings.BERTH_RECORDINGS_DIR / uuid.UUID(str(session_id)).hex
    recording = Recording.objects.create(session_id=session_id, tab=tab, cols=cols, rows=rows, path="")
    recording.path = str(folder / f"{recording.pk}.cast")
    recording.save(update_fields=["path"])
    return recording.pk, recording.path


@database_sync_to_async
def _recording_close(recording_id: int, size: int, truncated: bool):
    from django.utils import timezone

    from labs.models import Recording

    Recording.objects.filter(pk=recording_id).update(size_bytes=size, truncated=truncated, ended_at=timezone.now())


# Activity writes run beside the keystrokes, on the thread pool rather than the one thread the
# consumer's other database work shares: a slow write must never delay typing.
def close_old_connections_after(fn):
    """Run fn in a worker thread's own database connection, closing it if stale afterwards."""

    def wrapper(*args, **kwargs):
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper


_touch = sync_to_async(close_old_connections_after(services.lab_session_touch), thread_sensitive=False)


class TerminalConsumer(AsyncWebsocketConsumer):
    """A shell in the lab: xterm.js ⇄ WebSocket ⇄ this consumer ⇄ docker exec TTY (tmux).

    Binary frames carry terminal bytes both ways untouched; text frames carry JSON control
    messages: {"type": "resize", "cols", "rows"}, {"type": "ack", "bytes"}, {"type": "ping"}.
    One asyncio task pumps output; no thread per message. Only the owner's input reaches the TTY.
    """

    tty = None
    pump: asyncio.Task | None = None
    flusher: asyncio.Task | None = None
    recorder: terminal.AsciicastRecorder | None = None
    recording_id: int | None = None
    slot: str | None = None
    group: str | None = None

    async def connect(self):
        user = self.scope.get("user")
        kwargs = self.scope["url_route"]["kwargs"]
        query = parse_qs(self.scope.get("query_string", b"").decode())
        await self.accept()  # accept, then close with a code the page understands (same for all refusals)
        info = await _terminal_access(user, kwargs["session_id"]) if user and user.is_authenticated else None
        tab = terminal.valid_tab(query.get("tab", ["main"])[0])
        if info is None or tab is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        if not info["running"]:
            await self.close(code=CLOSE_NOT_RUNNING)
            return
        self.user_id, self.session_id, self.info = user.pk, kwargs["session_id"], info
        self.owner = info["role"] == "owner"
        self.slot = f"{self.channel_name}"
        if not await terminal_slots.claim(user.pk, self.slot, limit=settings.BERTH_MAX_TERMINALS_PER_USER):
            self.slot = None
            await self.close(code=CLOSE_TOO_MANY)
            return
        size = terminal.clamp_size(query.get("cols", [120])[0], query.get("rows", [32])[0]) or (120, 32)
        self.flow = terminal.FlowControl()
        self.last_touch = 0.0
        self.background: set[asyncio.Task] = set()
        try:
            self.tty = await open_tty(
                info["base_url"],
                info["container_id"],
                terminal.tmux_command(tab, observe=not self.owner),
                user=info["lab_user"],
                cols=size[0],
                rows=size[1],
                env={"TERM": "xterm-256color", "LANG": "C.UTF-8", "COLORTERM": "truecolor"},
            )
        except LabRuntimeError as exc:
            log.info("terminal for %s refused by the engine: %s", self.session_id, exc)
            await self.close(code=CLOSE_NOT_RUNNING)
            return
        self.group = notify.session_group(self.session_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        if self.owner:
            self.recording_id, path = await _recording_open(self.session_id, tab, *size)
            self.recorder = terminal.AsciicastRecorder(
                Path(path),
                cols=size[0],
                rows=size[1],
                max_bytes=settings.BERTH_RECORDING_MAX_BYTES,
                title=info["title"],
            )
            self.flusher = asyncio.create_task(self._flush_loop())
            self._mark_activity(force=True)
        await self.send(text_data=json.dumps({"type": "hello", "role": info["role"], "tab": tab}))
        self.pump = asyncio.create_task(self._pump())

    async def dispatch(self, message):
        # Channels closes stale database connections (a thread-pool hop) before every handler.
        # Keystrokes never touch the database, so they skip it: no thread per message.
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
            return
        await super().dispatch(message)

    async def _pump(self):
        tty, flow, recorder = self.tty, self.flow, self.recorder
        try:
            while True:
                if flow.paused:
                    await flow.wait()
                data = await tty.read()
                if not data:
                    break
                await self.send(bytes_data=data)
                flow.sent(len(data))
                if recorder is not None:
                    recorder.output(data)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a broken pipe ends the terminal, it must not kill the server
            log.exception("terminal pump failed")
        with contextlib.suppress(Exception):
            await self.send(text_data=json.dumps({"type": "exit"}))
            await self.close(code=1000)

    async def _flush_loop(self):
        waited = 0.0
        while True:
            await asyncio.sleep(0.5)
            waited += 0.5
            if waited >= FLUSH_EVERY or self.recorder.pending_bytes >= FLUSH_BYTES:
                waited = 0.0
                await self._flush()

    async def _flush(self):
        if self.recorder is not None and self.recorder.has_pending:
            chunk = self.recorder.take()
            await asyncio.to_thread(self.recorder.write, chunk)

    def _mark_activity(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last_touch >= ACTIVITY_EVERY:
            self.last_touch = now
            task = asyncio.create_task(_touch(session_id=self.session_id))
            self.background.add(task)
            task.add_done_callback(self.background.discard)

    async def receive(self, text_data=None, bytes_data=None):
        if self.tty is None:
            return
        if bytes_data is not None:
            if len(bytes_data) > terminal.MAX_FRAME_BYTES:
                await self.close(code=CLOSE_TOO_BIG)
                return
            if not self.owner:
                return  # observers watch; their keystrokes go nowhere
            await self.tty.write(bytes_data)
            if self.recorder is not None:
                self.recorder.input(bytes_data)
            self._mark_activity()
            return
        if text_data is None or len(text_data) > terminal.MAX_CONTROL_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            message = json.loads(text_data)
            kind = message.get("type")
        except (ValueError, AttributeError):
            return
        if kind == "ack":
            self.flow.acked(int(message.get("bytes", 0) or 0))
        elif kind == "resize":
            size = terminal.clamp_size(message.get("cols"), message.get("rows"))
            if size:
                await self.tty.resize(cols=size[0], rows=size[1])
                if self.recorder is not None:
                    self.recorder.resize(*size)
        elif kind == "ping":
            await self.send(text_data='{"type":"pong"}')
            if self.slot:
                await terminal_slots.refresh(self.user_id, self.slot)

    async def session_state(self, event):
        if event.get("state") != "running":
            with contextlib.suppress(Exception):
                await self.send(text_data=json.dumps({"type": "ended", "state": event.get("state")}))
            await self.close(code=CLOSE_ENDED)

    async def disconnect(self, code):
        if self.pump is not None:
            self.pump.cancel()
        if self.flusher is not None:
            self.flusher.cancel()
        if self.tty is not None:
            await self.tty.close()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.recorder is not None:
            await self._flush()
            await _recording_close(self.recording_id, self.recorder.size, self.recorder.truncated)
        if self.slot:
            with contextlib.suppress(Exception):
                await terminal_slots.release(self.user_id, self.slot)
