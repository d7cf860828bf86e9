"""The gateway's client side: strict parsing (llhttp via httptools), bodies, upgrades, answers."""

import asyncio

import pytest

from labs.gateway.wire import BadRequest, BodyTooLarge, ClientConnection


class Writer:
    def __init__(self):
        self.data = bytearray()

    def write(self, data):
        self.data += data

    async def drain(self):
        pass

    def close(self):
        pass


def conn(data: bytes) -> ClientConnection:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return ClientConnection(reader, Writer())


async def test_request_head_query_and_version():
    c = conn(
        b"POST /v1.41/containers/create?name=web&x=1&x=2 HTTP/1.1\r\nHost: docker\r\n"
        b"Content-Type: application/json; charset=utf-8\r\nContent-Length: 2\r\n\r\n{}"
    )
    req = await c.next_request()
    assert (req.method, req.path, req.api_version) == ("POST", "/containers/create", (1, 41))
    assert req.q("name") == "web" and req.query["x"] == ["1", "2"]
    assert req.content_type == "application/json" and req.content_length == 2 and req.has_body
    assert await c.read_body(10) == b"{}"
    assert await c.next_request() is None


async def test_keep_alive_requests_in_turn_and_unversioned():
    c = conn(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\nGET /v1.23/containers/json HTTP/1.1\r\nHost: d\r\n\r\n")
    first = await c.next_request()
    assert first.path == "/_ping" and first.api_version is None and not first.has_body and first.keep_alive
    second = await c.next_request()
    assert second.api_version == (1, 23) and second.path == "/containers/json"
    assert await c.next_request() is None


async def test_chunked_body_is_dechunked():
    c = conn(
        b"POST /build HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    req = await c.next_request()
    assert req.chunked and req.has_body
    assert b"".join([chunk async for chunk in c.body_chunks()]) == b"hello world"


@pytest.mark.parametrize(
    "raw",
    [
        # a bare LF ends a header line: the classic smuggling of a second Transfer-Encoding header
        b"POST /x HTTP/1.1\r\nHost: d\r\nX: a\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
        b"POST /x HTTP/1.1\nHost: d\n\n",
        # obs-fold continuation line
        b"POST /x HTTP/1.1\r\nHost: d\r\nX: a\r\n  folded\r\nContent-Length: 0\r\n\r\n",
        # Content-Length beside Transfer-Encoding, and two Content-Lengths
        b"POST /x HTTP/1.1\r\nHost: d\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: d\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
        b"POST /x HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        # absolute-form and asterisk targets
        b"GET http://docker/v1.41/info HTTP/1.1\r\nHost: d\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: d\r\n\r\n",
        b"NONSENSE\r\n\r\n",
    ],
)
async def test_malformed_heads_are_refused(raw):
    c = conn(raw)
    with pytest.raises(BadRequest):
        req = await c.next_request()
        async for _ in c.body_chunks():
            pass
        assert req is None or await c.next_request() is None
        raise AssertionError("parsed")


async def test_bad_chunk_framing_is_refused():
    c = conn(b"POST /x HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n")
    with pytest.raises(BadRequest):
        await c.next_request()
        async for _ in c.body_chunks():
            pass


async def test_repeated_framing_headers_are_refused():
    c = conn(b"POST /x HTTP/1.1\r\nHost: d\r\nContent-Type: a/b\r\nContent-Type: application/json\r\n\r\n")
    with pytest.raises(BadRequest):
        await c.next_request()


async def test_upgrade_reads_its_body_then_hands_over_the_raw_stream():
    c = conn(
        b"POST /v1.41/exec/abc/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
        b"Content-Type: application/json\r\nContent-Length: 13\r\n\r\n"
        b'{"Tty":true}\nstdin bytes'
    )
    req = await c.next_request()
    assert req.upgrade and not req.keep_alive
    assert await c.read_body(100) == b'{"Tty":true}\n'
    assert c.take_raw() == b"stdin bytes"


async def test_body_limit():
    c = conn(b"POST /x HTTP/1.1\r\nHost: d\r\nContent-Length: 10\r\n\r\n0123456789")
    await c.next_request()
    with pytest.raises(BodyTooLarge):
        await c.read_body(5)


async def test_answers_carry_the_api_headers_and_no_client_bytes():
    c = conn(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
    await c.next_request()
    await c.respond_error(403, "no")
    head, _, body = bytes(c.writer.data).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403 Forbidden\r\n") and b"Api-Version: 1.41" in head
    assert body == b'{"message": "no"}\n'
    with pytest.raises(ValueError):
        await c.respond(200, b"", headers=[("X", "a\r\nInjected: 1")])
