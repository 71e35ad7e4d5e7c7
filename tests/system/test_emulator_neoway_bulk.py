"""10 MB through the emulator to the host in both receive modes: the body read off the real pty,
reassembled with ResponseFramer, has the server's SHA-256, and memory stays bounded.

tracemalloc traces this whole process, which runs the emulator's threads (pty reader, loop,
request worker), the loopback server and the reading host: its peak must stay far below the
10 MB that pass through.
"""
from __future__ import annotations

import tracemalloc

import pytest

from support.servers import BlobServer, blob_sha256
from support.neoway_emulated import OK, Reader, ask, neoway

SIZE = 10 * 1024 * 1024
SEED = 31
PEAK_LIMIT = 3 * 1024 * 1024


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize("recvmode", ["0", "1"])
def test_10mb_download_to_the_host(tmp_path, recvmode):
    with BlobServer() as server, neoway(tmp_path) as (host, side):
        assert ask(host, f"AT+HTTPPARA=recvmode,{recvmode}") == OK
        assert ask(host, f"AT+HTTPPARA=url,www.neoway.com.cn:{server.port}/blob/{SIZE}?seed={SEED}") == OK
        assert ask(host, "AT+HTTPSETUP") == OK
        tracemalloc.start()
        try:
            host.command("AT+HTTPACTION=0")
            got = Reader(host, recvmode=recvmode).response("+HTTPCLOSED")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert got.length == SIZE
    assert got.digest.hexdigest() == blob_sha256(SIZE, SEED)
    assert peak < PEAK_LIMIT, f"peak {peak} bytes"
    if recvmode == "1":
        assert got.head.startswith(b"HTTP/1.1 200 OK\r\n") and f"Content-Length: {SIZE}".encode() in got.head
        assert max(got.pieces) <= side.piece_max and sum(got.pieces) == SIZE + len(got.head)
        assert got.events == ["Final OK", "Info +HTTPCLOSED"]
    else:
        assert got.events == ["Final OK", "Info +HTTPRECV", "HttpHead", "HttpEnd", "Info +HTTPCLOSED"]
