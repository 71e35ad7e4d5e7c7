"""Where a response goes, in the manual's URC formats (3.10, 3.9):

- :class:`HostSink`: +MHTTPURC "header" and "content" (fragment size, interval, HEX output);
- :class:`CacheSink`: cached mode, +MHTTPURC "recv" and the cache AT+MHTTPREAD reads;
- :class:`FileSink`: AT+MHTTPREQUEST with <local_path>, +MHTTPURC "download";
- :class:`DlfileSink`: AT+MHTTPDLFILE, +MHTTPDLFILE progress.
"""
from __future__ import annotations

from collections import deque
from typing import BinaryIO, Optional

from bridge.http import content_length, entity_length, has_body
from bridge.model import ErrorKind, Method, Progress, ResponseHead
from bridge.device.fs import ModuleFileSystem, PathEscapeError
from bridge.onemo.encoding import ASCII, HEX, encode_output
from bridge.onemo.module.instance import Cache
from bridge.onemo.module.transfer import Transfer, urc

CRLF = b"\r\n"


def body_framing(head: ResponseHead, method: Method) -> tuple[int, bool]:
    """(<content_len> for the URCs, whether a last frame with <cur_len> 0 ends the body).
    Chunked and close-delimited bodies show content_len 0 and end with that frame; a
    response without a body ends after its header (dialect-facts)."""
    if not has_body(method, head.status):
        return 0, False
    length = content_length(head.headers)
    return (0, True) if length is None else (length, False)


def write_framed(transfer: Transfer, prefix: str, payload: bytes) -> None:
    """CRLF, the prefix with its fields, the payload (exactly as many bytes as stated), CRLF."""
    transfer.io.write(CRLF + prefix.encode("ascii") + b",")
    transfer.io.write(payload)
    transfer.io.write(CRLF)


def report_head(transfer: Transfer, head: ResponseHead, output_format: int) -> None:
    prefix = urc("header", transfer.httpid, head.status, len(head.raw))
    write_framed(transfer, prefix, encode_output(head.raw, output_format))


class HostSink:
    """Normal mode: the response to the host in URCs, split into <frag_size> pieces (0: pieces of
    one network packet, `packet_size`, as hardware receives them) that go out <interval> ms apart.  What waits to go out is bounded: beyond `io.backlog_max` bytes the
    data is lost (+MHTTPURC "err" 9) rather than held without limit."""

    def __init__(self, transfer: Transfer, output_format: int = ASCII, frag_size: int = 0, interval_ms: int = 0,
                 packet_size: int = 0) -> None:
        self.t = transfer
        self.output_format = output_format
        self.frag_size = frag_size or packet_size  # <frag_size> 0: as received, one network packet a frame
        self.interval = interval_ms / 1000.0
        self.content_len = 0
        self.last_frame = False
        self.sum_len = 0
        self.ended = False
        self._queue: deque[bytes] = deque()
        self._queued = 0
        self._next_at = 0.0
        self._timer: Optional[str] = None
        self._lead: tuple[object, bytes, bytes] = (None, b"", b"")  # _formats' last: (key, lead, each)

    def head(self, head: ResponseHead, now: float) -> None:
        report_head(self.t, head, self.output_format)
        self.content_len, self.last_frame = body_framing(head, self.t.request.method)
        if not self.last_frame and self.content_len == 0:
            self._complete(now)  # no body: done after the header, as the host sees it

    def chunk(self, data: bytes, now: float) -> None:
        heads, payloads = self._content(data)
        if self.interval:  # paced: each URC goes out on its own
            for head, payload in zip(heads, payloads):
                self._emit(b"".join((head[2:], payload, CRLF)), now)
        elif heads:
            parts: list[bytes | memoryview] = [CRLF] * (2 * len(heads) + 1)
            parts[0:-1:2] = heads
            parts[1::2] = payloads
            parts[0] = heads[0][2:]
            self.t.io.write(b"".join(parts))
        else:
            self.t.io.write(b"")
        if not self.last_frame and self.sum_len >= self.content_len:
            self._complete(now)  # the host sees sum_len == content_len: the instance is free from here

    def _content(self, data: bytes) -> tuple[list[bytes], list[bytes | memoryview]]:
        """`data` as "content" URCs of up to <frag_size> bytes each: the payloads, and before each
        the CR LF that ends the URC before it (or an empty line), CR LF and the prefix with its
        counts -- one format a URC."""
        view = memoryview(data)
        length = len(view)
        size = max(1, self.frag_size or length)
        whole = length - length % size
        lead, each = self._formats(size)
        done = self.sum_len
        heads = [each % end for end in range(done + size, done + whole + 1, size)]
        payloads: list[bytes | memoryview] = [view[at:at + size] for at in range(0, whole, size)]
        if whole < length:
            heads.append(b"%s%d,%d," % (lead, done + length, length - whole))
            payloads.append(view[whole:])
        if self.output_format == HEX:
            payloads = [encode_output(piece, HEX) for piece in payloads]
        self.sum_len = done + length
        return heads, payloads

    def _formats(self, size: int) -> tuple[bytes, bytes]:
        """(CR LF CR LF and the content URC's prefix up to <sum_len>; the same with the
        <sum_len>,<cur_len> of a URC of `size` bytes to fill in)."""
        key = (self.t.httpid, self.content_len, size)
        if self._lead[0] != key:
            lead = CRLF + CRLF + urc("content", self.t.httpid, self.content_len).encode("ascii") + b","
            self._lead = (key, lead, lead.replace(b"%", b"%%") + b"%d," + b"%d," % size)
        return self._lead[1], self._lead[2]

    def progress(self, progress: Progress, now: float) -> None:
        pass

    def end(self, now: float) -> None:
        if self.last_frame:
            self._emit(b"".join((CRLF, urc("content", self.t.httpid, 0, self.sum_len, 0).encode("ascii"), CRLF)), now)
        self._complete(now)

    def _complete(self, now: float) -> None:
        if not self.ended:
            self.ended = True
            self._pump(now)

    def close(self) -> None:
        if self._timer is not None:
            self.t.io.cancel_timer(self._timer)
            self._timer = None
        self._queue.clear()

    def _emit(self, frame: bytes, now: float) -> None:
        if not self.interval:
            self.t.io.write(frame)
            return
        self._queue.append(frame)
        self._queued += len(frame)
        if self._queued > self.t.io.backlog_max:
            self.t.abort(ErrorKind.DATA_LOST)
            return
        self._pump(now)

    def _pump(self, now: float) -> None:
        while self._queue and now >= self._next_at and not self.t.over:
            frame = self._queue.popleft()
            self._queued -= len(frame)
            self.t.io.write(frame)
            self._next_at = now + self.interval
        if self._queue and self._timer is None:
            self._timer = f"fragment-{self.t.httpid}"
            self.t.io.set_timer(self._timer, self._next_at, self._on_timer)
        elif not self._queue and self.ended:
            self.t.finish()

    def _on_timer(self, now: float) -> None:
        self._timer = None
        self._pump(now)


