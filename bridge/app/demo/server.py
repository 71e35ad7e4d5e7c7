"""The demo's local HTTP and HTTPS server (127.0.0.1, a free port), with a throw-away CA.

GET/HEAD /data/<n>?seed=<s>   n deterministic bytes (Range supported)
GET /stream/<n>?seed=<s>      n bytes: one deterministic 64 KiB block repeated, streamed (large sizes)
POST/PUT /echo                the request body back; X-Received-Content-Type tells its type
"""
from __future__ import annotations

import random
import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs, urlsplit

import trustme

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
STREAM_BLOCK = 64 * 1024


def demo_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def stream_sha256(size: int, seed: int) -> str:
    """The SHA-256 of GET /stream/<size>?seed=<seed>, computed without holding it."""
    import hashlib

    block, digest = demo_bytes(STREAM_BLOCK, seed), hashlib.sha256()
    for start in range(0, size, STREAM_BLOCK):
        digest.update(block[: min(STREAM_BLOCK, size - start)])
    return digest.hexdigest()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "DemoServer._Server"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def do_GET(self) -> None:
        self._data(send_body=True)

    def do_HEAD(self) -> None:
        self._data(send_body=False)

    def do_POST(self) -> None:
        self._echo()

    do_PUT = do_POST

    def do_DELETE(self) -> None:
        self._reply(200, b"deleted", [])

    def _stream(self, size: int, seed: int) -> None:
        block = demo_bytes(STREAM_BLOCK, seed)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        for start in range(0, size, STREAM_BLOCK):
            self.wfile.write(block[: min(STREAM_BLOCK, size - start)])

    def _data(self, send_body: bool) -> None:
        url = urlsplit(self.path)
        streamed = re.fullmatch(r"/stream/(\d+)", url.path)
        if streamed and send_body:
            self._stream(int(streamed.group(1)), int(parse_qs(url.query).get("seed", ["0"])[0]))
            return
        found = re.fullmatch(r"/data/(\d+)", url.path)
        if not found:
            self._reply(404, b"not found", [], send_body)
            return
        seed = int(parse_qs(url.query).get("seed", ["0"])[0])
        data = demo_bytes(int(found.group(1)), seed)
        wanted = _RANGE.fullmatch(self.headers.get("Range", ""))
        if wanted and data:
            start = int(wanted.group(1))
            end = min(int(wanted.group(2) or len(data) - 1), len(data) - 1)
            extra = [("Content-Range", f"bytes {start}-{end}/{len(data)}")]
            self._reply(206, data[start:end + 1], extra, send_body)
        else:
            self._reply(200, data, [("Content-Type", "application/octet-stream")], send_body)

    def _echo(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.seen.append((self.command, self.path, dict(self.headers.items())))
        self._reply(200, body, [("X-Received-Content-Type", self.headers.get("Content-Type", ""))])

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]], send_body: bool = True) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)


class DemoServer:
    """An HTTP and an HTTPS server on 127.0.0.1; `ca_pem` is the CA the HTTPS one chains to."""

    class _Server(ThreadingHTTPServer):
        daemon_threads = True
        seen: list

    def __init__(self) -> None:
        self._ca = trustme.CA()
        self.ca_pem = self._ca.cert_pem.bytes()
        self.http = self._start(None)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.https = self._start(context)
        self.http.seen = self.https.seen = []

    def _start(self, context: Optional[ssl.SSLContext]) -> "_Server":
        server = self._Server(("127.0.0.1", 0), _Handler)
        if context is not None:
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, name="demo-server", daemon=True).start()
        return server

    @property
    def http_port(self) -> int:
        return self.http.server_address[1]

    @property
    def https_port(self) -> int:
        return self.https.server_address[1]

    @property
    def seen(self) -> list:
        return self.http.seen

    def close(self) -> None:
        for server in (self.http, self.https):
            server.shutdown()
            server.server_close()
