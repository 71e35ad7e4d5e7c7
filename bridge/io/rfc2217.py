"""pyserial's RFC 2217 client (`rfc2217://host:port`), reading in blocks instead of byte by byte;
bridge/io/ports.py opens it for an rfc2217:// URL."""
from __future__ import annotations

import queue
import socket
from typing import Optional

from serial import rfc2217

READ_SIZE = 65536  # the most one recv of the TCP link takes (a queued block)


class Rfc2217Serial(rfc2217.Serial):
    """pyserial's RFC 2217 client, reading in blocks: its reader thread queues one item per byte
    (10 MB = 10 million queue operations); this one queues each received block, unescaped with
    bytes operations, and the queue is bounded so a slow reader flow-controls the TCP link."""

    QUEUED = 64  # blocks of at most 64 KiB

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
                block = parser.feed(data)
                if block and not self._put(block):
                    return
        finally:
            self._put(None)

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
        self.is_open = False
        try:
            while True:
                self._read_buffer.get_nowait()  # room for the reader thread to notice the close
        except (queue.Empty, AttributeError):
            pass
        super().close()


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