class CacheSink:
    """Cached mode: header and body kept (the body up to <cache_length>), then +MHTTPURC "recv"."""

    def __init__(self, transfer: Transfer, cache: Cache, limit: int) -> None:
        self.t = transfer
        self.cache = cache
        self.limit = limit
        self.code = 0

    def head(self, head: ResponseHead, now: float) -> None:
        self.code = head.status
        self.cache.parts[0] = head.raw
        content_len, _ = body_framing(head, self.t.request.method)
        if content_len > self.limit:
            self._full()

    def chunk(self, data: bytes, now: float) -> None:
        body = self.cache.parts[1]
        if len(body) + len(data) > self.limit:
            self._full()
            return
        body += data

    def progress(self, progress: Progress, now: float) -> None:
        pass

    def end(self, now: float) -> None:
        parts = self.cache.parts
        self.t.io.line(urc("recv", self.t.httpid, self.code, len(parts[0]), len(parts[1])))
        self.t.finish()

    def close(self) -> None:
        pass

    def _full(self) -> None:
        self.cache.clear()  # nothing is cached (fn 27)
        self.t.abort(ErrorKind.CACHE_FULL)


class FileWriter:
    """The body written into a file of this side's file system, with the Progress a network
    executor reports when it saves the body itself.  For a bridge: its executor (a module of the
    other dialect) would save the file on that module, out of the firmware's reach."""

    def __init__(self, fs: ModuleFileSystem, path: str, append: bool = False) -> None:
        self.fs = fs
        self.path = path
        self.append = append
        self.done = 0
        self.total: Optional[int] = None
        self.entity: Optional[int] = None
        self._file: Optional[BinaryIO] = None

    def start(self, head: ResponseHead, method: Method) -> None:
        """Open the file if the response has a body (as the executor does); raises OSError."""
        if not has_body(method, head.status):
            return
        self.total = content_length(head.headers)
        self.entity = entity_length(head.headers)
        try:
            self._file = self.fs.open_write(self.path, append=self.append)
        except PathEscapeError as exc:
            raise OSError(str(exc)) from None

    def write(self, data: bytes) -> Progress:
        """Raises OSError."""
        if self._file is None:
            raise OSError(f"{self.path} is not open")
        self._file.write(data)
        self.done += len(data)
        return Progress(self.done, self.total, self.entity)

    def close(self) -> None:
        """Raises OSError if what was written cannot be flushed."""
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()


