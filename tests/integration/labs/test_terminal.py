"""The terminal consumer against a real lab container: bytes both ways, resize, flow control,
reconnect to the same shell, observers, refusals, frame caps and recording."""

import asyncio
import json
import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from labs import services
from labs.models import LabSession, Recording
from tests import factories

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.asyncio]

ORIGIN = (b"origin", b"http://127.0.0.1")


async def cookie_for(user) -> bytes:
    web = Client()
    await sync_to_async(web.force_login)(user)
    return f"sessionid={web.cookies['sessionid'].value}".encode()


class Term:
    """A WebSocket terminal client that collects output and acknowledges it like the page does."""

    def __init__(self, communicator):
        self.ws, self.buffer, self.control = communicator, b"", []
        self.ack = True

    @classmethod
    async def open(cls, session_id, user=None, *, tab="main", cols=100, rows=30, origin=ORIGIN):
        headers = [origin]
        if user is not None:
            headers.append((b"cookie", await cookie_for(user)))
        ws = WebsocketCommunicator(
            application, f"/ws/labs/{session_id}/terminal/?tab={tab}&cols={cols}&rows={rows}", headers=headers
        )
        connected, code = await ws.connect(timeout=10)
        term = cls(ws)
        term.connected, term.code = connected, code
        return term

    async def next(self, timeout=10):
        message = await self.ws.receive_output(timeout)
        if message["type"] == "websocket.close":
            self.closed_with = message.get("code")
            return message
        if message.get("bytes") is not None:
            self.buffer += message["bytes"]
            if self.ack:
                await self.ws.send_to(text_data=json.dumps({"type": "ack", "bytes": len(message["bytes"])}))
        elif message.get("text") is not None:
            self.control.append(json.loads(message["text"]))
        return message

    async def expect(self, pattern: bytes, timeout=15):
        deadline = asyncio.get_running_loop().time() + timeout
        while not re.search(pattern, self.buffer):
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"{pattern!r} not seen; got ...{self.buffer[-400:]!r}")
            if await self.ws.receive_nothing(timeout=min(left, 0.2), interval=0.01):
                continue  # nothing yet (receive_output's own timeout would kill the app)
            message = await self.next(timeout=left)
            if message["type"] == "websocket.close":
                raise AssertionError(f"closed ({message.get('code')}) before {pattern!r}")
        return self.buffer

    async def type(self, text: str):
        await self.ws.send_to(bytes_data=text.encode())

    async def close(self):
        await self.ws.disconnect(timeout=5)


@pytest.fixture
async def running(lab_env):
    session = await sync_to_async(services.lab_session_start)(user=lab_env["alice"], lab=lab_env["lab"])
    await sync_to_async(session.refresh_from_db)()
    assert session.state == "running", session.error
    return session


async def test_echo_round_trip_and_exact_bytes(lab_env, running):
    term = await Term.open(running.id, lab_env["alice"])
    assert term.connected
    await term.next()  # hello
    assert term.control[0] == {"type": "hello", "role": "owner", "tab": "main"}
    await term.type("echo berth-$((6*7)); printf '\\xe2\\x9c\\x93 caf\\xc3\\xa9\\n'\r")
    out = await term.expect(rb"berth-42")
    await term.expect("✓ café".encode())  # UTF-8 passed through as bytes
    assert b"berth-42" in out
    await term.close()


async def test_resize_reaches_the_tty(lab_env, running):
    term = await Term.open(running.id, lab_env["alice"], cols=90, rows=25)
    await term.type("stty size\r")
    await term.expect(rb"25 90")
    await term.ws.send_to(text_data=json.dumps({"type": "resize", "cols": 132, "rows": 40}))
    await asyncio.sleep(0.3)
    await term.type("clear; stty size\r")
    await term.expect(rb"40 132")
    await term.ws.send_to(text_data=json.dumps({"type": "resize", "cols": 99999, "rows": -3}))  # clamped
    await asyncio.sleep(0.3)
    await term.type("clear; stty size\r")
    await term.expect(rb"4 400")
    await term.close()


async def test_flood_is_flow_controlled_and_ctrl_c_is_prompt(lab_env, running):
    term = await Term.open(running.id, lab_env["alice"])
    await term.type("PS1='$ '; echo ready\r")
    await term.expect(rb"ready")
    term.ack = False  # a slow browser: nothing acknowledged
    await term.type("yes berth-flood-line\r")
    received = 0
    # output stops when the unacknowledged bytes reach the cap (receive_nothing: quiet for 2 s)
    while not await term.ws.receive_nothing(timeout=2, interval=0.05):
        message = await term.ws.receive_output(timeout=2)
        received += len(message.get("bytes") or b"")
    assert 0 < received <= 256 * 1024 + 65536, received
    term.buffer = b""
    term.ack = True
    await term.ws.send_to(text_data=json.dumps({"type": "ack", "bytes": received}))
    started = asyncio.get_running_loop().time()
    await term.type("\x03")
    await term.type("echo after-flood\r")
    await term.expect(rb"after-flood", timeout=15)
    assert asyncio.get_running_loop().time() - started < 10
    await term.close()


