"""The network executor: the emulators' real HTTP/1.1 client over TCP and TLS.

h11 does all HTTP framing (no hand-written parsing or writing); this package only moves
bytes between h11 and a socket.  It is the one place in the emulators that touches
sockets and clocks.  Every request runs on the calling thread, blocked in socket
calls with timeouts; :meth:`NetworkExecutor.cancel` may be called from any thread.

Events follow :class:`bridge.model.Executor`: ResponseHead, then BodyChunk (or
Progress when saving to a module file), then ResponseEnd and possibly
ConnectionClosed -- or exactly one Failure, after which the iterator ends.
An exception raised by an iterable request body propagates to the caller.

This module runs one request from start to end; the steps are in request.py (what is sent),
tls.py, connection.py (connect, keep-alive pool), send.py and receive.py.
"""
from __future__ import annotations

import ipaddress
import threading
import weakref
from typing import Iterator, Optional

import h11

from bridge.device.fs import ModuleFileSystem
from bridge.device.hosts import HostsResolver
from bridge.model import (Connected, ConnectionClosed, ErrorKind, Event, ExecutorCapabilities, Failure, Request,
                          RequestSent, ResponseEnd)
from bridge.net import receive
from bridge.net.connection import Conn, Pool, connect
from bridge.net.failure import STALE_KINDS, Exchange, Fail, Stale, remaining
from bridge.net.request import Body, Job, parse_url, request_head
from bridge.net.send import send
from bridge.net.tls import CaSource, tls_context, tls_key

READ_SIZE = 64 * 1024


class NetworkExecutor:
    """Runs requests over real sockets: names via a HostsResolver, files via a ModuleFileSystem.

    `default_ca` (PEM/DER bytes, or a host path to a PEM file) is used for
    verify=server/mutual when the request names no CA.  At most `pool_size` idle
    keep-alive connections are kept.  Use one executor per thread of requests;
    :meth:`cancel` may be called from any thread.
    """

    capabilities = ExecutorCapabilities()  # whatever a module does: the module sides' default

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
        self._pool = Pool(pool_size)
        self._lock = threading.Lock()
        self._active: "weakref.WeakSet[Exchange]" = weakref.WeakSet()

    # ---- public API -----------------------------------------------------------

    def execute(self, request: Request) -> Iterator[Event]:
        """Start `request`; iterate the result to run it.  See the module docstring for events."""
        return self._execute_with(request, Exchange())

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

    def _execute_with(self, request: Request, exchange: Exchange) -> Iterator[Event]:
        with self._lock:
            self._active.add(exchange)
        return self._run(request, exchange)

    # ---- one request ------------------------------------------------------------

    def _run(self, request: Request, ex: Exchange) -> Iterator[Event]:
        try:
            yield from self._exchange(request, ex)
        except Fail as failure:
            if ex.cancelled:
                yield Failure(ErrorKind.CANCELLED, "request cancelled")
            else:
                yield Failure(failure.kind, failure.detail)
        finally:
            ex.release()
            with self._lock:
                self._active.discard(ex)

    def _exchange(self, request: Request, ex: Exchange) -> Iterator[Event]:
        ex.check()
        job = self._prepare(request, ex)
        conn = self._pool.take(job.key)
        if conn is not None and not request.connect_only:
            try:
                yield from self._over(conn, job, reused=True)
                return
            except Stale as stale:
                if ex.cancelled or not job.body.replayable:
                    raise stale.failure from None
                remaining(job.deadline, ErrorKind.RESPONSE_TIMEOUT, "waiting for the response")  # none left: no retry
        if request.connect_only:
            yield from self._connect_only(conn, job)
            return
        conn = self._connect(job)
        yield from self._over(conn, job, reused=False)

    def _connect_only(self, pooled: Optional[Conn], job: Job) -> Iterator[Event]:
        """Open (or keep) a connection to the origin and park it in the pool for the next request."""
        conn = pooled if pooled is not None and pooled.idle_and_alive() else self._connect(job)
        if conn is not pooled and pooled is not None:
            pooled.close()
        job.ex.detach()  # the pool owns the socket now, not this exchange
        self._pool.put(conn)
        yield Connected()

    def _prepare(self, request: Request, ex: Exchange) -> Job:
        """Everything that needs no network: URL, request head, file path, TLS context."""
        url = parse_url(request.url)
        head = request_head(request, url)
        if request.save_to is not None:
            receive.check_file_path(self.fs, request.save_to)
        context = tls_context(request.tls, self.fs, self.default_ca) if url.scheme == "https" else None
        key = (url.scheme, url.host, url.port, tls_key(request.tls) if context else None)
        return Job(request, url, head, Body(request.body), context, key, ex)

    def _connect(self, job: Job) -> Conn:
        return connect(job, self.resolver, self.allow_net, self._read_size)

    def _over(self, conn: Conn, job: Job, reused: bool) -> Iterator[Event]:
        """Send the request on `conn` and deliver the response."""
        job.ex.attach(conn.sock)
        try:
            send(conn, job)
            if job.request.report_sent:
                yield RequestSent()
            response = receive.read_head(conn, job)
        except Fail as failure:
            stale = reused and not conn.received_any and failure.kind in STALE_KINDS and not failure.waited
            if stale and not job.ex.cancelled:
                raise Stale(failure) from None
            raise
        yield from self._deliver(conn, job, response)

    def _deliver(self, conn: Conn, job: Job, response: h11.Response) -> Iterator[Event]:
        head = receive.response_head(response)
        yield head
        job.ex.check()
        length = yield from receive.body(conn, job, head, self.fs)
        yield from self._finish(conn, job, length)

    def _finish(self, conn: Conn, job: Job, length: int) -> Iterator[Event]:
        """ResponseEnd; the connection goes back to the pool if both sides may go on."""
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


class SingleRequest:
    """One request's view of a NetworkExecutor (see :meth:`NetworkExecutor.single`)."""

    def __init__(self, executor: NetworkExecutor) -> None:
        self._executor = executor
        self._exchange = Exchange()

    def execute(self, request: Request) -> Iterator[Event]:
        return self._executor._execute_with(request, self._exchange)

    def cancel(self) -> None:
        self._exchange.cancel()
