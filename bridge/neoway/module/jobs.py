"""What the module side runs on the executor, one object per request, fed the request's events.

A job writes through the side (the :class:`Side` protocol) and tells it when it has answered
the command that started it (:meth:`Side.answered`) and when it is over (:meth:`Side.job_done`).
"""
from __future__ import annotations

from typing import Optional, Protocol, Union

from bridge.at.dialect import Dialect
from bridge.model import (
    BodyChunk,
    ByteRange,
    Connected,
    ConnectionClosed,
    ErrorKind,
    Event,
    ExecutorCapabilities,
    Failure,
    Method,
    Request,
    RequestSent,
    ResponseEnd,
    ResponseHead,
)
from bridge.device.fs import ModuleFileSystem
from bridge.neoway.module.channel import Channel
from bridge.neoway.module.datalink import DataLink
from bridge.neoway.module.probe import probe_outcome
from bridge.neoway.module.recv import RecvWriter
from bridge.neoway.module.reports import Reports
from bridge.roles.module import DataCallback

# Failures before the request went out: the module has no socket (or could not send), and says
# so in place of OK.  Any other failure comes after OK, as the link closing.
NOT_SENT = frozenset({
    ErrorKind.DNS_FAILED, ErrorKind.CONNECT_FAILED, ErrorKind.CONNECT_TIMEOUT, ErrorKind.TLS_FAILED,
    ErrorKind.URL_INVALID, ErrorKind.NO_DATA_LINK, ErrorKind.NOT_ALLOWED, ErrorKind.SEND_FAILED,
})
REFUSED = frozenset({ErrorKind.INVALID_PARAMETER, ErrorKind.UNSUPPORTED, ErrorKind.FILE_OPEN_FAILED})


class Side(Protocol):
    reports: Reports
    fs: ModuleFileSystem

    def emit(self, data: bytes) -> None: ...
    def raw_started(self, job: "Job") -> None: ...
    def line(self, text: Union[str, bytes]) -> None: ...
    def ok(self) -> None: ...
    def fail(self, kind: ErrorKind) -> None: ...
    def fail_token(self, token: str) -> None: ...
    def cancel(self, token: int) -> None: ...
    def answered(self, now: float) -> None: ...
    def job_done(self, job: "Job", now: float) -> None: ...


class Runner(Side, Protocol):
    """What the commands that start jobs use of the module side (http.py, file_commands.py)."""

    dialect: Dialect
    link: DataLink
    input_timeout: float  # data after '>'
    executor_capabilities: ExecutorCapabilities

    def hold_until_answered(self) -> None: ...
    def prompt_for_data(self, length: Optional[int], on_data: DataCallback, now: float,
                        timeout: Optional[float], max_len: int = 4096) -> None: ...
    def run(self, job: "Job", request: Request, now: float) -> "Job": ...
    def request_for(self, channel: Channel, method: Method, headers: Optional[list[tuple[str, str]]] = None,
                    body: Optional[bytes] = None, byte_range: Optional[ByteRange] = None,
                    path: Optional[str] = None, save_to: Optional[str] = None) -> Request: ...


class Job:
    def __init__(self, side: Side, channel: Channel) -> None:
        self.side = side
        self.channel = channel
        self.token = 0
        self.lingers = False  # done, but a late event may still concern the link

    def on_event(self, event: Event, now: float) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close_line(self) -> str:
        """"+HTTPCLOSED: HTTP Link Closed" (or the HTTPS one): the link went down."""
        return self.side.reports.urc(ErrorKind.CONNECTION_CLOSED, self.channel.secure)[0]


class Probe(Job):
    """AT+HTTPSETUP / AT+HTTPSSETUP: OK once connected, else the sync token of the fault."""

    def on_event(self, event: Event, now: float) -> None:
        kind = probe_outcome(event)
        if not isinstance(event, (Failure, Connected)):  # an executor that sent after all
            self.side.cancel(self.token)
        if kind is None:
            self.channel.link_up = True
            self.side.ok()
        else:
            self.side.fail(kind)
        self.side.job_done(self, now)
        self.side.answered(now)


class Exchange(Job):
    """AT+HTTPACTION / AT+HTTPSACTION: OK once the request has gone out (or, from an executor that
    does not say so, with the response head), the response as +HTTPRECV output, the link's fate."""

    def __init__(self, side: Side, channel: Channel, request: Request, writer: RecvWriter) -> None:
        super().__init__(side, channel)
        self.request = request
        self.writer = writer
        self.is_answered = False

    def on_event(self, event: Event, now: float) -> None:
        if isinstance(event, RequestSent):  # OK once sent (9.3); the response comes unsolicited
            self._answer(now)
        elif isinstance(event, ResponseHead):
            self._answer(now)
            self.side.emit(self.writer.head(event))
            if not self.writer.pieces:  # recvmode 0: unframed bytes until the response ends
                self.side.raw_started(self)
        elif isinstance(event, BodyChunk):
            self.side.emit(self.writer.body(event.data))
        elif isinstance(event, ResponseEnd):
            self._ended(now)
        elif isinstance(event, ConnectionClosed):
            self._closed(now)
        elif isinstance(event, Failure):
            self._failed(event.kind, now)

    def _answer(self, now: float) -> None:
        if not self.is_answered:
            self.is_answered = True
            self.side.ok()
            self.side.answered(now)

    def _ended(self, now: float) -> None:
        self._answer(now)
        self.side.emit(self.writer.end())
        # Over now.  A kept-alive link stays up (a ConnectionClosed may follow, or nothing); any
        # other closes with its response, as the manual's transcripts show ("The server
        # disconnects with the module after it finishes responding"), whether or not the
        # executor says so next -- a ConnectionClosed after this finds no job.
        self.lingers = self.request.keep_alive and self.channel.settings.keepalive
        self._finish(now, closed=not self.lingers)

    def _closed(self, now: float) -> None:
        if self.lingers:  # the server closed a kept-alive link after its response
            self.lingers = False
            if self.channel.link_up and self.channel.job is None:
                self.channel.link_up = False
                self.side.line(self.close_line())
            self.side.job_done(self, now)
            return
        self._finish(now, closed=True)

    def _failed(self, kind: ErrorKind, now: float) -> None:
        reports, was_answered = self.side.reports, self.is_answered
        self.is_answered = True
        self.channel.link_up = False
        if not was_answered and kind in REFUSED:  # said in place of OK
            self.side.fail_token(reports.sync(kind))
        elif not was_answered and kind in NOT_SENT:
            self.side.fail_token(reports.instead_of_ok(kind, self.channel.secure))
        else:  # the request went out: OK, what arrived, the link closing
            if not was_answered:
                self.side.ok()
            self.side.emit(self.writer.abort())
            self.side.fail_token(reports.urc(kind, self.channel.secure)[0])
        self.side.job_done(self, now)
        if not was_answered:
            self.side.answered(now)

    def _finish(self, now: float, closed: bool) -> None:
        if closed and self.channel.link_up:
            self.channel.link_up = False
            self.side.line(self.close_line())
        self.side.job_done(self, now)
