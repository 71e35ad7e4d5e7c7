"""One request of an instance (or of AT+MHTTPDLFILE), from its start to its last URC: routes the
executor's events to a sink, follows redirects, and reports failures as +MHTTPURC: "err"."""
from __future__ import annotations

from typing import Callable, Optional, Protocol

from bridge.model import (BodyChunk, ErrorKind, Event, Failure, Progress, Request, ResponseEnd,
                     ResponseHead)
from bridge.onemo.module.request import MAX_REDIRECTS, UploadStream, redirected

URC = "+MHTTPURC"


def urc(variant: str, *fields: object) -> str:
    return f'{URC}: "{variant}",' + ",".join(map(str, fields))


class Io(Protocol):
    """What a transfer needs from the module side."""

    backlog_max: int

    def write(self, data: bytes) -> None: ...

    def line(self, text: "str | bytes") -> None: ...

    def set_timer(self, name: str, deadline: float, callback: Callable[[float], None]) -> None: ...

    def cancel_timer(self, name: str) -> None: ...

    def launch(self, transfer: "Transfer") -> None:
        """Start transfer.request and route its events to the transfer."""

    def halt(self, transfer: "Transfer") -> None:
        """Cancel the request in flight."""

    def finished(self, transfer: "Transfer", ok: bool) -> None: ...

    def async_code(self, kind: ErrorKind) -> str: ...


class Sink(Protocol):
    def head(self, head: ResponseHead, now: float) -> None: ...

    def chunk(self, data: bytes, now: float) -> None: ...

    def progress(self, progress: Progress, now: float) -> None: ...

    def end(self, now: float) -> None: ...

    def close(self) -> None: ...


class Transfer:
    def __init__(self, io: Io, httpid: int, request: Request, make_sink: Callable[["Transfer"], Sink],
                 upload: Optional[UploadStream] = None) -> None:
        self.io = io
        self.httpid = httpid
        self.request = request
        self.upload = upload
        self.token: Optional[int] = None
        self.over = False
        self._redirects = 0
        self._next: Optional[Request] = None  # where the redirect being received leads
        self.sink = make_sink(self)

    def event(self, event: Event, now: float) -> None:
        if self.over:
            return
        if isinstance(event, Failure):
            if event.kind is not ErrorKind.CANCELLED:
                self.abort(event.kind, cancel=False)
        elif self._next is not None:
            if isinstance(event, ResponseEnd):
                self._follow()
        elif isinstance(event, ResponseHead):
            self._head(event, now)
        elif isinstance(event, BodyChunk):
            self.sink.chunk(event.data, now)
        elif isinstance(event, Progress):
            self.sink.progress(event, now)
        elif isinstance(event, ResponseEnd):
            self.sink.end(now)

    def body(self, data: bytes, now: float) -> None:
        """Body bytes, as a BodyChunk of them (a bridge's body pump)."""
        if not self.over and self._next is None:
            self.sink.chunk(data, now)

    @property
    def takes_body(self) -> bool:
        """Whether body bytes go to the sink now (not over, no redirect being skipped)."""
        return not self.over and self._next is None

    def _head(self, head: ResponseHead, now: float) -> None:
        target = redirected(self.request, head) if self._redirects < MAX_REDIRECTS else None
        if target is None:
            self.sink.head(head, now)
        else:
            self._next = target  # its body is skipped; the next request starts at its end

    def _follow(self) -> None:
        assert self._next is not None
        self._redirects += 1
        self.request, self._next = self._next, None
        self.io.launch(self)

    # -- ending ------------------------------------------------------------------------

    def abort(self, kind: ErrorKind, cancel: bool = True) -> None:
        """End with +MHTTPURC: "err" for `kind`."""
        if self.over:
            return
        self.io.line(urc("err", self.httpid, self.io.async_code(kind)))
        if cancel:
            self.io.halt(self)
        self._close(False)

    def terminate(self) -> None:
        """End silently (AT+MHTTPTERM, AT+MHTTPDEL)."""
        if not self.over:
            self.io.halt(self)
            self._close(False)

    def finish(self) -> None:
        """The sink has reported everything."""
        self._close(True)

    def _close(self, ok: bool) -> None:
        if self.over:
            return
        self.over = True
        self.sink.close()
        if self.upload is not None:
            self.upload.close()
        self.io.finished(self, ok)
