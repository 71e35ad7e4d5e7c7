"""Bodies through the bridge, byte for byte: 0 B, 1 KB, 1 MB and 10 MB of binary (seeded random
bytes), plain and chunked, in both receive modes.  The firmware reads them off its real pty as
Neoway firmware does; the SHA-256 of what it rebuilt must be the server's.  And a body made to
fool a framer on either link (every byte value, OneMO and Neoway URC text, OK, '>') sent up and
echoed back."""
from __future__ import annotations

import pytest

from support.servers import BlobServer, blob_sha256
from support.neoway_bridged import CLOSED, HOST, OK, Response, action, ask, session, setup

SIZES = {"0B": 0, "1KB": 1024, "1MB": 1 << 20, "10MB": 10 << 20}
CASES = [(size, recvmode, False) for size in SIZES for recvmode in "01"] + [("1MB", recvmode, True) for recvmode in "01"]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("size, recvmode, chunked", CASES,
                         ids=[f"{s}-recvmode{r}{'-chunked' if c else ''}" for s, r, c in CASES])
def test_body_is_byte_identical(tmp_path, size, recvmode, chunked):
    length, seed = SIZES[size], 101 + len(size)
    query = f"seed={seed}" + ("&chunked=1" if chunked else "")
    with BlobServer() as server, session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/blob/{length}?{query}", recvmode=recvmode)
        fw.command("AT+HTTPACTION=0")
        got = Response(fw, recvmode=recvmode).until(lambda r: r.ended and ("Info", "+HTTPCLOSED") in r.frames)
        assert ask(fw, "AT") == OK  # and the bridge still answers
    assert got.status == 200
    assert got.length == length
    assert got.digest.hexdigest() == blob_sha256(length, seed)
    if chunked:
        assert got.headers.get("Transfer-Encoding") == "chunked"
    else:
        assert got.headers.get("Content-Length") == str(length)
    if recvmode == "1":
        assert got.frames == [("Final", "OK"), ("HttpEnd", ""), ("Info", "+HTTPCLOSED")]
        assert max(got.pieces) <= bridge.engine.module_side.piece_max
    else:
        assert got.frames == [("Final", "OK"), ("Info", "+HTTPRECV"), ("HttpHead", ""), ("HttpEnd", ""), ("Info", "+HTTPCLOSED")]
    assert bytes(fw.seen).endswith(CLOSED["HTTP"] + OK)


TRICKY = (bytes(range(256)) + b'\r\n+MHTTPURC: "content",0,5,5,5,hello\r\n+MHTTPURC: "err",0,5\r\n'
          b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n\r\nOK\r\n\r\nERROR\r\n\r\n>\x1a\x1b\r\nRING\r\n" + bytes(range(255, -1, -1)))


@pytest.mark.timeout(20)
@pytest.mark.parametrize("recvmode", ["0", "1"])
def test_body_that_looks_like_at_traffic_goes_up_and_back_intact(tmp_path, recvmode):
    with BlobServer() as server, session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/echo", recvmode=recvmode)
        assert action(fw, f"AT+HTTPACTION=2,{len(TRICKY)},1", TRICKY) == OK
        got = Response(fw, "POST", recvmode, keep=True).until_frame("Info", "+HTTPCLOSED")
    assert got.ended and got.body == TRICKY
    method, path, headers = server.requests[0]
    assert (method, path, dict(headers)["Content-Type"]) == ("POST", "/echo", "text/plain")
