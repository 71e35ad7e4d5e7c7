"""The OneMO host side in memory: one past its start-up, a fake OneMO module answering it (OK,
+MHTTPCREATE, '>' for data mode, a response after the request), and the URCs of a response.
Shared by the unit tests of the host side and the system tests that drive it."""
from __future__ import annotations

from typing import Callable

from bridge.at import CommandFramer
from bridge.at.dialect import load
from bridge.at.frames import Command, DataInput
from bridge.onemo.host.side import OnemoHostSide
from support.hostside import lines

DIALECT = load("onemo")
OK = b"\r\nOK\r\n"
STARTUP = [b"ATE0", b"AT+CMEE=1"] + [b"AT+MHTTPDEL=%d" % i for i in range(4)]


def started(**options) -> OnemoHostSide:
    """A host side past its start-up (ATE0, AT+CMEE=1, AT+MHTTPDEL=0..3 answered OK)."""
    host = OnemoHostSide(**options)
    host.receive_data(OK * len(STARTUP), 0.0)
    assert host.ready is True
    assert lines(host.data_to_send()) == STARTUP
    return host


class FakeModule:
    """Answers the host side's commands like a OneMO module: OK, +MHTTPCREATE, a prompt for data
    mode, and what `on_request` returns after AT+MHTTPREQUEST / AT+MHTTPDLFILE's OK."""

    def __init__(self, host: OnemoHostSide, on_request: Callable[[Command], bytes] = lambda c: b"") -> None:
        self.host = host
        self.on_request = on_request
        self.framer = CommandFramer(DIALECT, auto_data_mode=True)
        self.commands: list[bytes] = []
        self.data: list[bytes] = []
        self.ids: set[int] = set()
        self.now = 1.0

    def pump(self, rounds: int = 10000) -> None:
        for _ in range(rounds):
            sent = self.host.data_to_send()
            if not sent:
                return
            for frame in self.framer.feed(sent):
                self.host.receive_data(self.answer(frame), self.now)

    def answer(self, frame) -> bytes:
        if isinstance(frame, DataInput):
            self.data.append(frame.data)
            return OK
        assert isinstance(frame, Command), frame
        self.commands.append(frame.raw)
        if self.framer.in_data_mode:
            return b"\r\n>"
        if frame.name == "MHTTPCREATE":
            httpid = min(set(range(4)) - self.ids)
            self.ids.add(httpid)
            return b"\r\n+MHTTPCREATE: %d\r\n" % httpid + OK
        if frame.name == "MHTTPDEL":
            self.ids.discard(int(frame.params[0].text))
        if frame.name in ("MHTTPREQUEST", "MHTTPDLFILE"):
            return OK + self.on_request(frame)
        return OK


def head_urc(httpid: int, head: bytes) -> bytes:
    return b'\r\n+MHTTPURC: "header",%d,200,%d,' % (httpid, len(head)) + head + b"\r\n"


def content_urc(httpid: int, total: int, done: int, data: bytes) -> bytes:
    return b'\r\n+MHTTPURC: "content",%d,%d,%d,%d,' % (httpid, total, done + len(data), len(data)) + data + b"\r\n"


def ok_response(body: bytes = b"hello", httpid: int = 0, extra: bytes = b"") -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body) + extra
    return head_urc(httpid, head) + (content_urc(httpid, len(body), 0, body) if body else b"")
