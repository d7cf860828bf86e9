"""The gateway's engine side: requests built from values, h11 framing, answers, upgrades."""

import asyncio

from labs.gateway.upstream import Upstream, qpath
from labs.runtime.engine import EngineAddress


class Engine:
    """A scripted peer on a unix socket: records each request, answers from a list."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []

    async def handle(self, reader, writer):
        while self.answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await reader.readexactly(length) if length else b""
            if b"transfer-encoding: chunked" in head.lower():
                body = await reader.readuntil(b"0\r\n\r\n")
            self.requests.append((head, body))
            writer.write(self.answers.pop(0))
            await writer.drain()
        writer.close()


async def serve(tmp_path, answers):
    engine = Engine(answers)
    path = str(tmp_path / "engine.sock")
    server = await asyncio.start_unix_server(engine.handle, path=path)
    return engine, server, Upstream(EngineAddress(unix_path=path))


async def test_request_is_built_from_values_with_the_fixed_version(tmp_path):
    engine, server, up = await serve(
        tmp_path, [b'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"Id":"ab"}\n']
    )
    status, data = await up.json("POST", "/containers/create", query={"name": "p-web/../x"}, body={"Image": "busybox"})
    assert status == 201 and data == {"Id": "ab"}
    head, body = engine.requests[0]
    assert head.startswith(b"POST /v1.41/containers/create?name=p-web%2F..%2Fx HTTP/1.1\r\n")
    assert b"Content-Type: application/json" in head and body == b'{"Image": "busybox"}'
    up.close()
    server.close()


async def test_connection_is_reused_and_streams_are_read_in_chunks(tmp_path):
    engine, server, up = await serve(
        tmp_path,
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK",
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\n{}\n\r\n3\r\n{}\n\r\n0\r\n\r\n",
        ],
    )
    assert (await up.request("GET", "/_ping")).body == b"OK"
    answer = await up.open("GET", "/events")
    assert answer.status == 200 and await answer.read() == b"{}\n{}\n"
    assert len(engine.requests) == 2
    up.close()
    server.close()


async def test_upgrade_gives_the_raw_socket_with_leftover(tmp_path):
    engine, server, up = await serve(
        tmp_path,
        [
            b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\n"
            b"Upgrade: tcp\r\n\r\nfirst bytes"
        ],
    )
    answer = await up.open("POST", "/exec/x/start", body=b"{}", content_type="application/json", upgrade=True)
    assert answer.upgraded and answer.leftover == b"first bytes"
    head, _ = engine.requests[0]
    assert b"Connection: Upgrade" in head and b"Upgrade: tcp" in head
    reader, writer = up.raw()
    writer.close()
    server.close()


def test_qpath_keeps_a_name_in_one_segment():
    assert qpath("a/b?c#d") == "a%2Fb%3Fc%23d"
