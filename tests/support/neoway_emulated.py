"""Helpers for the Neoway emulator tests: a session on the emulator's pty with the
data link up, command/answer helpers, a streaming reader that frames the pty with
ResponseFramer, and a loopback server that answers every request with one canned response."""
from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import h11
import yaml

from bridge.at.dialect import load
from bridge.at.frames import Command, DataInput, Final, HttpBody, Info
from bridge.at import CommandFramer, ResponseFramer
from support.emulated import HostEnd, emulator
from support.servers import LoopbackServer
from support.paths import DATA

DIALECT = load("neoway")
EXAMPLES = {e["name"]: e for e in yaml.safe_load((DATA / "examples_neoway.yaml").read_text())}
MANUAL_HOSTS = ("www.neoway.com.cn", "support.cdmatech.com", "mybank.icbc.com.cn", "www.alipay.com")
HOSTS = {name: ["127.0.0.1"] for name in MANUAL_HOSTS}
OK = b"\r\nOK\r\n"
# what ends the answer to a command: a final result, a line HTTPACTION prints in its place, or '>'
ANSWER = rb"\r\n(OK|ERROR|\+CME ERROR: [^\r]*|\+HTTPACTION: [^\r]*|\+HTTPSEND: ERROR)\r\n|\r\n>"


def example_stream(name: str) -> bytes:
    """An example's stream with its {BODY} filled in."""
    entry = EXAMPLES[name]
    stream = entry["stream"].encode("latin-1")
    fill = entry.get("body_fill")
    if fill:
        stream = stream.replace(b"{BODY}", fill["byte"].encode() * fill["length"])
    return stream


# ---- the session ----------------------------------------------------------------------------


@contextmanager
def neoway(tmp_path: Path, hosts: Optional[dict] = None, model: Optional[str] = None, link: bool = True,
           **side_attrs) -> Iterator[tuple[HostEnd, object]]:
    """The emulator on a pty, echo off, the data link up (unless `link` is False); `side_attrs`
    are set on the module side first (input_timeout, response_timeout, ...)."""
    with emulator("neoway", tmp_path, hosts=HOSTS if hosts is None else hosts, model=model) as (host, runner):
        for name, value in side_attrs.items():
            setattr(runner.side, name, value)
        if link:
            up = "AT$MYNETACT=0,1" if model == "N720" else "AT+XIIC=1"
            assert ask(host, up).endswith(OK)
        yield host, runner.side


def ask(host: HostEnd, line: str, timeout: float = 10.0) -> bytes:
    """Send a command; everything up to its answer (final result, in-place line or prompt)."""
    start = host.cursor
    host.command(line)
    match = host.expect(ANSWER, timeout)
    return bytes(host.seen[start:match.end()])


def wait_for(host: HostEnd, pattern: str, timeout: float = 10.0) -> bytes:
    """Everything up to and including `pattern`."""
    start = host.cursor
    match = host.expect(pattern, timeout)
    return bytes(host.seen[start:match.end()])


def fs_root(tmp_path: Path) -> Path:
    """The host directory behind the emulator's module file system."""
    return tmp_path / "fs"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


# ---- reading a long response off the pty --------------------------------------------------------


@dataclass
class Received:
    """What a Reader saw: body digest and length, recvmode-1 piece sizes, the response head, and
    the other frames in order (as "Final OK", "Info +HTTPCLOSED", "HttpHead", ...)."""

    digest: "hashlib._Hash" = field(default_factory=hashlib.sha256)
    length: int = 0
    pieces: list[int] = field(default_factory=list)
    head: bytes = b""
    events: list[str] = field(default_factory=list)


