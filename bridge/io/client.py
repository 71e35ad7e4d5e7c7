"""The library: drive a cellular module on a serial port through the shared request model.

    from bridge.client import open_module

    with open_module("/dev/ttyUSB0") as module:
        response = module.fetch("GET", "http://example.com/")
        for event in module.request(Request(Method.GET, "http://example.com/big")):
            ...

One I/O loop, the same as the emulator's and the bridge's (bridge.io.loop), run in the caller's
thread: each call runs it until what it waits for has arrived, bounded by the host side's next
deadline.  Nothing sleeps or polls.  A client is used from one thread at a time.
"""
from __future__ import annotations

import io
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Optional, Union

from bridge.model import (Body, BodyChunk, ByteRange, ErrorKind, Event, Failure, Header, Method,
                    Request, ResponseEnd, ResponseHead, Timeouts, TlsSettings)
from bridge.io.loop import Loop
from bridge.io.ports import Port, SerialPort
from bridge.registry import make_host_side
from bridge.roles.host import HostSide

CLOSE_GRACE = 2.0  # seconds close() gives the module to finish clean-up commands (MHTTPDEL ...)
UNSOLICITED_KEPT = 1000  # unrelated URCs kept for unsolicited(); older ones are dropped


class ModuleError(Exception):
    """A request or command failed; `kind` is the shared model's ErrorKind."""

    def __init__(self, kind: ErrorKind, detail: str = "") -> None:
        super().__init__(f"{kind.value}: {detail}" if detail else kind.value)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Response:
    """A whole response, as :meth:`ModuleClient.fetch` returns it."""

    status: int
    reason: str
    headers: tuple[Header, ...]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        """The last value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in reversed(self.headers) if key.lower() == wanted), None)


def open_module(port: str, dialect: str = "onemo", *, model: Optional[str] = None,
                baudrate: int = 115200) -> "ModuleClient":
    """Open the module on `port` (a device path such as "/dev/ttyUSB0" or any pyserial URL),
    run the dialect's start-up, and return a client.  Raises ModuleError(RESPONSE_TIMEOUT) when
    the module does not answer, NotImplementedError for a dialect without a host side yet."""
    side = make_host_side(dialect, model)
    client = ModuleClient(SerialPort(port, baudrate), side)
    try:
        client.wait_ready()
    except BaseException:
        client.close()
        raise
    return client


class ModuleClient:
    """Requests to a module, over a port, through a dialect's host side."""

    def __init__(self, port: Port, side: HostSide) -> None:
        self.port = port
        self.side = side
        self._loop = Loop()
        self._loop.read_port(port, "module")
        self._events: dict[int, deque[Event]] = {}
        self._answers: dict[int, bytes] = {}
        self._unsolicited: deque[bytes] = deque(maxlen=UNSOLICITED_KEPT)
        self._gone = False  # the port has closed or failed
        self._closed = False
        self._flush()

    # ---- the public API ------------------------------------------------------------------

    def request(self, request: Request) -> Iterator[Event]:
        """Send `request` now; iterate its events as they arrive: ResponseHead, BodyChunk (or
        Progress when saving to a module file), then ResponseEnd -- or a Failure.  Leaving the
        iteration early cancels the request."""
        self._check_open()
        token = self.side.submit(request)
        self._events[token] = deque()
        self._flush()
        return self._stream(token)

    def fetch(self, method: Union[Method, str], url: str, *, headers: Iterable[Header] = (),
              body: Optional[Body] = None, tls: Optional[TlsSettings] = None, timeouts: Optional[Timeouts] = None,
              byte_range: Optional[ByteRange] = None, keep_alive: bool = False) -> Response:
        """The whole response to one request, body in memory (held once: a BytesIO hands its buffer
        over without a copy); raises ModuleError on a Failure."""
        request = Request(method if isinstance(method, Method) else Method(method.upper()), url, list(headers), body, tls,
                          timeouts or Timeouts(), byte_range, keep_alive)
        head: Optional[ResponseHead] = None
        body = io.BytesIO()
        for event in self.request(request):
            if isinstance(event, Failure):
                raise ModuleError(event.kind, event.detail)
            if isinstance(event, ResponseHead):
                head = event
            elif isinstance(event, BodyChunk):
                body.write(event.data)
        if head is None:
            raise ModuleError(ErrorKind.RESPONSE_INVALID, "the response ended without a header")
        return Response(head.status, head.reason, head.headers, body.getvalue())

    def command(self, line: Union[str, bytes], data: Optional[bytes] = None) -> bytes:
        """Send a command that is not the dialect's HTTP (e.g. "AT+CSQ") and return the module's
        whole answer as raw bytes.  Raises ModuleError(RESPONSE_TIMEOUT) without a final result."""
        self._check_open()
        token = self.side.passthrough(line.encode() if isinstance(line, str) else line, data)
        self._flush()
        if not self._wait(lambda: token in self._answers):
            raise ModuleError(ErrorKind.CONNECTION_CLOSED, f"{self.port.name} closed")
        answer = self._answers.pop(token)
        if not _has_final(answer):
            raise ModuleError(ErrorKind.RESPONSE_TIMEOUT, f"no final result to {line!r}: {answer!r}")
        return answer

    def unsolicited(self) -> list[bytes]:
        """Unrelated URCs (RING, +CEREG, +CMT with its PDU ...) received so far, as raw bytes."""
        lines = list(self._unsolicited)
        self._unsolicited.clear()
        return lines

    def wait_ready(self, timeout: Optional[float] = None) -> None:
        """Until the host side's start-up has run; raises ModuleError if the module is silent."""
        limit = None if timeout is None else time.monotonic() + timeout
        if not self._wait(lambda: self.side.ready is not None, limit) or not self.side.ready:
            raise ModuleError(ErrorKind.RESPONSE_TIMEOUT, f"no answer from the module on {self.port.name}")

    def close(self) -> None:
        """Cancel what is running, give the module a moment to clean up, close the port."""
        if self._closed:
            return
        self._closed = True
        try:
            for token in list(self._events):
                self.side.cancel(token)
            self._flush()
            self._wait(lambda: self.side.idle, time.monotonic() + CLOSE_GRACE)
        finally:
            self.port.close()
            self._loop.close()

    def __enter__(self) -> "ModuleClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- events of one request -------------------------------------------------------------

    def _stream(self, token: int) -> Iterator[Event]:
        events = self._events[token]
        finished = False
        try:
            while True:
                while events:
                    event = events.popleft()
                    yield event
                    if isinstance(event, (ResponseEnd, Failure)):
                        finished = True
                        return
                if not self._wait(lambda: bool(events)):
                    finished = True
                    yield Failure(ErrorKind.CONNECTION_CLOSED, f"{self.port.name} closed")
                    return
        finally:
            self._events.pop(token, None)
            if not finished and not self._closed and not self._gone:
                self.side.cancel(token)
                self._flush()

    # ---- the one loop ----------------------------------------------------------------------

    def _wait(self, done: Callable[[], bool], limit: Optional[float] = None) -> bool:
        """Run the loop until `done()`; False if the port went away or `limit` passed first."""
        if not self._gone:
            self._loop.run(self._handle, self.side.next_deadline, self._on_time,
                           until=lambda: self._gone or done(), limit=limit)
        return done()

    def _handle(self, item: tuple, now: float) -> None:
        kind, _, data = item
        if kind == "port":
            if data:
                self.side.receive_data(data, now)
            else:
                self._gone = True
        self._flush()

    def _on_time(self, now: float) -> None:
        self.side.on_time(now)
        self._flush()

    def _flush(self) -> None:
        """Write what the host side has to say; sort out what it produced."""
        out = self.side.data_to_send()
        if out and not self._gone:
            try:
                self.port.write(out)
            except (OSError, ValueError):  # pyserial's errors are OSErrors; requests then fail
                self._gone = True
        for token, event in self.side.take_events():
            if token in self._events:
                self._events[token].append(event)
        for token, answer in self.side.take_passthrough():
            self._answers[token] = answer
        self._unsolicited.extend(self.side.take_unsolicited())

    def _check_open(self) -> None:
        if self._closed or self._gone:
            raise ModuleError(ErrorKind.CONNECTION_CLOSED, f"{self.port.name} is closed")


def _has_final(answer: bytes) -> bool:
    last = answer.rstrip(b"\r\n").rsplit(b"\n", 1)[-1].strip()
    return last in (b"OK", b"ERROR") or last.startswith((b"+CME ERROR", b"+CMS ERROR"))
