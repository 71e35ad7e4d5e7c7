"""The network executor: the emulators' real HTTP/1.1 client over TCP and TLS.

h11 does all HTTP framing (no hand-written parsing or writing); this module only moves
bytes between h11 and a socket.  It is the one place in the emulators that touches
sockets and clocks.  Every request runs on the calling thread, blocked in socket
calls with timeouts; :meth:`NetworkExecutor.cancel` may be called from any thread.

Events follow :class:`bridge.model.Executor`: ResponseHead, then BodyChunk (or
Progress when saving to a module file), then ResponseEnd and possibly
ConnectionClosed -- or exactly one Failure, after which the iterator ends.
An exception raised by an iterable request body propagates to the caller.
"""
from __future__ import annotations

import base64
import dataclasses
import ipaddress
import os
import re
import select
import socket
import ssl
import threading
import time
import weakref
from typing import BinaryIO, Callable, Iterator, Optional, Union
from urllib.parse import quote, unquote, urlsplit

import h11

from bridge.model import (
    BodyChunk,
    Connected,
    ConnectionClosed,
    ErrorKind,
    Event,
    Failure,
    Method,
    Progress,
    Request,
    RequestSent,
    ResponseEnd,
    ResponseHead,
    TlsSettings,
    VerifyMode,
)
from bridge.device.fs import ModuleFileSystem, PathEscapeError
from bridge.device.hosts import HostNotFound, HostsResolver

READ_SIZE = 64 * 1024
_SEND_SLICE = 256 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_URL_SAFE = "/?&=:@!$'()*+,;%~[]"
_TLS_VERSIONS = {
    "tlsv1": ssl.TLSVersion.TLSv1,
    "tlsv1.0": ssl.TLSVersion.TLSv1,
    "tlsv1.1": ssl.TLSVersion.TLSv1_1,
    "tlsv1.2": ssl.TLSVersion.TLSv1_2,
    "tlsv1.3": ssl.TLSVersion.TLSv1_3,
}
_CONTENT_RANGE = re.compile(r"bytes\s+(?:\d+-\d+|\*)/(\d+)", re.IGNORECASE)
_STALE_KINDS = (ErrorKind.SEND_FAILED, ErrorKind.CONNECTION_CLOSED)

CaSource = Union[bytes, str, "os.PathLike[str]"]


class _Fail(Exception):
    """Internal: ends the exchange with one Failure event."""

    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class _Stale(Exception):
    """Internal: a reused pooled connection died before any response byte."""

    def __init__(self, failure: _Fail) -> None:
        super().__init__(failure.detail)
        self.failure = failure


# ---- small helpers -----------------------------------------------------------------