class Reader:
    """Frames what the emulator writes, as firmware would, hashing bodies without keeping them."""

    def __init__(self, host: HostEnd, method: str = "GET", recvmode: str = "0") -> None:
        self.port = host.port
        self.framer = ResponseFramer(DIALECT)
        self.framer.expect_http(method)
        self.recvmode = recvmode
        self.pending = bytes(host.seen[host.cursor:])  # already read by HostEnd
        host.cursor = len(host.seen)
        self._head = bytearray()
        self.got = Received()

    def response(self, close: str, timeout: float = 60.0) -> Received:
        """Read up to the URC `close` (e.g. "+HTTPCLOSED")."""
        return self.until(f"Info {close}", timeout)

    def until(self, event: str, timeout: float = 60.0) -> Received:
        deadline = time.monotonic() + timeout
        while event not in self.got.events:
            for frame in self.framer.feed(self._read(deadline)):
                self._take(frame)
        return self.got

    def _read(self, deadline: float) -> bytes:
        if self.pending:
            data, self.pending = self.pending, b""
            return data
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out reading; saw {self.got.events[-5:]}")
        self.port.timeout = min(left, 0.5)
        return self.port.read(max(1, min(self.port.in_waiting, 1 << 16)))

    def _take(self, frame: object) -> None:
        if isinstance(frame, HttpBody):
            self._body(frame.data)
        elif isinstance(frame, Info) and frame.payload is not None and self.recvmode == "1":
            self.got.pieces.append(len(frame.payload))
            self._piece(frame.payload)
        elif isinstance(frame, Info):
            self.got.events.append(f"Info {frame.name}")
        elif isinstance(frame, Final):
            self.got.events.append(f"Final {frame.result}")
        else:
            self.got.events.append(type(frame).__name__)

    def _body(self, data: bytes) -> None:
        self.got.digest.update(data)
        self.got.length += len(data)

    def _piece(self, data: bytes) -> None:
        if self.got.head:
            self._body(data)
            return
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end >= 0:
            self.got.head = bytes(self._head[:end + 4])
            self._body(bytes(self._head[end + 4:]))
            self._head.clear()


# ---- a server with one canned response ---------------------------------------------------------


@dataclass
class Seen:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


class Canned(LoopbackServer):
    """Answers every request with `response` (bytes, verbatim).  Then closes the connection,
    or with `hold` waits for the client to close it.  `seen` records each request."""

    def __init__(self, response: bytes = b"", hold: bool = False, tls_context=None) -> None:
        super().__init__(tls_context=tls_context)
        self.response = response
        self.hold = hold
        self.seen: list[Seen] = []
        self.done = threading.Event()

    def handle(self, conn: socket.socket) -> None:
        request = _read_request(conn)
        if request is None:
            return  # a connection that sent nothing (HTTPSETUP's probe)
        self.seen.append(request)
        conn.sendall(self.response)
        self.done.set()
        while self.hold and conn.recv(65536):
            pass


def _read_request(conn: socket.socket) -> Optional[Seen]:
    parser = h11.Connection(h11.SERVER)
    head, body = None, bytearray()
    while True:
        event = parser.next_event()
        if event is h11.NEED_DATA:
            parser.receive_data(conn.recv(65536))
        elif isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers.raw_items()]
            return Seen(head.method.decode(), head.target.decode("latin-1"), headers, bytes(body))
        else:  # ConnectionClosed before a request
            return None


def raw_response(module_stream: bytes) -> bytes:
    """The HTTP response inside a module example: after a bare "+HTTP(S)RECV:" up to the closing
    URC, or the payload of a "+HTTP(S)RECV: <len>," piece."""
    bare = re.search(rb"\+HTTPS?RECV: ?\r\n", module_stream)
    if bare:
        close = module_stream.rindex(b"\r\n+HTTP")
        return module_stream[bare.end():close]
    piece = re.search(rb"\+HTTPS?RECV: (\d+),", module_stream)
    assert piece, "no +HTTPRECV in the example"
    return module_stream[piece.end():piece.end() + int(piece.group(1))]


def with_port(line: str, port: int) -> str:
    """A manual command line pointed at the loopback server: its IP literal replaced, the port
    put into the url and into any port setting."""
    line = line.replace("121.15.200.97", "127.0.0.1")
    for name in MANUAL_HOSTS + ("127.0.0.1",):
        line = line.replace(f"{name}/", f"{name}:{port}/")
    return re.sub(r"(=\s*port,\s*)\d+", rf"\g<1>{port}", line)


# ---- replaying a manual conversation --------------------------------------------------------------


def replay(host: HostEnd, host_stream: bytes, port: int) -> int:
    """Send a manual host stream command by command (data after its prompt), pointed at `port`;
    returns where the emulator's output for it starts in host.seen."""
    start = host.cursor
    for frame in CommandFramer(DIALECT).feed(host_stream):
        if isinstance(frame, Command):
            host.command(with_port(frame.raw.decode("latin-1"), port))
        elif isinstance(frame, DataInput):
            host.send(frame.data)
        else:
            raise AssertionError(f"unexpected frame in a host stream: {frame!r}")
        host.expect(ANSWER)
    return start


def output(host: HostEnd, start: int, length: int, timeout: float = 10.0) -> bytes:
    """`length` bytes of output from `start`, reading more as needed."""
    deadline = time.monotonic() + timeout
    while len(host.seen) - start < length:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        host.port.timeout = min(left, 0.5)
        host.seen += host.port.read(max(1, host.port.in_waiting))
    host.cursor = max(host.cursor, min(len(host.seen), start + length))
    return bytes(host.seen[start:start + length])