async def test_reconnect_returns_to_the_same_shell(lab_env, running):
    term = await Term.open(running.id, lab_env["alice"])
    await term.type("export BERTH_MARK=kept-$((40+2)); cd /tmp; sleep 1000 & echo started\r")
    await term.expect(rb"started")
    await term.close()
    again = await Term.open(running.id, lab_env["alice"])
    await again.type("echo mark=$BERTH_MARK dir=$(pwd) jobs=$(jobs | grep -c sleep)\r")
    await again.expect(rb"mark=kept-42 dir=/tmp jobs=1")
    await again.close()
    # a second tab is a different shell in the same sandbox
    tab = await Term.open(running.id, lab_env["alice"], tab="tab2")
    await tab.type("echo tab-mark=[$BERTH_MARK] $(pgrep -fc 'sleep 1000')\r")
    await tab.expect(rb"tab-mark=\[\] 1")
    await tab.close()


async def test_observer_sees_but_cannot_type(lab_env, running):
    instructor = await sync_to_async(factories.make_user)("teacher")
    await sync_to_async(factories.enrol)(instructor, lab_env["cohort"], "instructor")
    student = await Term.open(running.id, lab_env["alice"])
    await student.type("echo student-was-here\r")
    await student.expect(rb"student-was-here")
    observer = await Term.open(running.id, instructor)
    await observer.next()
    assert observer.control[0]["role"] == "observer"
    await observer.expect(rb"student-was-here")  # the current screen
    await observer.type("echo observer-typed-this\r")
    await student.type("echo second-line\r")
    await observer.expect(rb"second-line")
    await student.expect(rb"second-line")
    assert b"observer-typed-this" not in student.buffer
    await observer.close()
    await student.close()


async def test_refusals_stranger_anonymous_foreign_origin_and_missing(lab_env, running):
    stranger = lab_env["bob"]  # same cohort, but not his session and not his instructor
    term = await Term.open(running.id, stranger)
    assert (await term.next())["code"] == 4404
    term = await Term.open(running.id, None)
    assert (await term.next())["code"] == 4404
    term = await Term.open("8a5ef8b2-0000-4000-8000-000000000000", lab_env["alice"])
    assert (await term.next())["code"] == 4404  # the same answer as for a stranger
    term = await Term.open(running.id, lab_env["alice"], origin=(b"origin", b"https://evil.example"))
    assert not term.connected
    containers = await sync_to_async(lab_env["backend"].client.containers.get)(running.container_id)
    execs = containers.attrs.get("ExecIDs") or []
    assert execs == [] or len(execs) <= 1  # only the home preparation, no terminal for a refused client


async def test_oversized_frame_closes_the_socket(lab_env, running):
    term = await Term.open(running.id, lab_env["alice"])
    await term.next()
    await term.type("x" * (64 * 1024 + 1))
    while True:
        message = await term.next()
        if message["type"] == "websocket.close":
            break
    assert message["code"] == 1009


async def test_too_many_terminals(lab_env, running, settings):
    settings.BERTH_MAX_TERMINALS_PER_USER = 2
    first = await Term.open(running.id, lab_env["alice"])
    second = await Term.open(running.id, lab_env["alice"], tab="tab2")
    third = await Term.open(running.id, lab_env["alice"], tab="tab3")
    while True:
        message = await third.next()
        if message["type"] == "websocket.close":
            break
    assert message["code"] == 4429
    await first.close()
    await second.close()


async def test_session_is_recorded_as_asciicast(lab_env, running):
    term = await Term.open(running.id, lab_env["alice"])
    await term.type("echo recorded-$((2+3))\r")
    await term.expect(rb"recorded-5")
    await term.close()
    await asyncio.sleep(0.2)
    recording = await sync_to_async(Recording.objects.get)(session=running)
    assert recording.size_bytes > 0 and recording.ended_at is not None
    lines = open(recording.path, encoding="utf-8").read().splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2 and header["width"] == 100 and header["height"] == 30
    events = [json.loads(line) for line in lines[1:]]
    assert any(e[1] == "o" and "recorded-5" in e[2] for e in events)
    assert any(e[1] == "i" for e in events)
    assert all(isinstance(e[0], float) for e in events)


async def test_terminal_closes_when_the_lab_stops(lab_env, running):
    term = await Term.open(running.id, lab_env["alice"])
    await term.next()
    session = await sync_to_async(LabSession.objects.get)(pk=running.id)
    await sync_to_async(services.lab_session_stop)(session=session, actor=lab_env["alice"])
    while True:
        message = await term.next(timeout=20)
        if message["type"] == "websocket.close":
            break
    assert message["code"] in (4410, 1000)
