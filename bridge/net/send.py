"""Sending a request on a connection: the head, then the body through h11.  A server may answer
before the body is all sent (413, or a 200 that needs no more): from the first such final
response head on nothing more is sent, and that response is the request's -- a send that fails
after it is no failure."""
from __future__ import annotations

import select
import ssl
from typing import Union

import h11

from bridge.model import ErrorKind
from bridge.net.connection import Conn
from bridge.net.failure import Fail, io_kind
from bridge.net.request import Job


def send(conn: Conn, job: Job) -> None:
    """Send the head and the body, or as much as the server takes before it answers."""
    try:
        _sendall(conn, job, conn.h11.send(job.head))
        for chunk in job.body.chunks():
            job.ex.check()
            if _answered_early(conn, job):
                return
            if len(chunk):
                for piece in conn.h11.send_with_data_passthrough(h11.Data(data=chunk)):
                    _send_or_answered(conn, job, piece)
                    if job.early is not None:
                        return
        _send_or_answered(conn, job, conn.h11.send(h11.EndOfMessage()))
    except h11.LocalProtocolError as exc:
        raise Fail(ErrorKind.SEND_FAILED, f"request body does not match its headers: {exc}") from None


def _send_or_answered(conn: Conn, job: Job, data: Union[bytes, memoryview, None]) -> None:
    try:
        _sendall(conn, job, data)
    except Fail:
        if not _answered_early(conn, job):
            raise


def _answered_early(conn: Conn, job: Job) -> bool:
    """Whether a final response head has arrived already (looked at without waiting; an
    interim 1xx is stepped over).  It is kept in `job.early` for reading the response."""
    while job.early is None and not conn.eof and _readable(conn):
        try:
            conn.sock.settimeout(0)
            data = conn.sock.recv(conn.read_size)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        except OSError:
            return False  # reset: whatever the server said is gone; the send failure stands
        conn.received_any = conn.received_any or bool(data)
        conn.eof = not data
        conn.h11.receive_data(data)
        while job.early is None:
            try:
                event = conn.h11.next_event()
            except h11.RemoteProtocolError:
                return False  # closed or malformed: no answer; the send (or reading the head) says what failed
            if isinstance(event, h11.Response):
                job.early = event
            elif not isinstance(event, h11.InformationalResponse):
                break  # NEED_DATA (a head still coming) or the connection closed without one
    return job.early is not None


def _readable(conn: Conn) -> bool:
    pending = getattr(conn.sock, "pending", None)
    if pending is not None and pending():
        return True
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return bool(readable)


def _sendall(conn: Conn, job: Job, data: Union[bytes, memoryview, None]) -> None:
    job.ex.check()
    if not data:
        return
    try:
        conn.sock.settimeout(job.request.timeouts.response)
        conn.sock.sendall(data)
    except TimeoutError:
        raise Fail(ErrorKind.SEND_FAILED, "send timed out: the server is not reading", waited=True) from None
    except OSError as exc:
        raise Fail(io_kind(exc, ErrorKind.SEND_FAILED), f"send failed: {exc}") from None
