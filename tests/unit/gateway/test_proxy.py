import asyncio
import json

import pytest

from labs.gateway import proxy
from labs.runtime.engine import EngineAddress


def test_request_parse_and_rebuild():
    req = proxy.Request.parse(
        b"POST /v1.41/containers/create?name=web&x=1&x=2 HTTP/1.1\r\n"
        b"Host: docker\r\nContent-Type: application/json\r\nContent-Length: 12"
    )
    assert req.method == "POST" and req.version == "1.41" and req.path == "/containers/create"
    assert req.q("name") == "web" and req.query["x"] == ["1", "2"] and req.content_length == 12
    assert req.build_target(query={"name": ["p-web"]}) == "/v1.41/containers/create?name=p-web"
    plain = proxy.Request.parse(b"GET /_ping HTTP/1.1\r\nHost: x")
    assert plain.version is None and plain.build_target() == "/_ping" and not plain.has_body
    upgrade = proxy.Request.parse(b"POST /v1.41/exec/1/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp")
    assert upgrade.wants_upgrade
    with pytest.raises(proxy.ProtocolError):
        proxy.Request.parse(b"NONSENSE")


def stream(data: bytes) -> proxy.Stream:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return proxy.Stream(reader)


async def collect(chunks) -> bytes:
    return b"".join([c async for c in chunks])


async def test_bodies_chunked_length_and_until_close():
    chunked = stream(b"5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\nNEXT")
    assert await collect(proxy.iter_body(chunked, length=None, chunked=True)) == b"hello world"
    assert await chunked.read() == b"NEXT"  # the next request is untouched
    sized = stream(b"abcdefNEXT")
    assert await collect(proxy.iter_body(sized, length=6, chunked=False)) == b"abcdef"
    assert await collect(proxy.iter_body(stream(b"all of it"), length=None, chunked=False)) == b"all of it"
    s = stream(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
    s.unread(b"")
    assert (await proxy.read_request(s)).path == "/x" and await proxy.read_request(s) is None


def test_line_rewriter_splits_across_chunks_and_drops():
    rewriter = proxy.LineRewriter(lambda doc: None if doc.get("drop") else {**doc, "seen": True})
    out = (
        rewriter.feed(b'{"a": 1}\n{"dr')
        + rewriter.feed(b'op": true}\n{"b"')
        + rewriter.feed(b": 2}")
        + rewriter.flush()
    )
    assert [json.loads(line) for line in out.splitlines()] == [{"a": 1, "seen": True}, {"b": 2, "seen": True}]


def test_headers():
    headers = proxy.Headers([("Content-Type", "a"), ("X-One", "1")])
    headers.set("content-type", "b")
    assert headers.get("CONTENT-TYPE") == "b" and headers.without({"x-one"}).get("x-one") is None


async def test_upstream_reuses_and_reopens_its_connection(tmp_path):
    """One connection per client; when the engine closes it between requests, the next one reconnects."""
    path = str(tmp_path / "engine.sock")
    connections = 0

    async def engine(reader, writer):
        nonlocal connections
        connections += 1
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            body = json.dumps({"path": head.split(b" ")[1].decode()}).encode()
            close = b"close-me" in head
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
                % (len(body), b"Connection: close\r\n" if close else b"")
                + body
            )
            await writer.drain()
            if close:
                break
        writer.close()

    server = await asyncio.start_unix_server(engine, path=path)
    upstream = proxy.Upstream(EngineAddress(unix_path=path))
    try:
        assert (await upstream.json("GET", "/one"))[1] == {"path": "/v1.41/one"}
        assert (await upstream.json("GET", "/two"))[1] == {"path": "/v1.41/two"}
        assert connections == 1
        await upstream.json("GET", "/close-me")
        assert (await upstream.json("GET", "/three"))[1] == {"path": "/v1.41/three"}
        assert connections == 2
    finally:
        upstream.close()
        server.close()
