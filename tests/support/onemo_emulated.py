"""Helpers for the OneMO emulator tests: the host's framed view of the pty, and a
scripted loopback server that answers with given raw responses."""
from __future__ import annotations

import collections
import hashlib
import threading
import time
from contextlib import contextmanager
from typing import Iterator, Optional, Union

import h11

from bridge.at.dialect import load
from bridge.at.frames import Final, Frame, Info, Prompt
from bridge.at import ResponseFramer
from support.emulated import emulator
from support.servers import LoopbackServer

DIALECT = load("onemo")
OK = Final("OK")


def cme(code: int) -> Final:
    return Final("CME", code=code)


@contextmanager
def running_module(tmp_path, **options) -> Iterator["Module"]:
    """A OneMO emulator on a pty, seen as :class:`Module`; `runner` is its ModuleRunner."""
    with emulator("onemo", tmp_path, **options) as (host, runner):
        module = Module(host)
        module.runner = runner
        yield module


class Module:
    """The emulator as firmware sees it: bytes read off the pty, framed by ResponseFramer."""

    def __init__(self, host, keep_log: bool = True) -> None:
        self.port = host.port
        self.framer = ResponseFramer(DIALECT)
        self.frames: collections.deque[Frame] = collections.deque()
        self.keep_log = keep_log
        self.log = bytearray()

    def send(self, data: Union[bytes, str]) -> None:
        self.port.write(data.encode("utf-8") if isinstance(data, str) else data)

    def read_some(self, deadline: float) -> bytes:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out; frames {list(self.frames)[-3:]!r}; last bytes {bytes(self.log[-300:])!r}")
        self.port.timeout = min(left, 0.5)
        data = self.port.read(max(1, self.port.in_waiting))
        if data:
            if self.keep_log:
                self.log += data
            self.frames.extend(self.framer.feed(data))
        return data

    def next(self, timeout: float = 10.0) -> Frame:
        deadline = time.monotonic() + timeout
        while not self.frames:
            self.read_some(deadline)
        return self.frames.popleft()

    def until_final(self, timeout: float = 10.0) -> list[Frame]:
        frames = []
        while not frames or not isinstance(frames[-1], Final):
            frames.append(self.next(timeout))
        return frames

    def command(self, line: str, timeout: float = 10.0) -> list[Frame]:
        self.send(line + "\r")
        return self.until_final(timeout)

    def ok(self, line: str, timeout: float = 10.0) -> list[Frame]:
        frames = self.command(line, timeout)
        assert frames[-1] == OK, (line, frames)
        return frames[:-1]

    def fails(self, line: str, code: Optional[int] = None, timeout: float = 10.0) -> Final:
        frames = self.command(line, timeout)
        final = frames[-1]
        assert final != OK, (line, frames)
        if code is not None:
            assert final == cme(code), (line, frames)
        return final

    def alive(self) -> None:
        """Nothing else is pending, and the module still answers AT."""
        assert self.command("AT") == [OK]

    def urc(self, variant: str, timeout: float = 10.0, name: str = "+MHTTPURC") -> Info:
        frame = self.next(timeout)
        assert isinstance(frame, Info) and frame.name == name and frame.variant == variant, (variant, frame)
        return frame

    def prompt(self, timeout: float = 10.0) -> None:
        frame = self.next(timeout)
        assert isinstance(frame, Prompt), frame

    def response(self, httpid: int = 0, method: str = "GET", timeout: float = 10.0) -> tuple[Info, bytes]:
        """A header URC and the content URCs of its body, every length checked."""
        head = self.urc("header", timeout)
        assert head.int("httpid") == httpid and head.int("header_len") == len(head.payload or b"")
        digest = Body(head, method)
        while not digest.complete:
            digest.add(self.urc("content", timeout), httpid)
        return head, bytes(digest.data)


def head_fields(raw: bytes) -> dict[str, str]:
    lines = raw.decode("latin-1").split("\r\n")
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}


class Body:
    """The content URCs of one response: cur_len is the payload length, sum_len the running sum,
    content_len the Content-Length (0 for chunked), and the end is where the manual puts it."""

    def __init__(self, head: Info, method: str = "GET", keep: bool = True) -> None:
        fields = head_fields(head.payload or b"")
        status = head.int("code")
        self.chunked = "content-length" not in fields or "transfer-encoding" in fields
        self.length = 0 if self.chunked else int(fields["content-length"])
        no_body = method == "HEAD" or status in (204, 304) or (not self.chunked and self.length == 0)
        self.complete = no_body
        self.sum = 0
        self.keep = keep
        self.data = bytearray()
        self.sha = hashlib.sha256()

    def add(self, urc: Info, httpid: int) -> None:
        assert not self.complete
        assert urc.int("httpid") == httpid and urc.int("content_len") == self.length, urc
        payload = urc.payload or b""
        assert urc.int("cur_len") == len(payload), urc
        self.sum += len(payload)
        assert urc.int("sum_len") == self.sum, (urc, self.sum)
        self.sha.update(payload)
        if self.keep:
            self.data += payload
        self.complete = urc.int("cur_len") == 0 if self.chunked else self.sum == self.length


# ---- a server that answers with scripted raw responses --------------------------------------

class _Stall:
    """A scripted "response" that never comes."""


STALL = _Stall()


class ScriptedServer(LoopbackServer):
    """Answers each request (one per connection) with the next scripted raw response, byte for
    byte, then closes.  `requests` records (method, target, headers, body)."""

    def __init__(self, tls_context=None) -> None:
        super().__init__(tls_context=tls_context)
        self.responses: collections.deque = collections.deque()
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.request_headers: list[list[tuple[str, str]]] = []
        self.got_request = threading.Event()

    def script(self, *responses: object) -> "ScriptedServer":
        self.responses.extend(responses)
        return self

    def handle(self, conn) -> None:
        parsed = _read_request(conn)
        if parsed is None:
            return
        with self._lock:
            self.requests.append(parsed[0])
            self.request_headers.append(parsed[1])
            response = self.responses.popleft() if self.responses else b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        self.got_request.set()
        if response is STALL:
            while conn.recv(65536):
                pass
            return
        conn.sendall(response)


def _read_request(conn):
    parser = h11.Connection(h11.SERVER)
    head, body = None, bytearray()
    while True:
        event = parser.next_event()
        if event is h11.NEED_DATA:
            data = conn.recv(65536)
            if not data:
                return None
            parser.receive_data(data)
        elif isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            break
        else:
            return None
    raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers.raw_items()]
    headers = {k.lower(): v for k, v in raw}
    return (head.method.decode(), head.target.decode("latin-1"), headers, bytes(body)), raw


def raw_response(head: bytes, body: bytes = b"") -> bytes:
    """A response from a header block as the +MHTTPURC "header" data shows it (no blank line)."""
    return head + b"\r\n" + body


def http_response(body: bytes = b"", status: str = "200 OK", headers: tuple[str, ...] = ()) -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
