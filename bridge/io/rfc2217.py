"""pyserial's RFC 2217 client (`rfc2217://host:port`), reading in blocks instead of byte by byte;
bridge/io/ports.py opens it for an rfc2217:// URL.  A remote that drops ends the reader thread
(one log line if a telnet answer failed), never with a traceback; closing does not stall."""
from __future__ import annotations

import logging
import queue
import socket
import threading
from typing import Optional

from serial import rfc2217

log = logging.getLogger(__name__)

READ_SIZE = 65536  # the most one recv of the TCP link takes (a queued block)


class Rfc2217Serial(rfc2217.Serial):
    """pyserial's RFC 2217 client, reading in blocks: its reader thread queues one item per byte
    (10 MB = 10 million queue operations); this one queues each received block, unescaped with
    bytes operations, and the queue is bounded so a slow reader flow-controls the TCP link."""

    QUEUED = 64  # blocks of at most 64 KiB

    def open(self) -> None:
        super().open()
        # pyserial leaves its 5 s connect timeout on the socket: a remote that takes longer than
        # that to accept more data (flow control, a slow serial line behind it) made write() fail
        # as if the link had dropped.  Blocking sends wait for it; close() and abort() end a recv.
        self._socket.settimeout(None)

    def _telnet_read_loop(self) -> None:
        self._read_buffer.maxsize = self.QUEUED
        parser = _TelnetParser(self)
        try:
            while self.is_open:
                try:
                    data = self._socket.recv(READ_SIZE)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not data:
                    break
                try:
                    block = parser.feed(data)  # may answer an option: a write that fails if the link dropped
                except Exception as exc:  # noqa: BLE001 - pyserial's handlers raise whatever they meet
                    if self.is_open:
                        log.warning("%s: RFC 2217 link failed (%s); the port is lost", self.name, short_reason(exc))
                    break
                if block and not self._put(block):
                    return
        finally:
            self._put(None)

    def abort(self) -> None:
        """End the link from any thread: the reader thread ends, and read() returns b"" (closed)."""
        sock = self._socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _put(self, item: Optional[bytes]) -> bool:
        """Queue `item`; False once the port closed meanwhile."""
        while self.is_open or item is None:
            try:
                self._read_buffer.put(item, timeout=0.5)  # woken at once when there is room
                return True
            except queue.Full:
                if item is None:
                    return False
        return False

    def close(self) -> None:
        """pyserial's close, without its 0.3 s sleep "for quick reconnects" and its 7 s join: the
        loop thread closes a lost port, and must not stall.  Shutting the socket down ends the
        reader thread's recv at once."""
        self.is_open = False
        try:
            while True:
                self._read_buffer.get_nowait()  # room for the reader thread to notice the close
        except (queue.Empty, AttributeError):
            pass
        sock, self._socket = self._socket, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(1)


class _TelnetParser:
    """Telnet data of an RFC 2217 link: data bytes out, IAC sequences to pyserial's handlers."""

    def __init__(self, port: rfc2217.Serial):
        self._port = port
        self._pending = b""  # an IAC sequence cut by the end of a read

    def feed(self, data: bytes) -> bytes:
        data = self._pending + data
        self._pending = b""
        out = []
        while data:
            at = data.find(rfc2217.IAC)
            if at < 0:
                out.append(data)
                break
            out.append(data[:at])
            used = self._command(data[at:], out)
            if used == 0:
                self._pending = data[at:]
                break
            data = data[at + used:]
        return b"".join(out)

    def _command(self, data: bytes, out: list[bytes]) -> int:
        """Bytes used by the IAC sequence at the start of `data` (0: incomplete)."""
        if len(data) < 2:
            return 0
        command = data[1:2]
        if command == rfc2217.IAC:
            out.append(rfc2217.IAC)
            return 2
        if command in (rfc2217.DO, rfc2217.DONT, rfc2217.WILL, rfc2217.WONT):
            if len(data) < 3:
                return 0
            self._port._telnet_negotiate_option(command, data[2:3])
            return 3
        if command == rfc2217.SB:
            end = data.find(rfc2217.IAC + rfc2217.SE, 2)
            while end >= 0 and _doubled_iac_before(data, end):
                end = data.find(rfc2217.IAC + rfc2217.SE, end + 2)
            if end < 0:
                return 0
            self._port._telnet_process_subnegotiation(data[2:end].replace(rfc2217.IAC + rfc2217.IAC, rfc2217.IAC))
            return end + 2
        self._port._telnet_process_command(command)
        return 2


def _doubled_iac_before(data: bytes, at: int) -> bool:
    """Is the IAC at `at` the second half of an escaped (doubled) IAC?"""
    run = len(data[:at]) - len(data[:at].rstrip(rfc2217.IAC))
    return run % 2 == 1


def short_reason(exc: BaseException) -> str:
    """An error as one short line of a log."""
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
