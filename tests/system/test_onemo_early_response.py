"""An early final response during a chunked upload (issue 9, section 3): the server answers (413,
or 200) before the upload has ended -- as servers do that refuse a body by its headers or need no
more of it.  The firmware gets the header URC with that status and its content, not "err" 5;
over a real pty and a real loopback server, with the network executor alone too.
"""
from __future__ import annotations

import threading

import pytest

from bridge.model import BodyChunk, ErrorKind, Failure, Method, Request, ResponseEnd, ResponseHead, Timeouts
from bridge.device.hosts import HostsResolver
from bridge.device.fs import ModuleFileSystem
from bridge.net import NetworkExecutor
from support.emulated import emulator
from support.servers import LoopbackServer, _read_head
from support.onemo_emulated import OK, Module

pytestmark = pytest.mark.timeout(60)


class EarlyServer(LoopbackServer):
    """Reads the request head, answers at once, then reads (and drops) whatever comes until the
    client closes -- or with `close`, closes after answering."""

    def __init__(self, status: int, reason: str, body: bytes, close: bool = False) -> None:
        super().__init__()
        self.response = (f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                         .encode() + body)
        self.close = close
        self.answered = threading.Event()
        self.heads: list[bytes] = []
        self.after = bytearray()  # what arrived after the answer

    def handle(self, conn) -> None:
        self.heads.append(_read_head(conn))
        conn.sendall(self.response)
        self.answered.set()
        while not self.close and (piece := conn.recv(65536)):
            self.after += piece


@pytest.fixture
def module(tmp_path):
    with emulator("onemo", tmp_path) as (host, runner):
        yield Module(host)


def start_chunked_upload(module: Module, server: EarlyServer) -> None:
    module.ok(f'AT+MHTTPCREATE="{server.url("")}"')
    module.ok('AT+MHTTPCFG="chunked",0,1')
    module.ok('AT+MHTTPREQUEST=0,2,0,"/upload"')
    assert module.urc("ind").int("httpid") == 0
    assert server.answered.wait(10)


@pytest.mark.parametrize("status,reason,body", [(413, "Payload Too Large", b"too large"), (200, "OK", b"enough")])
def test_early_response_is_reported_with_its_status(module, status, reason, body):
    with EarlyServer(status, reason, body) as server:
        start_chunked_upload(module, server)
        module.send('AT+MHTTPCONTENT=0,1,0,"first piece"\r')
        frames = []
        while not any(getattr(f, "variant", None) == "content" for f in frames):
            frames.append(module.next(10))
        urcs = [f for f in frames if getattr(f, "name", None) == "+MHTTPURC"]
        assert [u.variant for u in urcs] == ["header", "content"], frames
        assert urcs[0].int("code") == status and urcs[1].payload == body
        assert not any(getattr(f, "variant", None) == "err" for f in frames)
        assert b"Transfer-Encoding: chunked" in server.heads[0] or b"transfer-encoding: chunked" in server.heads[0].lower()


def test_early_response_then_close(module):
    """The server answers 413 and closes: still the 413, whatever the next piece's send does."""
    with EarlyServer(413, "Payload Too Large", b"no", close=True) as server:
        start_chunked_upload(module, server)
        module.send('AT+MHTTPCONTENT=0,1,0,"x"\r')
        seen = []
        while not any(getattr(f, "variant", None) in ("content", "err") for f in seen):
            seen.append(module.next(10))
        urcs = [f for f in seen if getattr(f, "name", None) == "+MHTTPURC"]
        assert urcs and urcs[0].variant == "header" and urcs[0].int("code") == 413, seen
        module.command('AT+MHTTPCONTENT=0,0,0,"late"')  # the request is over: whatever the module says, it goes on
        module.alive()


def test_executor_takes_an_early_answer_as_the_response(tmp_path):
    """The network executor alone: a streamed body whose server answers after the head."""
    with EarlyServer(413, "Payload Too Large", b"too large") as server:
        sent = threading.Event()

        def body():
            yield b"one"
            assert server.answered.wait(10)
            sent.set()
            yield b"two"  # by now the answer is there: nothing more goes out
            yield b"three"

        request = Request(Method.POST, server.url("/up"), body=body(), timeouts=Timeouts(5.0, 5.0))
        with NetworkExecutor(HostsResolver({}), ModuleFileSystem(str(tmp_path))) as executor:
            events = list(executor.execute(request))
        heads = [e for e in events if isinstance(e, ResponseHead)]
        assert heads and heads[0].status == 413
        assert b"".join(e.data for e in events if isinstance(e, BodyChunk)) == b"too large"
        assert any(isinstance(e, ResponseEnd) for e in events)
        assert not any(isinstance(e, Failure) for e in events), events
        # Nothing after the answer goes out.  Whether the executor asked for "two" before it saw
        # the answer is a race between the server's answer and the next pull: either is right.
        assert b"three" not in server.after and (sent.is_set() or b"two" not in server.after)


def test_executor_without_an_answer_still_fails_a_broken_upload(tmp_path):
    """No response at all and the connection gone: a send failure, as before."""

    class Closer(LoopbackServer):
        def handle(self, conn) -> None:
            _read_head(conn)

    with Closer() as server:
        def body():
            yield b"one"
            for _ in range(64):
                yield b"x" * 65536

        request = Request(Method.POST, server.url("/up"), body=body(), timeouts=Timeouts(5.0, 5.0))
        with NetworkExecutor(HostsResolver({}), ModuleFileSystem(str(tmp_path))) as executor:
            events = list(executor.execute(request))
        assert isinstance(events[-1], Failure)
        assert events[-1].kind in (ErrorKind.SEND_FAILED, ErrorKind.CONNECTION_CLOSED)
