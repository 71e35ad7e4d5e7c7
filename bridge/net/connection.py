"""Connections to the origin: resolved through the module's hosts map, limited to --allow-net,
TCP then the TLS handshake, each with its h11 client state; idle keep-alive ones wait in a pool."""
from __future__ import annotations

import ipaddress
import select
import socket
import ssl
import threading
from typing import Optional, Union

import h11

from bridge.device.hosts import HostNotFound, HostsResolver
from bridge.model import ErrorKind
from bridge.net.failure import Fail, deadline, remaining
from bridge.net.request import Job

Networks = Optional[list[Union[ipaddress.IPv4Network, ipaddress.IPv6Network]]]  # None: any


class Conn:
    """A connected (possibly TLS) socket and its h11 client state."""

    def __init__(self, sock: socket.socket, key: tuple, read_size: int) -> None:
        self.sock = sock
        self.key = key
        self.read_size = read_size  # the most one recv takes
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


class Pool:
    """Idle keep-alive connections, keyed by (scheme, host, port, TLS settings)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._idle: list[Conn] = []
        self._lock = threading.Lock()

    def take(self, key: tuple) -> Optional[Conn]:
        while True:
            with self._lock:
                found = next((c for c in reversed(self._idle) if c.key == key), None)
                if found is None:
                    return None
                self._idle.remove(found)
            if found.idle_and_alive():
                return found
            found.close()

    def put(self, conn: Conn) -> None:
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


def connect(job: Job, resolver: HostsResolver, allow_net: Networks, read_size: int) -> Conn:
    """A new connection for `job`, within its connect timeout."""
    until = deadline(job.request.timeouts.connect)
    if job.deadline is not None:  # a retry: within what is left of the request's response time
        until = job.deadline if until is None else min(until, job.deadline)
    try:
        addresses = resolver.resolve(job.url.host)
    except HostNotFound as exc:
        raise Fail(ErrorKind.DNS_FAILED, str(exc)) from None
    addresses = _allowed(addresses, job, allow_net)
    sock = _tcp_connect(addresses, job, until)
    if job.context is not None:
        sock = _handshake(sock, job, until)
    return Conn(sock, job.key, read_size)


def _allowed(addresses: list[str], job: Job, allow_net: Networks) -> list[str]:
    if allow_net is None:
        return addresses
    kept = [a for a in addresses if any(ipaddress.ip_address(a) in net for net in allow_net)]
    if not kept:
        raise Fail(ErrorKind.CONNECT_FAILED, f"{job.url.host} ({', '.join(addresses)}) is outside --allow-net")
    return kept


def _tcp_connect(addresses: list[str], job: Job, until: Optional[float]) -> socket.socket:
    last: Optional[OSError] = None
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        job.ex.attach(sock)
        try:
            sock.settimeout(remaining(until, ErrorKind.CONNECT_TIMEOUT, "connect"))
            sock.connect((address, job.url.port))
        except TimeoutError:
            raise Fail(ErrorKind.CONNECT_TIMEOUT, f"connect to {address} port {job.url.port} timed out") from None
        except OSError as exc:
            job.ex.check()
            last = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise Fail(ErrorKind.CONNECT_FAILED, f"connect to {job.url.host} port {job.url.port} failed: {last}")


def _handshake(sock: socket.socket, job: Job, until: Optional[float]) -> ssl.SSLSocket:
    assert job.context is not None
    sni = job.request.tls.sni if job.request.tls else None
    server_name = job.url.host if sni is None else (sni or None)  # "": no SNI extension is sent
    try:
        tls = job.context.wrap_socket(sock, server_hostname=server_name, do_handshake_on_connect=False)
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise Fail(ErrorKind.TLS_FAILED, f"TLS setup failed: {exc}") from None
    job.ex.attach(tls)
    try:
        tls.settimeout(remaining(until, ErrorKind.CONNECT_TIMEOUT, "TLS handshake"))
        tls.do_handshake()
    except TimeoutError:
        raise Fail(ErrorKind.CONNECT_TIMEOUT, "TLS handshake timed out") from None
    except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
        raise Fail(ErrorKind.TLS_FAILED, f"TLS handshake failed: {exc}") from None
    return tls
