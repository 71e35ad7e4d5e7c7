"""The Neoway host side in memory: one past its start-up, and a fake Neoway module answering it
(OK, '>' for data mode, a response after the action).  Shared by the unit tests of the host side
and the system tests that drive it against the OneMO emulator."""
from __future__ import annotations

from typing import Callable, Optional

from bridge.at import CommandFramer
from bridge.at.dialect import load
from bridge.at.frames import Command, DataInput
from bridge.model import Method, Request
from bridge.neoway.host.side import NeowayHostSide
from support.hostside import feed, lines

DIALECT = load("neoway")
OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
CLOSED = b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n"
CLOSES = [b"AT+HTTPCLOSE", b"AT+HTTPSCLOSE"]  # a link left up by earlier firmware or a crash
STARTUP = [b"ATE0", b"AT+CMEE=1"] + CLOSES + [b"AT+XIIC?", b"AT+HTTPPARA=recvmode,1", b"AT+HTTPSPARA=recvmode,1"]
STARTUP_ANSWERS = OK + OK + OK + OK + b"\r\n+XIIC:    1,10.0.0.2\r\n" + OK + OK + OK
URL = "http://www.neoway.com.cn/en/index.aspx"
HTTP_PARAS = [b'AT+HTTPPARA=url,"www.neoway.com.cn/en/index.aspx"', b"AT+HTTPPARA=port,80", b"AT+HTTPPARA=keepalive,0"]
HTTP_SETUP = HTTP_PARAS + [b"AT+HTTPSETUP"]


def started(**options) -> NeowayHostSide:
    """A host side past its start-up (ATE0, AT+CMEE=1, HTTPCLOSE/HTTPSCLOSE, AT+XIIC? with the link up, recvmode 1)."""
    host = NeowayHostSide(**options)
    sent = host.data_to_send() + feed(host, STARTUP_ANSWERS, now=0.0)
    assert host.ready is True and lines(sent) == STARTUP
    return host


def piece(data: bytes, name: bytes = b"+HTTPRECV") -> bytes:
    return b"\r\n" + name + b": %d," % len(data) + data + b"\r\n"


def http_response(data: bytes = b"ok", status: int = 200) -> bytes:
    return b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n" % (status, len(data)) + data


class FakeModule:
    """Answers like a Neoway module: OK, '>' for data mode, and what `respond` returns after the
    answer to AT+HTTPACTION / AT+FILEHTTPACTION."""

    def __init__(self, host: NeowayHostSide, respond: Callable[[Command, bytes], bytes] = lambda c, d: piece(http_response()),
                 prompt: bytes = b"\r\n>") -> None:
        self.host = host
        self.respond = respond
        self.prompt = prompt
        self.framer = CommandFramer(DIALECT, auto_data_mode=True)
        self.commands: list[bytes] = []
        self.data: list[bytes] = []
        self.pending: Optional[Command] = None

    def pump(self, rounds: int = 1000) -> None:
        for _ in range(rounds):
            sent = self.host.data_to_send()
            if not sent:
                return
            for frame in self.framer.feed(sent):
                self.host.receive_data(self.answer(frame), 1.0)

    def answer(self, frame) -> bytes:
        if isinstance(frame, DataInput):
            self.data.append(frame.data)
            return OK + self.respond(self.pending, frame.data)
        assert isinstance(frame, Command), frame
        self.commands.append(frame.raw)
        if self.framer.in_data_mode:
            self.pending = frame
            return self.prompt
        if frame.name.endswith("ACTION"):
            return OK + self.respond(frame, b"")
        return OK


def run_get_until_action(host: NeowayHostSide) -> int:
    token = host.submit(Request(Method.GET, URL))
    sent = host.data_to_send() + feed(host, OK * 4)
    assert lines(sent) == HTTP_SETUP + [b"AT+HTTPACTION=0"]
    return token
