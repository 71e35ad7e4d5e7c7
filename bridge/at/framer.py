"""What both framers share: a byte buffer, line search, and the h11-style event pump.

A framer never reads a port and never sleeps.  Bytes go in with :meth:`Framer.receive_data`,
frames come out of :meth:`Framer.next_frame` one at a time (or :data:`NEED_DATA`), so that the
owner can change the framer's mode between two frames -- e.g. enter data mode after a command,
before the bytes that follow it are looked at.  :meth:`Framer.feed` is the convenience loop.
"""
from __future__ import annotations

import re
from typing import Optional, Union

from bridge.at.frames import Frame, FramingError

TERMINATOR = re.compile(rb"[\r\n]")
_BLANK = re.compile(rb"[\r\n \t\x00]*+")


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()


class Framer:
    """Buffer handling and the pump; subclasses implement :meth:`_step`."""

    def __init__(self, line_max: int):
        self.line_max = line_max
        self._buf = bytearray()
        self._pos = 0
        self._skip_lf = False  # a CR ended the last line; drop an LF that follows it
        self._discarding = False  # an over-long line: drop bytes up to the next terminator
        self._closed = False
        self._too_long: Optional[FramingError] = None  # a whole line over line_max, skipped

    # -- public ------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        if self._pos and self._pos >= len(self._buf) // 2:
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    def close(self) -> None:
        """End of input: what is left is framed as far as it can be, then reported."""
        self._closed = True

    def next_frame(self) -> Union[Frame, _NeedData]:
        while True:
            if self._skip_lf and self._pos < len(self._buf):
                self._skip_lf = False
                if self._buf[self._pos] == 0x0A:
                    self._pos += 1
            if self._discarding and not self._discard_line():
                return NEED_DATA
            self._waiting = False
            frame = self._step()
            if frame is not None:
                return frame
            if self._pos >= len(self._buf) or self._waiting:
                if self._closed:
                    leftover = self._at_eof()
                    if leftover is not None:
                        return leftover
                return NEED_DATA

    def feed(self, data: bytes = b"") -> list[Frame]:
        """Receive `data` and return every frame it completes."""
        if data:
            self.receive_data(data)
        frames = []
        while True:
            frame = self.next_frame()
            if frame is NEED_DATA:
                return frames
            frames.append(frame)  # type: ignore[arg-type]

    @property
    def buffered(self) -> int:
        return len(self._buf) - self._pos

    @property
    def open_line(self) -> int:
        """Bytes of a line begun but not yet ended at the end of the buffer (without the blank
        space before it); 0 when the buffer ends at a line end."""
        if self._pos >= len(self._buf):
            return 0
        last = max(self._buf.rfind(b"\r", self._pos), self._buf.rfind(b"\n", self._pos))
        start = last + 1 if last >= 0 else self._pos
        return len(self._buf[start:].lstrip(b" \t\x00"))

    # -- for subclasses -------------------------------------------------------------

    _waiting = False  # set by _step when it needs more bytes than are buffered

    def _step(self) -> Optional[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _at_eof(self) -> Optional[Frame]:
        return None

    def _take_line(self) -> Optional[bytes]:
        """The next line without its terminator, consuming both; None if incomplete.  An
        over-long line yields a FramingError through :meth:`_overlong` instead."""
        match = TERMINATOR.search(self._buf, self._pos)
        if match is None:
            self._waiting = True
            return None
        end = match.start()
        if end - self._pos > self.line_max:
            sample = bytes(self._buf[self._pos:self._pos + 64])
            self._consume_terminator(end)
            self._too_long = FramingError(f"line longer than {self.line_max} bytes; skipped", sample)
            return None
        line = bytes(self._buf[self._pos:end])
        self._consume_terminator(end)
        return line

    def _consume_terminator(self, end: int) -> None:
        if self._buf[end] == 0x0D:
            if end + 1 < len(self._buf):
                self._pos = end + 2 if self._buf[end + 1] == 0x0A else end + 1
            else:
                self._pos = end + 1
                self._skip_lf = True
        else:
            self._pos = end + 1

    def _overlong(self) -> Optional[FramingError]:
        """A FramingError if the line at the cursor is longer than allowed (with its terminator:
        skipped already; without: skipped up to the terminator when it comes)."""
        if self._too_long is not None:
            error, self._too_long = self._too_long, None
            return error
        if len(self._buf) - self._pos <= self.line_max:
            return None
        sample = bytes(self._buf[self._pos:self._pos + 64])
        self._pos = len(self._buf)
        self._discarding = True
        return FramingError(f"line longer than {self.line_max} bytes; skipped to the next line", sample)

    def _discard_line(self) -> bool:
        match = TERMINATOR.search(self._buf, self._pos)
        if match is None:
            self._pos = len(self._buf)
            return False
        self._discarding = False
        self._consume_terminator(match.start())
        return True

    def _skip_blank(self) -> None:
        """Step over line terminators and blank space between frames."""
        self._pos = _BLANK.match(self._buf, self._pos).end()  # type: ignore[union-attr]
