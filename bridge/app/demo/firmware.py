"""Scripted firmware: the host end of a serial port, as firmware uses it -- write a command, read
until the answer, with a deadline.  The demo and the tests drive modules and bridges with it."""
from __future__ import annotations

import os
import re
import select
import time
from collections import deque
from typing import Callable

import serial

from bridge.at.frames import Frame
from bridge.at import Framer


class HostEnd:
    """Firmware's view of the port: write commands, read until a pattern, with a deadline."""

    def __init__(self, serial_port):
        self.port = serial_port
        self.seen = bytearray()  # everything read so far
        self.cursor = 0  # start of what the next expect() looks at
        self._pending: dict[int, deque] = {}  # frames already made, by framer

    def send(self, data: bytes | str) -> None:
        self.port.write(data.encode() if isinstance(data, str) else data)

    def command(self, line: str) -> None:
        self.send(line + "\r")

    def expect(self, pattern: bytes | str, timeout: float = 10.0) -> re.Match:
        """Read until `pattern` (a regex) matches what came after the last match."""
        regex = re.compile(pattern.encode() if isinstance(pattern, str) else pattern, re.S)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.seen, self.cursor)
            if match:
                self.cursor = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {regex.pattern!r}; got {bytes(self.seen[self.cursor:])[-500:]!r}")
            self._read_more(left)

    def read_exactly(self, count: int, timeout: float = 30.0) -> bytes:
        """`count` bytes after the last match."""
        deadline = time.monotonic() + timeout
        while len(self.seen) - self.cursor < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out: {len(self.seen) - self.cursor} of {count} bytes")
            self._wait_at_most(left)
            self.seen += self.port.read(max(1, min(self.port.in_waiting, count)))
        data = bytes(self.seen[self.cursor:self.cursor + count])
        self.cursor += count
        return data

    def transact(self, line: str, final: str = r"\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n", timeout: float = 10.0) -> bytes:
        """Send a command; return everything up to and including its final result."""
        start = self.cursor
        self.command(line)
        match = self.expect(final, timeout)
        return bytes(self.seen[start:match.end()])

    def frames_until(self, framer: Framer, done: Callable[[Frame], bool], timeout: float = 30.0) -> list[Frame]:
        """Frames of what arrives after the last match, until one satisfies `done`.  Frames that
        the same read completed after that one are kept for the next call with this framer."""
        deadline = time.monotonic() + timeout
        pending = self._pending.setdefault(id(framer), deque())
        frames: list[Frame] = []
        while True:
            if len(self.seen) > self.cursor:
                pending.extend(framer.feed(bytes(self.seen[self.cursor:])))
                self.cursor = len(self.seen)
            while pending:
                frames.append(pending.popleft())
                if done(frames[-1]):
                    return frames
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; frames so far: {[type(f).__name__ for f in frames]}")
            self._read_more(left)

    def read_some(self, timeout: float = 30.0) -> bytes:
        """What arrived after the last match (at least one byte, waiting up to `timeout`), consumed.
        On a port with a descriptor: one wait for readability, then reads until it is drained --
        the least a reader can do per byte, so that a benchmark's firmware weighs little."""
        if len(self.seen) > self.cursor:
            data = bytes(self.seen[self.cursor:])
        else:
            data = self._drain(self.port.fileno(), timeout)
            if not data:
                raise AssertionError("timed out waiting for bytes")
        del self.seen[:]
        self.cursor = 0
        return data

    def _read_more(self, left: float) -> None:
        """Add to `seen` what arrives within `left` seconds (at most 0.5).  On a port with a
        descriptor: :meth:`_drain` -- pyserial would read one byte, ask how many more wait and
        read again, each through its own wait."""
        fd = self._descriptor()
        if fd < 0:
            self._wait_at_most(left)
            self.seen += self.port.read(max(1, self.port.in_waiting))
        else:
            self.seen += self._drain(fd, min(left, 0.5))

    @staticmethod
    def _drain(fd: int, wait: float) -> bytes:
        """One wait of up to `wait` seconds for readability, then reads until the descriptor is
        drained (b"": nothing came).  Readable yet empty -- the peer hung up -- raises pyserial's
        error, as its own read does, rather than coming back empty for ever."""
        if not select.select([fd], [], [], wait)[0]:
            return b""
        chunks = []
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                if chunks:
                    break  # the hang-up is said by the next call
                raise serial.SerialException("device reports readiness to read but returned no data (device disconnected?)")
            chunks.append(chunk)
        return b"".join(chunks)

    def _descriptor(self) -> int:
        try:
            return self.port.fileno()
        except (AttributeError, OSError, ValueError, serial.SerialException):
            return -1

    def _wait_at_most(self, left: float) -> None:
        """The next read's timeout: `left` seconds, at most 0.5.  Set only when it changes --
        pyserial reconfigures the terminal (tcsetattr) on every assignment."""
        timeout = min(left, 0.5)
        if timeout < 0.5 or self.port.timeout != 0.5:
            self.port.timeout = timeout

    def forget(self) -> None:
        """Drop what has been read and framed so far (long transfers keep memory bounded)."""
        del self.seen[: self.cursor]
        self.cursor = 0
