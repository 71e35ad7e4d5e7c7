"""The bridge's fast path: a plain answer, cut out of the module's bytes whole.

A plain answer is lines each written CR LF <line> CR LF -- the command's own "+NAME:" lines and
text lines -- closed by a final result written exactly as :func:`~bridge.at.encode.final_bytes`
writes it.  Those bytes are what re-encoding its frames would give, so they may go on as they
are.  :class:`~bridge.at.responses.ResponseFramer` (plain_answer_end, take_answer) uses this
between two frames.
"""
from __future__ import annotations

import re
from typing import Optional

from bridge.at.dialect import Dialect
from bridge.at.encode import final_bytes
from bridge.at.framer import TERMINATOR
from bridge.at.frames import Final
from bridge.at.payloads import _PREFIX

_CME = re.compile(r"\+CM([ES]) ERROR:(.*)", re.S)
_CODE = re.compile(r"[0-9]{1,10}")  # ASCII only: str.isdigit() takes "²", which int() refuses
_CRLF = b"\r\n"
_ERRORS = (b"+CME ERROR:", b"+CMS ERROR:")


def final_result(dialect: Dialect, text: str) -> Optional[Final]:
    """The final result that the stripped line `text` is, if it is one."""
    final = dialect.final
    if text == final["ok"]:
        return Final("OK")
    if text == final["error"]:
        return Final("ERROR")
    match = _CME.match(text)
    if match is None:
        return None
    result = "CME" if match.group(1) == "E" else "CMS"
    value = match.group(2).strip()
    return Final(result, code=int(value)) if _CODE.fullmatch(value) else Final(result, text=value)


class PlainAnswers:
    """Where a plain answer ends in a framer's buffer.  `special`: "+NAME" of the frames an answer
    line must not be taken raw for."""

    def __init__(self, dialect: Dialect, special: frozenset[str]):
        self.dialect = dialect
        self._ok = dialect.final.get("ok", "OK").encode()
        self._error = dialect.final.get("error", "ERROR").encode()
        self._lines = frozenset(text.encode("latin-1") for text in dialect.lines)
        self._special = special

    def end(self, buf: bytearray, pos: int, name: str, line_max: int, answer_max: int) -> int:
        """:meth:`ResponseFramer.plain_answer_end <bridge.at.responses.ResponseFramer.plain_answer_end>`
        on the bytes of `buf` from `pos`, with no frame under way."""
        origin, end = pos, len(buf)
        while True:
            if end - pos < 2:
                return 0 if buf[pos:end] in (b"", b"\r") else -1
            if buf[pos] != 0x0D or buf[pos + 1] != 0x0A:
                return -1
            start = pos + 2
            found = TERMINATOR.search(buf, start)
            stop = found.start() if found is not None else end
            if stop - start > line_max or stop - origin > answer_max:
                return -1
            if found is None:  # a line still coming: a frame of its own (a URC, a payload) already?
                return 0 if self._may_be_plain(bytes(buf[start:end]), name) else -1
            kind = self._plain_line(bytes(buf[start:stop]), name)
            if kind is None or buf[stop] != 0x0D:
                return -1
            if stop + 1 == end:  # the LF of its CR LF is still to come
                return end if kind else 0  # a final result is whole at its CR (take_answer ends it)
            if buf[stop + 1] != 0x0A:
                return -1
            pos = stop + 2
            if kind:
                return pos

    def whole(self, data: bytes, name: str, line_max: int, answer_max: int) -> bool:
        """Whether `data` is exactly one whole plain answer to `name`, its final result's CR LF
        included."""
        return data[-2:] == _CRLF and self.end(data, 0, name, line_max, answer_max) == len(data)

    def _may_be_plain(self, partial: bytes, name: str) -> bool:
        """Whether the start of a line can still be a line of a plain answer to `name`: not once
        it is a "+NAME:" of another command or of a frame that carries a payload."""
        if partial[:1] != b"+" or partial.startswith(_ERRORS[0][:len(partial)]) or partial.startswith(_ERRORS[1][:len(partial)]):
            return True
        prefix = _PREFIX.match(partial)
        if prefix is None:
            return True
        frame = prefix.group().rstrip(b": \t").decode()
        return frame.upper() == name and frame not in self._special

    def _plain_line(self, line: bytes, name: str) -> Optional[bool]:
        """True: a final result as final_bytes writes it; False: a line of the answer to `name`
        that frames as itself; None: neither (a blank start, an echo, a URC, a special frame)."""
        if not line or line[0] in b" \t\x00":
            return None
        if line == self._ok or line == self._error:
            return True
        if line[0] == 0x2B:  # '+'
            if line.startswith(_ERRORS):
                final = final_result(self.dialect, line.decode("utf-8", errors="replace").strip(" \t\x00"))
                return True if final is not None and final_bytes(final) == _CRLF + line + _CRLF else None
            prefix = _PREFIX.match(line)
            if prefix is None:
                return None
            frame = prefix.group().rstrip(b": \t").decode()
            return False if frame.upper() == name and frame not in self._special else None
        stripped = line.strip(b" \t\x00")
        if stripped in (self._ok, self._error) or line[:2].upper() == b"AT" or line.strip() in self._lines:
            return None
        return False
