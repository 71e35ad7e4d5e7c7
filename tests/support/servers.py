"""Real loopback servers for the network tests, and trustme TLS helpers.

Every server is a context manager: it binds 127.0.0.1 (or ::1) port 0, accepts in a
daemon thread blocked in select() (woken through a socketpair on stop, never polled),
serves each connection in its own daemon thread, and on exit wakes and joins them.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import selectors
import socket
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler
from typing import Iterator, Optional
from urllib.parse import parse_qs, urlsplit

import trustme

from bridge.device.fs import ModuleFileSystem

BLOCK = 64 * 1024


# ---- deterministic content -------------------------------------------------------------


def blob_pieces(size: int, seed: int, start: int = 0, stop: Optional[int] = None) -> Iterator[bytes]:
    """Bytes [start, stop) of the blob (size, seed): seeded random 64 KiB blocks, streamed."""
    stop = size if stop is None else min(stop, size)
    rng = random.Random(seed)
    position = 0
    while position < stop:
        block = rng.randbytes(BLOCK)
        low, high = max(start - position, 0), min(stop - position, BLOCK)
        if low < high:
            yield block[low:high]
        position += BLOCK


def blob_bytes(size: int, seed: int, start: int = 0, stop: Optional[int] = None) -> bytes:
    """A (small) blob or slice of it, whole."""
    return b"".join(blob_pieces(size, seed, start, stop))


def blob_sha256(size: int, seed: int, start: int = 0, stop: Optional[int] = None) -> str:
    """Hex SHA-256 of bytes [start, stop) of the blob (size, seed)."""
    digest = hashlib.sha256()
    for piece in blob_pieces(size, seed, start, stop):
        digest.update(piece)
    return digest.hexdigest()


# ---- the server skeleton -------------------------------------------------------------------


def _shutdown(sock: socket.socket) -> None:
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class LoopbackServer:
    """Accept loop and per-connection threads; subclasses implement `handle(conn)`."""

    conn_timeout = 30.0

    def __init__(self, host: str = "127.0.0.1", tls_context: Optional[ssl.SSLContext] = None) -> None:
        self.host = host
        self.tls_context = tls_context
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.bind((host, 0))
        self._listener.listen(64)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept_loop, daemon=True)
        self.connections = 0
        self.peer_certs: list[dict] = []
        self.tls_errors: list[str] = []
        self.tls_failed = threading.Event()  # set once a handshake failed (after tls_errors grew)

    def url(self, path: str = "/") -> str:
        scheme = "https" if self.tls_context else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> "LoopbackServer":
        self._accepter.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop accepting, wake every connection thread, join them, close everything."""
        self._wake_w.send(b"x")
        self._accepter.join(5)
        with self._lock:
            for sock in self._open:
                _shutdown(sock)
            threads = list(self._threads)
        for thread in threads:
            thread.join(5)
        for sock in (self._listener, self._wake_r, self._wake_w):
            sock.close()

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    self._accept_one()

    def _accept_one(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except BlockingIOError:
            return
        conn.settimeout(self.conn_timeout)
        thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
        with self._lock:
            self.connections += 1
            self._open.add(conn)
            self._threads.append(thread)
        thread.start()

    def _serve(self, conn: socket.socket) -> None:
        current = conn
        try:
            if self.tls_context is not None:
                current = self._tls_accept(conn)
            self.handle(current)
        except (OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._open.discard(current)
            current.close()

    def _tls_accept(self, conn: socket.socket) -> ssl.SSLSocket:
        assert self.tls_context is not None
        with self._lock:
            tls = self.tls_context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            self._open.discard(conn)
            self._open.add(tls)
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as exc:
            self.tls_errors.append(str(exc))
            self.tls_failed.set()
            with self._lock:
                self._open.discard(tls)
            tls.close()
            raise
        self.peer_certs.append(tls.getpeercert() or {})
        return tls

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError


def _read_head(conn: socket.socket) -> bytes:
    """Read until the end of a request head (test servers only)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            break
        data += piece
    return data


# ---- the HTTP blob server ------------------------------------------------------------------


_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def _parse_range(value: str, size: int) -> Optional[tuple[int, int]]:
    """(first, last) of a single-range header, or None if unsatisfiable."""
    match = _RANGE.match(value.strip())
    if not match or not (match.group(1) or match.group(2)):
        return None
    if not match.group(1):
        suffix = int(match.group(2))
        return (max(size - suffix, 0), size - 1) if suffix and size else None
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else size - 1
    return (first, min(last, size - 1)) if first < size and first <= last else None


class _BlobHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "BlobServer"  # type: ignore[assignment]
    timeout = 30

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:
        self._dispatch(send_body=False)

    do_POST = do_PUT = do_DELETE = do_GET

    # ---- routing ---------------------------------------------------------------

    def _dispatch(self, send_body: bool) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.server.record(self.command, url.path, list(self.headers.items()))
        if getattr(self, "drop_next", False):
            self.close_connection = True  # read the request, answer nothing, close
            return
        self.drop_next = query.get("drop_next") == "1"
        parts = url.path.strip("/").split("/")
        if parts[0] == "blob" and len(parts) == 2 and parts[1].isdigit():
            self._drain()
            self._blob(int(parts[1]), int(query.get("seed", "0")), query.get("chunked") == "1", send_body)
        elif parts[0] == "echo":
            self._echo(parts[1] if len(parts) > 1 else "", send_body)
        elif parts[0] == "status" and len(parts) == 2 and parts[1].isdigit():
            self._drain()
            self._status(int(parts[1]), query.get("close") == "1")
        elif parts[0] == "redirect" and "to" in query:
            self._drain()
            self._reply(302, b"", [("Location", query["to"])])
        else:
            self._drain()
            self._reply(404, b"not found\n", [("Content-Type", "text/plain")], send_body)

    def _reply(self, code: int, body: bytes, headers: list, send_body: bool = True) -> None:
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        if code not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and code not in (204, 304):
            self.wfile.write(body)

    def _status(self, code: int, close: bool) -> None:
        headers = [("X-Mixed-Case", "yes")]
        if close:
            headers.append(("Connection", "close"))
            self.close_connection = True
        self._reply(code, b"", headers)

    # ---- request bodies ---------------------------------------------------------

    def _body(self) -> Iterator[bytes]:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                yield from self._exactly(size)
                self.rfile.readline(16)
        else:
            yield from self._exactly(int(self.headers.get("Content-Length", "0")))

    def _exactly(self, count: int) -> Iterator[bytes]:
        while count:
            data = self.rfile.read(min(count, BLOCK))
            if not data:
                raise ConnectionError("client closed mid-body")
            count -= len(data)
            yield data

    def _drain(self) -> None:
        for _ in self._body():
            pass

    def _echo(self, kind: str, send_body: bool) -> None:
        if kind == "headers":
            length = sum(len(piece) for piece in self._body())
            info = {"method": self.command, "headers": list(self.headers.items()), "body_length": length}
            self._reply(200, json.dumps(info).encode(), [("Content-Type", "application/json")], send_body)
        elif kind == "sha256":
            digest, length = hashlib.sha256(), 0
            for piece in self._body():
                digest.update(piece)
                length += len(piece)
            info = {"length": length, "sha256": digest.hexdigest()}
            self._reply(200, json.dumps(info).encode(), [("Content-Type", "application/json")], send_body)
        else:
            body = b"".join(self._body())
            self._reply(200, body, [("Content-Type", "application/octet-stream")], send_body)

    # ---- blobs --------------------------------------------------------------------

    def _blob(self, size: int, seed: int, chunked: bool, send_body: bool) -> None:
        first, last, code = 0, size - 1, 200
        if self.headers.get("Range"):
            wanted = _parse_range(self.headers["Range"], size)
            if wanted is None:
                self._reply(416, b"", [("Content-Range", f"bytes */{size}")])
                return
            (first, last), code = wanted, 206
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        if code == 206:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        if send_body:
            self._send_blob(size, seed, first, last + 1, chunked)

    def _send_blob(self, size: int, seed: int, start: int, stop: int, chunked: bool) -> None:
        for piece in blob_pieces(size, seed, start, stop):
            if chunked:
                self.wfile.write(b"%x\r\n" % len(piece))
                self.wfile.write(piece)
                self.wfile.write(b"\r\n")
            else:
                self.wfile.write(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


class BlobServer(LoopbackServer):
    """HTTP/1.1 (keep-alive) server of deterministic content.

    GET/HEAD /blob/<n>?seed=<s>&chunked=1 (Range supported), POST/PUT /echo,
    /echo/headers (JSON of method, headers, body_length), /echo/sha256 (JSON of
    length, sha256), /redirect?to=<url>, /status/<code>[?close=1].  Any request with
    drop_next=1 makes the next request on that connection get no answer but a close.
    `requests` records (method, path, headers) of every request.
    """

    def __init__(self, tls_context: Optional[ssl.SSLContext] = None, host: str = "127.0.0.1") -> None:
        super().__init__(host, tls_context)
        self.requests: list[tuple[str, str, list[tuple[str, str]]]] = []

    def record(self, method: str, path: str, headers: list[tuple[str, str]]) -> None:
        with self._lock:
            self.requests.append((method, path, headers))

    def handle(self, conn: socket.socket) -> None:
        _BlobHandler(conn, conn.getpeername(), self)


# ---- fault servers --------------------------------------------------------------------------


class StallServer(LoopbackServer):
    """Accepts and reads, never answers.  `received` is set once request bytes arrive."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.received = threading.Event()

    def handle(self, conn: socket.socket) -> None:
        while conn.recv(65536):
            self.received.set()


class RawServer(LoopbackServer):
    """Reads a request head, sends `response` verbatim, then closes (with RST if `reset`),
    or with `hold` keeps the connection open, silent, until the client closes it."""

    def __init__(self, response: bytes, *, reset: bool = False, hold: bool = False) -> None:
        super().__init__()
        self.response = response
        self.reset = reset
        self.hold = hold

    def handle(self, conn: socket.socket) -> None:
        _read_head(conn)
        if self.response:
            conn.sendall(self.response)
        while self.hold and conn.recv(65536):
            pass
        if self.reset:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class CloseMidBodyServer(RawServer):
    """Announces Content-Length `total`, sends `sent` bytes (0xAB), closes."""

    def __init__(self, total: int, sent: int) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n".encode()
        super().__init__(head + b"\xab" * sent)


class RefusedPort(int):
    """A loopback port number with nothing listening (bound once, then released).

    It is an int; `with RefusedPort() as port:` and `.port` work too.
    """

    def __new__(cls) -> "RefusedPort":
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return super().__new__(cls, sock.getsockname()[1])

    @property
    def port(self) -> int:
        return int(self)

    def __enter__(self) -> int:
        return int(self)

    def __exit__(self, *exc: object) -> None:
        pass


class BacklogFullServer:
    """A listener that never accepts, with its accept queue filled: new connects hang.

    `port` is None if this platform completes connects anyway (then skip the test).
    """

    def __enter__(self) -> "BacklogFullServer":
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        self._fillers: list[socket.socket] = []
        self.port: Optional[int] = None
        for _ in range(8):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.settimeout(0.2)
            try:
                filler.connect(self._listener.getsockname())
            except TimeoutError:
                filler.close()
                self.port = self._listener.getsockname()[1]
                break
            self._fillers.append(filler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sock in self._fillers + [self._listener]:
            sock.close()


# ---- TLS helpers ----------------------------------------------------------------------------


def make_ca() -> trustme.CA:
    """A fresh throw-away CA."""
    return trustme.CA()


def server_context(
    ca: trustme.CA,
    *,
    names: tuple[str, ...] = ("localhost", "127.0.0.1", "::1"),
    require_client_cert: bool = False,
    max_version: Optional[ssl.TLSVersion] = None,
    sni_log: Optional[list] = None,
) -> ssl.SSLContext:
    """A server context with a certificate for `names` issued by `ca`.

    With `require_client_cert`, clients must present a certificate issued by `ca`.
    `sni_log` collects the SNI name of every handshake (None when none was sent).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*names).configure_cert(context)
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    if max_version is not None:
        context.maximum_version = max_version
    if sni_log is not None:
        context.sni_callback = lambda sock, name, ctx: sni_log.append(name)
    return context


def install_ca(fs: ModuleFileSystem, ca: trustme.CA, path: str = "certs/ca.pem") -> str:
    """Write the CA certificate (PEM) into the module file system; returns `path`."""
    fs.write_file(path, ca.cert_pem.bytes())
    return path


def install_client_cert(
    fs: ModuleFileSystem,
    ca: trustme.CA,
    cert_path: str = "certs/client.pem",
    key_path: str = "certs/client.key",
    name: str = "client.example",
) -> tuple[str, str]:
    """Issue a client certificate and write it and its key into the module file system."""
    cert = ca.issue_cert(name)
    fs.write_file(cert_path, b"".join(pem.bytes() for pem in cert.cert_chain_pems))
    fs.write_file(key_path, cert.private_key_pem.bytes())
    return cert_path, key_path