class _ToFile:
    """What FileSink and DlfileSink share: the header as +MHTTPURC "header", the body into the
    module file, progress reports as it arrives, and a last one once the file is closed (none for
    a response without a body)."""

    def __init__(self, transfer: Transfer, output_format: int, writer: Optional[FileWriter]) -> None:
        self.t = transfer
        self.output_format = output_format
        self.writer = writer  # the body is written here (else the executor saves it and reports Progress)
        self.has_body = True
        self.done = 0
        self.total: Optional[int] = None
        self.entity: Optional[int] = None

    def head(self, head: ResponseHead, now: float) -> None:
        report_head(self.t, head, self.output_format)
        content_len, last_frame = body_framing(head, self.t.request.method)
        self.has_body = content_len > 0 or last_frame
        start_writer(self.t, self.writer, head)

    def chunk(self, data: bytes, now: float) -> None:
        progress = write_chunk(self.t, self.writer, data)
        if progress is not None:
            self.progress(progress, now)

    def progress(self, progress: Progress, now: float) -> None:
        raise NotImplementedError

    def end(self, now: float) -> None:
        if not close_writer(self.t, self.writer):
            return
        if self.has_body:
            self._last_report(self.total if self.total is not None else self.done)
        self.t.finish()

    def close(self) -> None:
        close_quietly(self.writer)

    def _last_report(self, content_length: int) -> None:
        raise NotImplementedError


class FileSink(_ToFile):
    """AT+MHTTPREQUEST with <local_path>: the header as usual, the body into the file,
    +MHTTPURC "download",<downloaded>,<content_length>[,<entity_length>] as it arrives."""

    def __init__(self, transfer: Transfer, output_format: int = ASCII, writer: Optional[FileWriter] = None) -> None:
        super().__init__(transfer, output_format, writer)

    def progress(self, progress: Progress, now: float) -> None:
        self.done, self.total, self.entity = progress.done, progress.total, progress.entity_total
        if self.total is None or self.done < self.total:
            self._report(self.total or 0)  # chunked: content_length 0 until the end

    def _last_report(self, content_length: int) -> None:
        self._report(content_length)

    def _report(self, content_length: int) -> None:
        fields: list[object] = [self.done, content_length] + ([self.entity] if self.entity is not None else [])
        self.t.io.line(urc("download", *fields))


class DlfileSink(_ToFile):
    """AT+MHTTPDLFILE: the header as +MHTTPURC "header", then
    +MHTTPDLFILE: <downloaded>,<content_length>,<percent>[,<entity_length>] each time another
    <progind> bytes have arrived, and once at the end (never for Content-Length 0, fn 31)."""

    PREFIX = "+MHTTPDLFILE"

    def __init__(self, transfer: Transfer, progind: int = 0, writer: Optional[FileWriter] = None,
                 packet_size: int = 0) -> None:
        super().__init__(transfer, ASCII, writer)
        self.progind = progind
        self.packet_size = packet_size  # progress is looked at after each network packet, as hardware does

    def progress(self, progress: Progress, now: float) -> None:
        """A report at the end of each packet that crosses another <progind> bytes (so a large
        read of the executor reports as the packets it stands for would have)."""
        before = self.done
        self.total, self.entity = progress.total, progress.entity_total
        if not self.progind:
            self.done = progress.done
            return
        step = self.packet_size or max(1, progress.done - before)
        for end in range(min(before + step, progress.done), progress.done + step, step):
            end = min(end, progress.done)
            crossed = end // self.progind > self.done // self.progind
            self.done = end
            if crossed and (self.total is None or end < self.total):
                self._report(self.total or 0, end * 100 // self.total if self.total else 0)
            if end == progress.done:
                break

    def _last_report(self, content_length: int) -> None:
        self._report(content_length, 100)

    def _report(self, content_length: int, percent: int) -> None:
        fields = [self.done, content_length, percent] + ([self.entity] if self.entity is not None else [])
        self.t.io.line(f"{self.PREFIX}: " + ",".join(str(f) for f in fields))


# ---- a FileWriter inside a sink: its failures end the transfer with +MHTTPURC "err" ---------


def start_writer(transfer: Transfer, writer: Optional[FileWriter], head: ResponseHead) -> None:
    if writer is None or transfer.over:
        return
    try:
        writer.start(head, transfer.request.method)
    except OSError:
        transfer.abort(ErrorKind.FILE_OPEN_FAILED)


def write_chunk(transfer: Transfer, writer: Optional[FileWriter], data: bytes) -> Optional[Progress]:
    if writer is None or transfer.over:
        return None
    try:
        return writer.write(data)
    except OSError:
        transfer.abort(ErrorKind.FILE_WRITE_FAILED)
        return None


def close_writer(transfer: Transfer, writer: Optional[FileWriter]) -> bool:
    """Close the file at the end of the body; False (the transfer aborted) if that fails."""
    if writer is None:
        return not transfer.over
    try:
        writer.close()
    except OSError:
        transfer.abort(ErrorKind.FILE_WRITE_FAILED)
        return False
    return not transfer.over


def close_quietly(writer: Optional[FileWriter]) -> None:
    if writer is not None:
        try:
            writer.close()
        except OSError:
            pass
