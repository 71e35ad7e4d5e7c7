"""`atbridge request`: one HTTP request through a module, curl style."""
from __future__ import annotations

import sys
import time
from typing import BinaryIO, Optional, Sequence

from bridge.io.client import ModuleError, open_module
from bridge.model import BodyChunk, Failure, Method, Progress, Request, ResponseEnd, ResponseHead, TlsSettings, VerifyMode

PROGRESS_AFTER = 256 * 1024  # bytes before a progress bar is worth showing


def parse_headers(lines: Sequence[str]) -> list[tuple[str, str]]:
    """'Name: value' strings into pairs; raises ValueError on one without a colon."""
    headers = []
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"a header is 'Name: value', not {line!r}")
        headers.append((name.strip(), value.strip()))
    return headers


def body_from(data: Optional[str]) -> Optional[bytes]:
    """-d DATA, or -d @FILE for a file's bytes."""
    if data is None:
        return None
    if data.startswith("@"):
        with open(data[1:], "rb") as handle:
            return handle.read()
    return data.encode()


def tls_for(url: str, cacert: Optional[str], insecure: bool) -> Optional[TlsSettings]:
    """HTTPS is verified, as curl does: with the CA in `cacert` (written to the module), or not at
    all only when asked (`insecure`).  An https URL with neither is refused: raises ValueError."""
    if not url.lower().startswith("https://"):
        return None
    if insecure:
        return TlsSettings(verify=VerifyMode.NONE)
    if cacert is None:
        raise ValueError("https: the server is verified by default; give --cacert FILE (the CA that signed "
                         "its certificate, written to the module) or -k/--insecure to skip verification")
    with open(cacert, encoding="ascii") as handle:
        pem = handle.read()
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError(f"{cacert}: not a PEM certificate")
    return TlsSettings(verify=VerifyMode.SERVER, ca=pem)


class _ProgressBar:
    def __init__(self, stream) -> None:
        self.stream = stream
        self.shown = False
        self.last = 0.0

    def update(self, done: int, total: Optional[int]) -> None:
        now = time.monotonic()
        if done < PROGRESS_AFTER or now - self.last < 0.2:
            return
        self.last, self.shown = now, True
        if total:
            filled = int(30 * done / total)
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} bytes {100 * done // total:3d}%")
        else:
            self.stream.write(f"\r{done} bytes")
        self.stream.flush()

    def done(self) -> None:
        if self.shown:
            self.stream.write("\n")


def run_request(port: str, dialect: str, method: str, url: str, headers: list[tuple[str, str]], body: Optional[bytes],
                out: BinaryIO, model: Optional[str] = None, include_head: bool = False, baudrate: int = 115200,
                tls: Optional[TlsSettings] = None) -> int:
    """Run one request; write the body to `out`; return the HTTP status.  Raises ModuleError."""
    request = Request(Method(method.upper()), url, headers, body, tls=tls)
    bar = _ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    status = 0
    with open_module(port, dialect, model=model, baudrate=baudrate) as client:
        for event in client.request(request):
            if isinstance(event, Failure):
                raise ModuleError(event.kind, event.detail)
            if isinstance(event, ResponseHead):
                status = event.status
                if include_head:
                    out.write(event.raw + b"\r\n")
            elif isinstance(event, BodyChunk):
                out.write(event.data)
                if bar:
                    bar.update(event.offset + len(event.data), event.total)
            elif isinstance(event, Progress) and bar:
                bar.update(event.done, event.total)
            elif isinstance(event, ResponseEnd):
                break
    if bar:
        bar.done()
    return status
