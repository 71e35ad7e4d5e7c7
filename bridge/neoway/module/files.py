"""Transfers between the network and the module's file system.

- :class:`FileTransfer`: AT+FILEHTTPACTION / AT+FILEHTTPSACTION (GET a range into a file, POST a
  file), reported as +FILEHTTPSTAT.
- :class:`Download`: AT+HTTPGET / AT+HTTPSGET (GET the url into a fixed file, then the optional
  decompression and MD5 check), reported as +HTTPGETRPT / +HTTPSGETRPT.

The executor streams bodies to and from the files in its own thread; only the MD5 check reads
the downloaded file here, in bounded blocks.
"""
from __future__ import annotations

import hashlib
from typing import BinaryIO, Iterator, Optional

from bridge.model import BodyChunk, ErrorKind, Event, Failure, Method, ResponseEnd, ResponseHead
from bridge.device.fs import ModuleFileSystem
from bridge.neoway.module.channel import Channel
from bridge.neoway.module.jobs import Job, Side

BLOCK = 64 * 1024


def _ok(status: Optional[int]) -> bool:
    return status is not None and 200 <= status < 300


def file_chunks(fs: ModuleFileSystem, path: str, length: int) -> Iterator[bytes]:
    """The first `length` bytes of a module file, in blocks; opened only when iterated."""
    with fs.open_read(path) as handle:
        left = length
        while left:
            data = handle.read(min(left, BLOCK))
            if not data:
                raise OSError(f"{path} is shorter than {length} bytes")
            left -= len(data)
            yield data


def md5_of(fs: ModuleFileSystem, path: str) -> str:
    digest = hashlib.md5()
    with fs.open_read(path) as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


class FileTransfer(Job):
    """One FILEHTTP(S)ACTION request; `mode` is "0" (GET) or "1" (POST of `length` bytes)."""

    def __init__(self, side: Side, channel: Channel, mode: str, length: int) -> None:
        super().__init__(side, channel)
        self.mode = mode
        self.length = length
        self.status: Optional[int] = None

    def on_event(self, event: Event, now: float) -> None:
        if isinstance(event, ResponseHead):
            self.status = event.status
        elif isinstance(event, ResponseEnd):
            if _ok(self.status):
                means = self.side.reports.dialect.means
                done = event.body_length if means("file_mode").meaning(self.mode) is Method.GET else self.length
                self._report(f"+FILEHTTPSTAT: {self.mode},{means('file_stat').token('succeeded')},{done}", now)
            else:
                self._report(self.side.reports.file_stat(self.mode, ErrorKind.HTTP_STATUS), now)
        elif isinstance(event, Failure):
            self._report(self.side.reports.file_stat(self.mode, event.kind), now)

    def _report(self, line: str, now: float) -> None:
        self.side.line(line)
        self.side.job_done(self, now)


class Download(Job):
    """One HTTP(S)GET: download, then decompress (zip: unsupported) and verify (MD5).

    The executor saves the body to `path` itself (the request's save_to); with `stream` the body
    comes as BodyChunk events and is written to `path` here (a bridge: the module behind it has
    a file system of its own)."""

    def __init__(self, side: Side, channel: Channel, path: str, decompress: str, md5: Optional[str],
                 stream: bool = False) -> None:
        super().__init__(side, channel)
        self.path = path
        self.decompress = decompress
        self.md5 = md5
        self.stream = stream
        self.status: Optional[int] = None
        self._file: Optional[BinaryIO] = None

    def on_event(self, event: Event, now: float) -> None:
        if isinstance(event, ResponseHead):
            self.status = event.status
            if self.stream and _ok(self.status):
                self._write(None, now)
        elif isinstance(event, BodyChunk):
            if self._file is not None:
                self._write(event.data, now)
        elif isinstance(event, ResponseEnd):
            self._close()
            self._downloaded(now) if _ok(self.status) else self._failed(ErrorKind.HTTP_STATUS, now)
        elif isinstance(event, Failure):
            self._close()
            self._failed(ErrorKind.HTTP_STATUS, now)  # every download failure is "11"

    def _write(self, data: Optional[bytes], now: float) -> None:
        """Open the file (`data` None) or append to it; a failure ends the download."""
        try:
            if data is None:
                self._file = self.side.fs.open_write(self.path)
            else:
                assert self._file is not None
                self._file.write(data)
        except (OSError, ValueError):
            self._close()
            self.side.cancel(self.token)
            self._failed(ErrorKind.HTTP_STATUS, now)

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _downloaded(self, now: float) -> None:
        means = self.side.reports.dialect.means
        if means("decompress_type").meaning(self.decompress) == "zip":  # unsupported
            self._failed(ErrorKind.DECOMPRESS_FAILED, now)
        elif self.md5 is None:
            self._report(means("get_state").token("downloaded"), None, now)
        elif self._digest() == self.md5.lower():
            self._report(means("get_state").token("verified"), None, now)
        else:
            self._failed(ErrorKind.VERIFY_FAILED, now)

    def _digest(self) -> Optional[str]:
        try:
            return md5_of(self.side.fs, self.path)
        except (OSError, ValueError):
            return None

    def _failed(self, kind: ErrorKind, now: float) -> None:
        token = self.side.reports.urc(kind, self.channel.secure)[0]  # "+HTTPGETRPT: 11" ...
        state = token.partition(":")[2].strip()
        failed_status = self.status is not None and not _ok(self.status)
        code = str(self.status) if kind is ErrorKind.HTTP_STATUS and failed_status else None
        self._report(state, code, now, token)

    def _report(self, state: str, code: Optional[str], now: float, token: Optional[str] = None) -> None:
        name = self.side.reports.name("+HTTPGETRPT", self.channel.secure)
        line = token or f"{name}: {state}"
        self.side.line(line + (f",{code}" if code else ""))
        self.channel.get_state = (state, code)
        self.side.job_done(self, now)
