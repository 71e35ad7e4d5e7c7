"""Reading the response on a connection through h11: the head (interim 1xx stepped over), then
the body as it arrives, as BodyChunk events or into a module file with Progress events."""
from __future__ import annotations

from typing import BinaryIO, Callable, Iterator, Optional

import h11

from bridge.device.fs import ModuleFileSystem, PathEscapeError
from bridge.http import content_length, entity_length, has_body
from bridge.model import BodyChunk, ErrorKind, Event, Progress, ResponseHead
from bridge.net.connection import Conn
from bridge.net.failure import Exchange, Fail, deadline, io_kind, remaining
from bridge.net.request import Job



def read_head(conn: Conn, job: Job) -> h11.Response:
    if job.early is not None:
        return job.early
    if job.deadline is None:  # once per request: a retry on a fresh connection gets what is left
        job.deadline = deadline(job.request.timeouts.response)

    def timeout() -> Optional[float]:
        return remaining(job.deadline, ErrorKind.RESPONSE_TIMEOUT, "waiting for the response head")

    while True:
        event = _next_event(conn, job.ex, timeout, "before sending a response")
        if isinstance(event, h11.Response):
            return event
        if isinstance(event, h11.ConnectionClosed):
            raise Fail(ErrorKind.CONNECTION_CLOSED, "connection closed before the response")
        if not isinstance(event, h11.InformationalResponse):
            raise Fail(ErrorKind.RESPONSE_INVALID, f"unexpected {type(event).__name__} before the response")


def response_head(event: h11.Response) -> ResponseHead:
    """ResponseHead with `raw` rebuilt from the header names exactly as received."""
    reason = event.reason.decode("latin-1")
    headers = tuple(
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers.raw_items()
    )
    lines = [f"HTTP/{event.http_version.decode('ascii')} {event.status_code} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers]
    raw = "".join(line + "\r\n" for line in lines).encode("latin-1")
    return ResponseHead(event.status_code, reason, raw, headers)


def body(conn: Conn, job: Job, head: ResponseHead, fs: ModuleFileSystem) -> Iterator[Event]:
    """The body's events; returns its length."""
    total = content_length(head.headers)
    if job.request.save_to is not None and has_body(job.method, head.status):
        return (yield from _body_to_file(conn, job, fs, total, entity_length(head.headers)))
    return (yield from _body_to_events(conn, job, total))


def check_file_path(fs: ModuleFileSystem, path: str) -> None:
    try:
        fs.resolve(path)
    except PathEscapeError as exc:
        raise Fail(ErrorKind.FILE_OPEN_FAILED, str(exc)) from None


def _next_event(conn: Conn, ex: Exchange, timeout: Callable[[], Optional[float]], phase: str) -> object:
    """The next h11 event, receiving as needed; `phase` words a premature close."""
    while True:
        try:
            event = conn.h11.next_event()
        except h11.RemoteProtocolError as exc:
            if conn.eof:
                raise Fail(ErrorKind.CONNECTION_CLOSED, f"the server closed the connection {phase}") from None
            raise Fail(ErrorKind.RESPONSE_INVALID, f"malformed response: {exc}") from None
        if event is not h11.NEED_DATA:
            return event
        conn.h11.receive_data(_recv(conn, ex, timeout()))


def _recv(conn: Conn, ex: Exchange, timeout: Optional[float]) -> bytes:
    ex.check()
    try:
        conn.sock.settimeout(timeout)
        data = conn.sock.recv(conn.read_size)
    except TimeoutError:
        raise Fail(ErrorKind.RESPONSE_TIMEOUT, f"no data from the server for {timeout:.3g} s", waited=True) from None
    except OSError as exc:
        raise Fail(io_kind(exc, ErrorKind.CONNECTION_CLOSED), f"receive failed: {exc}") from None
    if data:
        conn.received_any = True
    else:
        conn.eof = True
    return data


def _body_pieces(conn: Conn, job: Job) -> Iterator[bytes]:
    """The response body as it arrives, one received piece at a time."""
    silence = job.request.timeouts.response
    while True:
        event = _next_event(conn, job.ex, lambda: silence, "mid-body")
        if isinstance(event, h11.EndOfMessage):
            return
        if not isinstance(event, h11.Data):
            raise Fail(ErrorKind.RESPONSE_INVALID, f"unexpected {type(event).__name__} in the body")
        yield bytes(event.data)


def _body_to_events(conn: Conn, job: Job, total: Optional[int]) -> Iterator[Event]:
    offset = 0
    for data in _body_pieces(conn, job):
        yield BodyChunk(data, offset, total)
        offset += len(data)
        job.ex.check()
    return offset


def _body_to_file(
    conn: Conn, job: Job, fs: ModuleFileSystem, total: Optional[int], entity_total: Optional[int]
) -> Iterator[Event]:
    sink = _open_file(fs, job)
    done = 0
    try:
        for data in _body_pieces(conn, job):
            _write(sink, data)
            done += len(data)
            yield Progress(done, total, entity_total)
            job.ex.check()
        _flush(sink)
    finally:
        _close_quietly(sink)
    return done


def _open_file(fs: ModuleFileSystem, job: Job) -> BinaryIO:
    assert job.request.save_to is not None
    try:
        return fs.open_write(job.request.save_to, append=job.request.append)
    except (OSError, PathEscapeError) as exc:
        raise Fail(ErrorKind.FILE_OPEN_FAILED, f"cannot open {job.request.save_to!r}: {exc}") from None


def _write(sink: BinaryIO, data: bytes) -> None:
    try:
        sink.write(data)
    except OSError as exc:
        raise Fail(ErrorKind.FILE_WRITE_FAILED, f"write failed: {exc}") from None


def _flush(sink: BinaryIO) -> None:
    try:
        sink.flush()
        sink.close()
    except OSError as exc:
        raise Fail(ErrorKind.FILE_WRITE_FAILED, f"write failed: {exc}") from None


def _close_quietly(sink: BinaryIO) -> None:
    try:
        sink.close()
    except OSError:
        pass
