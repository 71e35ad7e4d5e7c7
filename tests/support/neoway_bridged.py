"""Helpers for the Neoway -> OneMO bridge tests.

Firmware speaking Neoway (a HostEnd on a real pty) drives the bridge, which drives the OneMO
emulator on a second real pty, which does real HTTP to loopback servers.  The firmware
conversations are the ones tests/system/test_emulator_neoway*.py hold against the Neoway
emulator: the same helpers (ask, wait_for) and the same expected bytes.
"""
from __future__ import annotations

import hashlib
import io
import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

import h11

from bridge.at.frames import Final, HttpBody, HttpEnd, HttpHead, Info
from bridge.at import ResponseFramer
from bridge.device.fs import ModuleFileSystem
from support.bridged import bridged
from support.neoway_emulated import DIALECT, OK, ask, wait_for  # noqa: F401  (re-exported)
from support.neoway_emulated import HOSTS as MANUAL_HOSTS

HOST = "www.neoway.com.cn"
HOSTS = {HOST: ["127.0.0.1"]}
ERROR = b"\r\nERROR\r\n"
NO_SOCKET = b"\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n"
CLOSED = {"HTTP": b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n", "HTTPS": b"\r\n+HTTPSCLOSED: HTTPS Link Closed\r\n"}
CLOSED_RE = {"HTTP": r"\r\n\+HTTPCLOSED: HTTP Link Closed\r\n", "HTTPS": r"\r\n\+HTTPSCLOSED: HTTPS Link Closed\r\n"}


@contextmanager
def session(tmp_path: Path, hosts: Optional[dict] = None, link: bool = True, echo: bool = False, trace=None,
            trace_secrets: bool = False, **side_attrs) -> Iterator[tuple]:
    """Firmware -> bridge -> OneMO emulator, echo off (unless `echo`), the data link up with
    AT+XIIC=1 (unless `link` is False).  `side_attrs` are set on the bridge's Neoway module side
    first (response_timeout, input_timeout, ...).  Yields (firmware, bridge runner, emulator runner)."""
    with bridged("neoway", "onemo", tmp_path, hosts=HOSTS if hosts is None else hosts, trace=trace,
                 trace_secrets=trace_secrets, echo=echo) as (firmware, bridge, module):
        for name, value in side_attrs.items():
            setattr(bridge.engine.module_side, name, value)
        if link:
            assert ask(firmware, "AT+XIIC=1").endswith(OK)
        yield firmware, bridge, module


@contextmanager
def through_the_bridge(tmp_path: Path, hosts: Optional[dict] = None, model: Optional[str] = None, link: bool = True,
                       **side_attrs) -> Iterator[tuple]:
    """Stands in for support.neoway_emulated.neoway (the Neoway emulator) so that the emulator's
    conversations (support/neoway_manual.py, support/neoway_faults.py) run against the bridge:
    yields (firmware end, the bridge's Neoway side)."""
    assert model is None, "the bridge's Neoway side is an N58"
    with session(tmp_path, hosts=MANUAL_HOSTS if hosts is None else hosts, link=link, **side_attrs) as (fw, bridge, module):
        yield fw, bridge.engine.module_side


def bridge_fs(tmp_path: Path) -> ModuleFileSystem:
    """The bridge's Neoway-side file system (what the firmware's HTTPSCFG / FILEHTTPACTION name)."""
    return ModuleFileSystem(str(tmp_path / "bridge-fs"))


def module_root(tmp_path: Path) -> Path:
    """The host folder behind the OneMO emulator's file system."""
    return tmp_path / "module-fs"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def setup(fw, url: str, family: str = "HTTP", **para) -> None:
    """HTTPPARA settings, the url, HTTPSETUP: each OK."""
    for name, value in para.items():
        assert ask(fw, f"AT+{family}PARA={name},{value}") == OK
    assert ask(fw, f"AT+{family}PARA=url,{url}") == OK
    assert ask(fw, f"AT+{family}SETUP") == OK


def action(fw, command: str, data: Optional[bytes] = None) -> bytes:
    """HTTPACTION (with its data after '>'): what it answers."""
    answer = ask(fw, command)
    if data is None:
        return answer
    assert answer == b"\r\n>", answer
    start = fw.cursor
    fw.send(data)
    match = fw.expect(rb"\r\n(OK|ERROR|\+HTTPACTION: [^\r]*|\+HTTPSEND: ERROR)\r\n")
    return bytes(fw.seen[start:match.end()])


def recv0(fw, family: str = "HTTP") -> tuple[bytes, bytes]:
    """A recvmode-0 response after HTTPACTION's OK, up to the close URC: (head, body)."""
    text = wait_for(fw, CLOSED_RE[family])
    prefix = f"\r\n+{family}RECV:\r\n".encode()
    assert text.startswith(prefix), text[:80]
    head, _, rest = text[len(prefix):].partition(b"\r\n\r\n")
    assert rest.endswith(CLOSED[family])
    return head + b"\r\n", rest[: -len(CLOSED[family])]


def echoed_json(body: bytes) -> dict:
    return json.loads(body.decode())


def trace_records(stream: io.BytesIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().decode().splitlines()]


# ---- reading a long response like firmware -------------------------------------------------------


class Response:
    """Frames what the bridge writes after HTTPACTION, as Neoway firmware does (ResponseFramer),
    and rebuilds the HTTP response from either receive mode: recvmode 0 from the raw HTTP frames,
    recvmode 1 from the "+HTTPRECV: <len>,<data>" payloads fed to h11 (which also de-chunks).
    The body is hashed (and kept only with `keep`).  `frames` lists the other frames in order, as
    ("Final", "OK") / ("Info", "+CSQ") / (type name, raw)."""

    def __init__(self, fw, method: str = "GET", recvmode: str = "0", keep: bool = False) -> None:
        self.fw = fw
        self.body: Optional[bytearray] = bytearray() if keep else None
        self.recvmode = recvmode
        self.framer = ResponseFramer(DIALECT)
        self.framer.expect_http(method)
        self.digest = hashlib.sha256()
        self.length = 0
        self.status: Optional[int] = None
        self.headers: dict[str, str] = {}
        self.pieces: list[int] = []
        self.frames: list[tuple[str, str]] = []
        self.ended = False
        self._h11 = h11.Connection(h11.CLIENT)
        self._h11.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        self._h11.send(h11.EndOfMessage())
        self._hooks: list[tuple[int, Callable[[], None]]] = []

    def at(self, length: int, hook: Callable[[], None]) -> "Response":
        """Run `hook` once `length` body bytes have arrived."""
        self._hooks.append((length, hook))
        return self

    def until(self, done: Callable[["Response"], bool], timeout: float = 60.0) -> "Response":
        deadline = time.monotonic() + timeout
        while not done(self):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out: {self.length} body bytes, frames {self.frames[-6:]}")
            if len(self.fw.seen) == self.fw.cursor:
                self.fw.port.timeout = min(left, 0.5)
                self.fw.seen += self.fw.port.read(max(1, min(self.fw.port.in_waiting, 1 << 16)))
            data = bytes(self.fw.seen[self.fw.cursor:])
            self.fw.cursor = len(self.fw.seen)
            for frame in self.framer.feed(data):
                self._take(frame)
        return self

    def until_frame(self, kind: str, name: str, timeout: float = 60.0) -> "Response":
        return self.until(lambda r: (kind, name) in r.frames, timeout)

    def _take(self, frame) -> None:
        if isinstance(frame, HttpHead):
            self.status, self.headers = frame.status, dict(frame.headers)
            self.frames.append(("HttpHead", ""))
        elif isinstance(frame, HttpBody):
            self._body(frame.data)
        elif isinstance(frame, HttpEnd):
            self.ended = True
            self.frames.append(("HttpEnd", ""))
        elif isinstance(frame, Info) and frame.payload is not None and self.recvmode == "1":
            self.pieces.append(len(frame.payload))
            self._h11.receive_data(frame.payload)
            self._drain_h11()
        elif isinstance(frame, Info):
            self.frames.append(("Info", frame.name))
        elif isinstance(frame, Final):
            self.frames.append(("Final", frame.result))
        else:
            self.frames.append((type(frame).__name__, bytes(getattr(frame, "raw", b"") or b"").decode("latin-1")))

    def _drain_h11(self) -> None:
        while True:
            event = self._h11.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response):
                self.status = event.status_code
                self.headers = {n.decode(): v.decode() for n, v in event.headers.raw_items()}
            elif isinstance(event, h11.Data):
                self._body(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self.ended = True
                self.frames.append(("HttpEnd", ""))
                return

    def _body(self, data: bytes) -> None:
        before = self.length
        if self.body is not None:
            self.body += data
        self.digest.update(data)
        self.length += len(data)
        for mark, hook in list(self._hooks):
            if before < mark <= self.length:
                self._hooks.remove((mark, hook))
                hook()