def _deadline(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else time.monotonic() + seconds


def _remaining(deadline: Optional[float], kind: ErrorKind, what: str) -> Optional[float]:
    """Seconds left until `deadline` (None = no limit); raises `kind` once it has passed."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Fail(kind, f"{what} timed out")
    return left


def _io_kind(exc: OSError, default: ErrorKind) -> ErrorKind:
    """TLS_FAILED for a TLS protocol error, else `default` (EOF-like TLS errors included)."""
    benign = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)
    if isinstance(exc, ssl.SSLError) and not isinstance(exc, benign):
        return ErrorKind.TLS_FAILED
    return default


def _shutdown(sock: socket.socket) -> None:
    """Wake any thread blocked on `sock` (works for SSL sockets: acts on the fd)."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


@dataclasses.dataclass(frozen=True)
class _Url:
    scheme: str
    host: str
    port: int
    target: str
    credentials: Optional[tuple[str, str]]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def _parse_url(url: str) -> _Url:
    """Split an http(s) URL; raises URL_INVALID."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except (ValueError, AttributeError) as exc:
        raise _Fail(ErrorKind.URL_INVALID, f"cannot parse URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme not in _DEFAULT_PORTS:
        raise _Fail(ErrorKind.URL_INVALID, f"URL {url!r}: scheme must be http or https")
    if not host or any(c.isspace() or ord(c) < 32 for c in host) or port == 0:
        raise _Fail(ErrorKind.URL_INVALID, f"URL {url!r}: missing or invalid host or port")
    target = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_URL_SAFE)
    credentials = None
    if parts.username is not None:
        credentials = (unquote(parts.username), unquote(parts.password or ""))
    return _Url(scheme, host, port or _DEFAULT_PORTS[scheme], target, credentials)


def _header_map(headers: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def _response_head(event: h11.Response) -> ResponseHead:
    """ResponseHead with `raw` rebuilt from the header names exactly as received."""
    reason = event.reason.decode("latin-1")
    headers = tuple(
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers.raw_items()
    )
    lines = [f"HTTP/{event.http_version.decode('ascii')} {event.status_code} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers]
    raw = "".join(line + "\r\n" for line in lines).encode("latin-1")
    return ResponseHead(event.status_code, reason, raw, headers)


def _content_length(headers: dict[str, str]) -> Optional[int]:
    """The body length announced by Content-Length, unless chunked framing overrides it."""
    if "transfer-encoding" in headers or "content-length" not in headers:
        return None
    try:
        return int(headers["content-length"])
    except ValueError:
        return None


def _has_body(method: str, status: int) -> bool:
    return method != "HEAD" and status >= 200 and status not in (204, 304)


# ---- per-request state ---------------------------------------------------------------


class _Body:
    """A request body that can be sent again after a stale-connection retry if nothing was consumed."""

    def __init__(self, body: object) -> None:
        self._bytes: Optional[bytes] = None
        self._iter: Optional[Iterator[bytes]] = None
        self.started = False
        if body is None:
            self._bytes = b""
        elif isinstance(body, (bytes, bytearray, memoryview)):
            self._bytes = bytes(body)
        else:
            self._iter = iter(body)  # type: ignore[call-overload]

    @property
    def replayable(self) -> bool:
        return self._iter is None or not self.started

    def chunks(self) -> Iterator[Union[bytes, memoryview]]:
        if self._bytes is not None:
            view = memoryview(self._bytes)
            for start in range(0, len(view), _SEND_SLICE):
                yield view[start : start + _SEND_SLICE]
            return
        assert self._iter is not None
        for chunk in self._iter:
            self.started = True
            yield chunk


class _Exchange:
    """One execute() call: its cancel flag and the socket a cancel must wake."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: Optional[socket.socket] = None
        self.cancelled = False

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._sock is not None:
                _shutdown(self._sock)

    def check(self) -> None:
        if self.cancelled:
            raise _Fail(ErrorKind.CANCELLED, "request cancelled")

    def attach(self, sock: socket.socket) -> None:
        """Make `sock` the one to wake on cancel (closing a previous, different one)."""
        with self._lock:
            old, self._sock = self._sock, sock
            if old is not None and old is not sock:
                old.close()
        self.check()

    def detach(self) -> None:
        with self._lock:
            self._sock = None

    def release(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
            if sock is not None:
                sock.close()


class _Conn:
    """A connected (possibly TLS) socket and its h11 client state."""

    def __init__(self, sock: socket.socket, key: tuple) -> None:
        self.sock = sock
        self.key = key
        self.h11 = h11.Connection(h11.CLIENT)
        self.eof = False
        self.received_any = False

    def idle_and_alive(self) -> bool:
        """True if nothing (not even EOF) is waiting to be read -- a check, not a wait."""
        if self.sock.fileno() < 0:
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def reset_for_reuse(self) -> None:
        self.h11.start_next_cycle()
        self.received_any = False

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class _Pool:
    """Idle keep-alive connections, keyed by (scheme, host, port, TLS settings)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._idle: list[_Conn] = []
        self._lock = threading.Lock()

    def take(self, key: tuple) -> Optional[_Conn]:
        while True:
            with self._lock:
                found = next((c for c in reversed(self._idle) if c.key == key), None)
                if found is None:
                    return None
                self._idle.remove(found)
            if found.idle_and_alive():
                return found
            found.close()

    def put(self, conn: _Conn) -> None:
        with self._lock:
            self._idle.append(conn)
            evicted = self._idle[: -self._limit] if self._limit else list(self._idle)
            del self._idle[: len(evicted)]
        for old in evicted:
            old.close()

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


@dataclasses.dataclass
class _Job:
    request: Request
    url: _Url
    head: h11.Request
    body: _Body
    context: Optional[ssl.SSLContext]
    key: tuple
    ex: _Exchange
    early: Optional[h11.Response] = None  # a final response head that came while the body was being sent

    @property
    def method(self) -> str:
        return Method(self.request.method).value


# ---- the executor ----------------------------------------------------------------------


class NetworkExecutor:
    """Runs requests over real sockets: names via a HostsResolver, files via a ModuleFileSystem.

    `default_ca` (PEM/DER bytes, or a host path to a PEM file) is used for
    verify=server/mutual when the request names no CA.  At most `pool_size` idle
    keep-alive connections are kept.  Use one executor per thread of requests;
    :meth:`cancel` may be called from any thread.
    """

    def __init__(
        self,
        resolver: HostsResolver,
        fs: ModuleFileSystem,
        *,
        default_ca: Optional[CaSource] = None,
        pool_size: int = 4,
        read_size: int = READ_SIZE,
        allow_net: Optional[list[str]] = None,
    ) -> None:
        self.resolver = resolver
        # `atbridge emulate --allow-net`: the only networks requests may connect to (None: any).
        self.allow_net = [ipaddress.ip_network(net, strict=False) for net in allow_net] if allow_net else None
        self.fs = fs
        self.default_ca = default_ca
        self._read_size = read_size
        self._pool = _Pool(pool_size)
        self._lock = threading.Lock()
        self._active: "weakref.WeakSet[_Exchange]" = weakref.WeakSet()

    # ---- public API -----------------------------------------------------------

    def execute(self, request: Request) -> Iterator[Event]:
        """Start `request`; iterate the result to run it.  See the module docstring for events."""
        return self._execute_with(request, _Exchange())

    def single(self) -> "SingleRequest":
        """A view for one request at a time whose cancel() aborts only its own request; it
        shares this executor's keep-alive pool."""
        return SingleRequest(self)

    def cancel(self) -> None:
        """Abort every request in flight; each iterator then ends with Failure(CANCELLED)."""
        with self._lock:
            active = list(self._active)
        for exchange in active:
            exchange.cancel()

    def close(self) -> None:
        """Close the idle keep-alive connections."""
        self._pool.close_all()

    def __enter__(self) -> "NetworkExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _execute_with(self, request: Request, exchange: "_Exchange") -> Iterator[Event]:
        with self._lock:
            self._active.add(exchange)
        return self._run(request, exchange)

    # ---- one request ------------------------------------------------------------

    def _run(self, request: Request, ex: _Exchange) -> Iterator[Event]:
        try:
            yield from self._exchange(request, ex)
        except _Fail as failure:
            if ex.cancelled:
                yield Failure(ErrorKind.CANCELLED, "request cancelled")
            else:
                yield Failure(failure.kind, failure.detail)
        finally:
            ex.release()
            with self._lock:
                self._active.discard(ex)

    def _exchange(self, request: Request, ex: _Exchange) -> Iterator[Event]:
        ex.check()
        job = self._prepare(request, ex)
        conn = self._pool.take(job.key)
        if conn is not None and not request.connect_only:
            try:
                yield from self._over(conn, job, reused=True)
                return
            except _Stale as stale:
                if ex.cancelled or not job.body.replayable:
                    raise stale.failure from None
        if request.connect_only:
            yield from self._connect_only(conn, job)
            return
        conn = self._connect(job)
        yield from self._over(conn, job, reused=False)

    def _connect_only(self, pooled: Optional[_Conn], job: _Job) -> Iterator[Event]:
        """Open (or keep) a connection to the origin and park it in the pool for the next request."""
        conn = pooled if pooled is not None and pooled.idle_and_alive() else self._connect(job)
        if conn is not pooled and pooled is not None:
            pooled.close()
        job.ex.detach()  # the pool owns the socket now, not this exchange
        self._pool.put(conn)
        yield Connected()

    def _prepare(self, request: Request, ex: _Exchange) -> _Job:
        """Everything that needs no network: URL, request head, file path, TLS context."""
        url = _parse_url(request.url)
        head = _request_head(request, url)
        if request.save_to is not None:
            self._check_file_path(request.save_to)
        context = self._tls_context(request.tls) if url.scheme == "https" else None
        key = (url.scheme, url.host, url.port, _tls_key(request.tls) if context else None)
        return _Job(request, url, head, _Body(request.body), context, key, ex)

    def _over(self, conn: _Conn, job: _Job, reused: bool) -> Iterator[Event]:
        """Send the request on `conn` and deliver the response."""
        job.ex.attach(conn.sock)
        try:
            self._send(conn, job)
            if job.request.report_sent:
                yield RequestSent()
            response = self._read_head(conn, job)
        except _Fail as failure:
            stale = reused and not conn.received_any and failure.kind in _STALE_KINDS
            if stale and not job.ex.cancelled:
                raise _Stale(failure) from None
            raise
        yield from self._deliver(conn, job, response)

    # ---- connecting ---------------------------------------------------------------

    def _connect(self, job: _Job) -> _Conn:
        deadline = _deadline(job.request.timeouts.connect)
        try:
            addresses = self.resolver.resolve(job.url.host)
        except HostNotFound as exc:
            raise _Fail(ErrorKind.DNS_FAILED, str(exc)) from None
        addresses = self._allowed(addresses, job)
        sock = self._tcp_connect(addresses, job, deadline)
        if job.context is not None:
            sock = self._handshake(sock, job, deadline)
        return _Conn(sock, job.key)

    def _allowed(self, addresses: list[str], job: _Job) -> list[str]:
        if self.allow_net is None:
            return addresses
        kept = [a for a in addresses if any(ipaddress.ip_address(a) in net for net in self.allow_net)]
        if not kept:
            raise _Fail(ErrorKind.CONNECT_FAILED, f"{job.url.host} ({', '.join(addresses)}) is outside --allow-net")
        return kept

    def _tcp_connect(self, addresses: list[str], job: _Job, deadline: Optional[float]) -> socket.socket:
        last: Optional[OSError] = None
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            job.ex.attach(sock)
            try:
                sock.settimeout(_remaining(deadline, ErrorKind.CONNECT_TIMEOUT, "connect"))
                sock.connect((address, job.url.port))
            except TimeoutError:
                raise _Fail(ErrorKind.CONNECT_TIMEOUT, f"connect to {address} port {job.url.port} timed out") from None
            except OSError as exc:
                job.ex.check()
                last = exc
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        raise _Fail(ErrorKind.CONNECT_FAILED, f"connect to {job.url.host} port {job.url.port} failed: {last}")

    def _handshake(self, sock: socket.socket, job: _Job, deadline: Optional[float]) -> ssl.SSLSocket:
        assert job.context is not None
        sni = job.request.tls.sni if job.request.tls else None
        server_name = job.url.host if sni is None else (sni or None)  # "": no SNI extension is sent
        try:
            tls = job.context.wrap_socket(sock, server_hostname=server_name, do_handshake_on_connect=False)
        except (ssl.SSLError, ValueError, OSError) as exc:
            raise _Fail(ErrorKind.TLS_FAILED, f"TLS setup failed: {exc}") from None
        job.ex.attach(tls)
        try:
            tls.settimeout(_remaining(deadline, ErrorKind.CONNECT_TIMEOUT, "TLS handshake"))
            tls.do_handshake()
        except TimeoutError:
            raise _Fail(ErrorKind.CONNECT_TIMEOUT, "TLS handshake timed out") from None
        except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
            raise _Fail(ErrorKind.TLS_FAILED, f"TLS handshake failed: {exc}") from None
        return tls

    # ---- TLS configuration -----------------------------------------------------------

    def _tls_context(self, tls: Optional[TlsSettings]) -> ssl.SSLContext:
        tls = tls or TlsSettings()
        try:
            verify = VerifyMode(tls.verify)
        except ValueError:
            raise _Fail(ErrorKind.INVALID_PARAMETER, f"unknown TLS verify mode {tls.verify!r}") from None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        _set_version(context, tls.version, tls.version_is_minimum)
        if tls.sni == "":  # no server name given to the TLS library: the chain is verified, not the name
            context.check_hostname = False
        try:
            if verify is VerifyMode.NONE:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            else:
                self._load_ca(context, tls.ca)
            if verify is VerifyMode.MUTUAL and not tls.client_cert:
                raise _Fail(ErrorKind.TLS_FAILED, "verify=mutual needs a client certificate")
            if tls.client_cert:
                key = str(self.fs.resolve(tls.client_key)) if tls.client_key else None
                context.load_cert_chain(str(self.fs.resolve(tls.client_cert)), key)
        except (OSError, ValueError) as exc:  # includes ssl.SSLError and PathEscapeError
            raise _Fail(ErrorKind.TLS_FAILED, f"cannot load TLS certificates: {exc}") from None
        return context

    def _load_ca(self, context: ssl.SSLContext, ca: Optional[str]) -> None:
        if ca:
            _load_ca_data(context, self.fs.read_bytes(ca))
        elif isinstance(self.default_ca, (bytes, bytearray)):
            _load_ca_data(context, bytes(self.default_ca))
        elif self.default_ca is not None:
            context.load_verify_locations(cafile=os.fspath(self.default_ca))
        else:
            raise _Fail(ErrorKind.TLS_FAILED, "verify needs a CA: the request names none and there is no default CA")

    # ---- sending ----------------------------------------------------------------------

    def _send(self, conn: _Conn, job: _Job) -> None:
        """Send the head and the body.  A server may answer before the body is all sent (413, or a
        200 that needs no more): from the first such final response head on nothing more is sent,
        and that response is the request's -- a send that fails after it is no failure."""
        try:
            self._sendall(conn, job, conn.h11.send(job.head))
            for chunk in job.body.chunks():
                job.ex.check()
                if self._answered_early(conn, job):
                    return
                if len(chunk):
                    for piece in conn.h11.send_with_data_passthrough(h11.Data(data=chunk)):
                        self._send_or_answered(conn, job, piece)
                        if job.early is not None:
                            return
            self._send_or_answered(conn, job, conn.h11.send(h11.EndOfMessage()))
        except h11.LocalProtocolError as exc:
            raise _Fail(ErrorKind.SEND_FAILED, f"request body does not match its headers: {exc}") from None

    def _send_or_answered(self, conn: _Conn, job: _Job, data: Union[bytes, memoryview, None]) -> None:
        try:
            self._sendall(conn, job, data)
        except _Fail:
            if not self._answered_early(conn, job):
                raise

    def _answered_early(self, conn: _Conn, job: _Job) -> bool:
        """Whether a final response head has arrived already (looked at without waiting; an
        interim 1xx is stepped over).  It is kept in `job.early` for :meth:`_read_head`."""
        while job.early is None and not conn.eof and self._readable(conn):
            try:
                conn.sock.settimeout(0)
                data = conn.sock.recv(self._read_size)
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

    @staticmethod
    def _readable(conn: _Conn) -> bool:
        pending = getattr(conn.sock, "pending", None)
        if pending is not None and pending():
            return True
        try:
            readable, _, _ = select.select([conn.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return bool(readable)

    def _sendall(self, conn: _Conn, job: _Job, data: Union[bytes, memoryview, None]) -> None:
        job.ex.check()
        if not data:
            return
        try:
            conn.sock.settimeout(job.request.timeouts.response)
            conn.sock.sendall(data)
        except TimeoutError:
            raise _Fail(ErrorKind.SEND_FAILED, "send timed out: the server is not reading") from None
        except OSError as exc:
            raise _Fail(_io_kind(exc, ErrorKind.SEND_FAILED), f"send failed: {exc}") from None

    # ---- receiving ----------------------------------------------------------------------

    def _read_head(self, conn: _Conn, job: _Job) -> h11.Response:
        if job.early is not None:
            return job.early
        deadline = _deadline(job.request.timeouts.response)

        def timeout() -> Optional[float]:
            return _remaining(deadline, ErrorKind.RESPONSE_TIMEOUT, "waiting for the response head")

        while True:
            event = self._next_event(conn, job.ex, timeout, "before sending a response")
            if isinstance(event, h11.Response):
                return event
            if isinstance(event, h11.ConnectionClosed):
                raise _Fail(ErrorKind.CONNECTION_CLOSED, "connection closed before the response")
            if not isinstance(event, h11.InformationalResponse):
                raise _Fail(ErrorKind.RESPONSE_INVALID, f"unexpected {type(event).__name__} before the response")

    def _next_event(
        self, conn: _Conn, ex: _Exchange, timeout: Callable[[], Optional[float]], phase: str
    ) -> object:
        """The next h11 event, receiving as needed; `phase` words a premature close."""
        while True:
            try:
                event = conn.h11.next_event()
            except h11.RemoteProtocolError as exc:
                if conn.eof:
                    raise _Fail(ErrorKind.CONNECTION_CLOSED, f"the server closed the connection {phase}") from None
                raise _Fail(ErrorKind.RESPONSE_INVALID, f"malformed response: {exc}") from None
            if event is not h11.NEED_DATA:
                return event
            conn.h11.receive_data(self._recv(conn, ex, timeout()))

    def _recv(self, conn: _Conn, ex: _Exchange, timeout: Optional[float]) -> bytes:
        ex.check()
        try:
            conn.sock.settimeout(timeout)
            data = conn.sock.recv(self._read_size)
        except TimeoutError:
            raise _Fail(ErrorKind.RESPONSE_TIMEOUT, f"no data from the server for {timeout:.3g} s") from None
        except OSError as exc:
            raise _Fail(_io_kind(exc, ErrorKind.CONNECTION_CLOSED), f"receive failed: {exc}") from None
        if data:
            conn.received_any = True
        else:
            conn.eof = True
        return data

    def _deliver(self, conn: _Conn, job: _Job, response: h11.Response) -> Iterator[Event]:
        head = _response_head(response)
        yield head
        job.ex.check()
        headers = _header_map(head.headers)
        total = _content_length(headers)
        if job.request.save_to is not None and _has_body(job.method, head.status):
            entity = _CONTENT_RANGE.match(headers.get("content-range", ""))
            entity_total = int(entity.group(1)) if entity else None
            length = yield from self._body_to_file(conn, job, total, entity_total)
        else:
            length = yield from self._body_to_events(conn, job, total)
        yield from self._finish(conn, job, length)

    def _body_events(self, conn: _Conn, job: _Job) -> Iterator[bytes]:
        """The response body as it arrives, one received piece at a time."""
        silence = job.request.timeouts.response
        while True:
            event = self._next_event(conn, job.ex, lambda: silence, "mid-body")
            if isinstance(event, h11.EndOfMessage):
                return
            if not isinstance(event, h11.Data):
                raise _Fail(ErrorKind.RESPONSE_INVALID, f"unexpected {type(event).__name__} in the body")
            yield bytes(event.data)

    def _body_to_events(self, conn: _Conn, job: _Job, total: Optional[int]) -> Iterator[Event]:
        offset = 0
        for data in self._body_events(conn, job):
            yield BodyChunk(data, offset, total)
            offset += len(data)
            job.ex.check()
        return offset

    def _body_to_file(
        self, conn: _Conn, job: _Job, total: Optional[int], entity_total: Optional[int]
    ) -> Iterator[Event]:
        sink = self._open_file(job)
        done = 0
        try:
            for data in self._body_events(conn, job):
                _write(sink, data)
                done += len(data)
                yield Progress(done, total, entity_total)
                job.ex.check()
            _flush(sink)
        finally:
            _close_quietly(sink)
        return done

    def _finish(self, conn: _Conn, job: _Job, length: int) -> Iterator[Event]:
        job.ex.check()
        h = conn.h11
        if job.request.keep_alive and h.our_state is h11.DONE and h.their_state is h11.DONE:
            conn.reset_for_reuse()
            job.ex.detach()
            self._pool.put(conn)
            yield ResponseEnd(length)
            return
        job.ex.release()
        yield ResponseEnd(length)
        yield ConnectionClosed(by_peer=conn.eof or job.request.keep_alive)

    # ---- module files -------------------------------------------------------------------

    def _check_file_path(self, path: str) -> None:
        try:
            self.fs.resolve(path)
        except PathEscapeError as exc:
            raise _Fail(ErrorKind.FILE_OPEN_FAILED, str(exc)) from None

    def _open_file(self, job: _Job) -> BinaryIO:
        assert job.request.save_to is not None
        try:
            return self.fs.open_write(job.request.save_to, append=job.request.append)
        except (OSError, PathEscapeError) as exc:
            raise _Fail(ErrorKind.FILE_OPEN_FAILED, f"cannot open {job.request.save_to!r}: {exc}") from None


# ---- module-level helpers used above ------------------------------------------------------


def _request_head(request: Request, url: _Url) -> h11.Request:
    """The h11 request head: the caller's headers plus the ones it left out."""
    given = {name.lower() for name, _ in request.headers}
    first: list[tuple[str, str]] = [] if "host" in given else [("Host", url.host_header)]
    extra: list[tuple[str, str]] = []
    if url.credentials and "authorization" not in given:
        token = base64.b64encode(":".join(url.credentials).encode("utf-8")).decode("ascii")
        extra.append(("Authorization", f"Basic {token}"))
    framing = _framing_header(request)
    if framing and not {"content-length", "transfer-encoding"} & given:
        extra.append(framing)
    if request.byte_range is not None and "range" not in given:
        extra.append(("Range", request.byte_range.header_value()))
    if not request.keep_alive and "connection" not in given:
        extra.append(("Connection", "close"))
    try:
        headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in first + list(request.headers) + extra]
        return h11.Request(method=Method(request.method).value, target=url.target, headers=headers)
    except (h11.LocalProtocolError, UnicodeEncodeError, ValueError) as exc:
        raise _Fail(ErrorKind.INVALID_PARAMETER, f"cannot build the request: {exc}") from None


def _framing_header(request: Request) -> Optional[tuple[str, str]]:
    body = request.body
    if body is None:
        return ("Content-Length", "0") if Method(request.method) in (Method.POST, Method.PUT) else None
    if isinstance(body, (bytes, bytearray, memoryview)):
        return ("Content-Length", str(memoryview(body).nbytes))
    return ("Transfer-Encoding", "chunked")


def _tls_key(tls: Optional[TlsSettings]) -> tuple:
    """The TLS settings as a hashable pool-key part ("server" and VerifyMode.SERVER alike)."""
    tls = tls or TlsSettings()
    return dataclasses.astuple(dataclasses.replace(tls, verify=VerifyMode(tls.verify).value))


def _set_version(context: ssl.SSLContext, version: Optional[str], minimum_only: bool = False) -> None:
    if version is None:
        return
    wanted = _TLS_VERSIONS.get(version.strip().lower().replace("tls1", "tlsv1"))
    if wanted is None:
        raise _Fail(ErrorKind.INVALID_PARAMETER, f"unknown TLS version {version!r}")
    try:
        if wanted < ssl.TLSVersion.TLSv1_2:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.minimum_version = wanted
        if not minimum_only:
            context.maximum_version = wanted
    except (ValueError, ssl.SSLError) as exc:
        raise _Fail(ErrorKind.TLS_FAILED, f"TLS version {version} is not available: {exc}") from None


def _load_ca_data(context: ssl.SSLContext, data: bytes) -> None:
    if b"-----BEGIN" in data:
        context.load_verify_locations(cadata=data.decode("ascii", "replace"))
    else:
        context.load_verify_locations(cadata=data)


def _write(sink: BinaryIO, data: bytes) -> None:
    try:
        sink.write(data)
    except OSError as exc:
        raise _Fail(ErrorKind.FILE_WRITE_FAILED, f"write failed: {exc}") from None


def _flush(sink: BinaryIO) -> None:
    try:
        sink.flush()
        sink.close()
    except OSError as exc:
        raise _Fail(ErrorKind.FILE_WRITE_FAILED, f"write failed: {exc}") from None


def _close_quietly(sink: BinaryIO) -> None:
    try:
        sink.close()
    except OSError:
        pass


class SingleRequest:
    """One request's view of a NetworkExecutor (see :meth:`NetworkExecutor.single`)."""

    def __init__(self, executor: NetworkExecutor) -> None:
        self._executor = executor
        self._exchange = _Exchange()

    def execute(self, request: Request) -> Iterator[Event]:
        return self._executor._execute_with(request, self._exchange)

    def cancel(self) -> None:
        self._exchange.cancel()
