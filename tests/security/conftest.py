"""Fixtures of the security tests: the gateway and Docker lab fixtures of the gateway's integration
tests (a real lab session through the real platform path), a per-test `scratch` that records when
the test began and removes what it made, and small local listeners that tell whether anything
(the engine, a container) reached them."""

from __future__ import annotations

import http.server
import socket
import threading
import uuid

import pytest

from tests.integration.gateway.conftest import docker_lab, gateway, second_lab  # noqa: F401

from . import engine_view


class Scratch:
    """When a test began (for engine_view) and the names of what its hostile requests try to make."""

    def __init__(self, lab):
        self.lab = lab
        self.since = engine_view.mark()
        self.names: list[str] = []

    def name(self, what: str) -> str:
        name = f"{engine_view.SCRATCH_PREFIX}{what}-{uuid.uuid4().hex[:8]}"
        self.names.append(name)
        return name

    def assert_clean(self) -> None:
        engine_view.assert_clean(self.lab, self.since)

    def cleanup(self) -> None:
        engine_view.cleanup(self.lab, self.since, names=tuple(self.names))


@pytest.fixture
def scratch(docker_lab):  # noqa: F811 - the imported fixture
    s = Scratch(docker_lab)
    yield s
    s.cleanup()


class _Handler(http.server.BaseHTTPRequestHandler):
    def _any(self):
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_HEAD = do_PUT = _any  # noqa: N815

    def log_message(self, *args):  # quiet
        pass


class HTTPListener:
    """A tiny threaded HTTP server on 127.0.0.1 that answers 404 to everything and records what
    reached it (and every TCP connection, even one that never sent a request)."""

    def __init__(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.seen = []
        self.server.connections = 0
        original = self.server.get_request

        def counting():
            conn = original()
            self.server.connections += 1
            return conn

        self.server.get_request = counting
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def seen(self) -> list:
        return list(self.server.seen)

    @property
    def connections(self) -> int:
        return self.server.connections

    def url(self, path: str = "/x", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_listener():
    listener = HTTPListener()
    yield listener
    listener.close()


class TCPListener:
    """A TCP listener on the host, on every IPv4 address (0.0.0.0), that counts accepted connections."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0", 0))  # noqa: S104 - the point: would a container reach the host?
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted.append(peer)
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def tcp_listener():
    listener = TCPListener()
    yield listener
    listener.close()
