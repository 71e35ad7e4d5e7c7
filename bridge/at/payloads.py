"""Length-framed payloads in the bytes a module writes: URCs and responses whose payload is framed
by a length field and may hold any byte.

Which prefixes carry a payload, which field holds its length and whether it may come as hex is
read from the dialect file (`payload:` on a response or URC shape).  A prefix regex per shape
finds where the payload starts; the payload is then cut out by count with one slice.
:class:`~bridge.at.responses.ResponseFramer` steps through them with what is here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional

from bridge.at.dialect import Dialect, FrameSpec, ShapeSpec
from bridge.at.framer import _BLANK

_PREFIX = re.compile(rb"\+[A-Za-z0-9$#^_]++[ \t]*+:")
_PREFIX_PROBE = 48  # a prefix is shorter than this
# Linear-time on any input: no two quantifiers next to each other can take the same byte, and
# the groups are atomic, so a line of 100 k spaces or commas costs one pass.  A field is
# captured with its blanks and quotes; ResponseFramer._framed_match strips them.
_FIELD = rb'((?>[ \t]*"[^"\r\n]*+"[ \t]*+|[^,"\r\n]*+)),'
_LENGTH_FIELD = rb"[ \t]*+([0-9]{1,10})[ \t]*+,"
_LAST_NUMBER = rb"[ \t]*+([0-9]{1,10})(?=[^0-9])"  # a byte after it: more digits may be coming
_HEX = re.compile(rb"[0-9A-Fa-f]*")
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


@dataclass
class _Pattern:
    frame: FrameSpec
    variant: Optional[str]
    shape: ShapeSpec
    regex: re.Pattern
    # payload_run's one match for a whole frame start: the blanks before it, then `regex`, where
    # the prefix fits in _PREFIX_PROBE bytes as _start_framed asks (None: a payload-less shape,
    # or a name _PREFIX never matches)
    run: Optional[re.Pattern] = None
    length_at: int = 0  # the length field's place among the groups (a payload's shape)


@dataclass
class _Payload:
    pattern: _Pattern
    groups: tuple[bytes, ...]  # the fields as the prefix regex matched them (a run's `accept` takes these)
    length: int
    prefix: bytes
    hex: Optional[bool]
    checked: int = 0  # payload bytes seen to be hex digits so far (each byte looked at once)

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        """The fields before the payload by name, without their blanks and quotes."""
        return tuple(zip(self.pattern.shape.fields[:-1], field_values(self.groups)))

    def take(self, buf: bytearray, pos: int) -> Optional[tuple[bytes, int]]:
        """(the payload, the bytes it took) once it is whole at `pos`; None: more bytes needed."""
        available = len(buf) - pos
        if self.hex is None:
            self.hex = self._looks_hex(buf, pos, available)
            if self.hex is None:
                return None
        need = self.length * 2 if self.hex else self.length
        if available < need:
            return None
        if self.hex and _HEX.fullmatch(buf, pos + self.checked, pos + need) is None:  # hex at first only: raw
            self.hex, need = False, self.length
        data = bytes(buf[pos:pos + need])
        if self.hex:
            data = bytes.fromhex(data.decode("ascii"))
        return data, need

    def _looks_hex(self, buf: bytearray, pos: int, available: int) -> Optional[bool]:
        """Raw or HEX output: undecided (None) until the bytes say.  Raw data is followed by
        CR LF or the next frame after `length` bytes; HEX data is still hex digits there."""
        length = self.length
        if length == 0:
            return False
        probe = min(length, available)
        if _HEX.fullmatch(buf, pos + self.checked, pos + probe) is None:
            return False
        self.checked = probe
        if available <= length:
            return None
        return buf[pos + length] in _HEX_DIGITS


def field_values(groups: tuple[bytes, ...]) -> list[str]:
    """The fields a prefix regex captured, without their blanks and quotes."""
    return [v.decode("latin-1").strip().strip('"') for v in groups]


class RunBudget:
    """The `accept` of a run that takes every frame of at least one byte while the payloads total
    at most `left` bytes (None: any number) -- a count check, so :func:`payload_run` does it
    without a call a frame.  `taken`: the frames it took."""

    __slots__ = ("left", "taken")

    def __init__(self, left: Optional[int]) -> None:
        self.left = left
        self.taken = 0

    def __call__(self, fields: tuple[bytes, ...], length: int) -> bool:
        if not length or (self.left is not None and length > self.left):
            return False
        if self.left is not None:
            self.left -= length
        self.taken += 1
        return True

    def take(self, length: int, count: int) -> int:
        """How many of `count` frames of `length` bytes each it takes (counted as taken)."""
        if not length:
            return 0
        if self.left is not None:
            count = min(count, self.left // length)
            self.left -= count * length
        self.taken += count
        return count


_REPEATS: dict[tuple[bytes, int], re.Pattern] = {}  # (a frame's prefix, its length) -> _repeats
_REPEATS_KEPT = 64


def _repeats(header: bytes, length: int) -> re.Pattern:
    """Frames whose prefix is `header` byte for byte and whose payload of `length` bytes is
    followed by CR, one after another: `.` with DOTALL skips a payload without looking at it."""
    key = (header, length)
    pattern = _REPEATS.get(key)
    if pattern is None:
        if len(_REPEATS) >= _REPEATS_KEPT:
            _REPEATS.clear()
        pattern = _REPEATS[key] = re.compile(b"(?:%s.{%d}(?=\r))*+" % (re.escape(header), length), re.DOTALL)
    return pattern


def payload_run(buf: "bytes | bytearray", pos: int, pattern: _Pattern, most: int,
                accept: Callable[[tuple[bytes, ...], int], bool], first: bytes,
                spans: list[tuple[int, int]]) -> tuple[bytes, int]:
    """(`first`, the payloads at `spans` and those of the whole frames of `pattern` one after
    another at `pos`, joined; where the run ends) for :meth:`ResponseFramer.take_payload_run
    <bridge.at.responses.ResponseFramer.take_payload_run>`, which says which frames count.

    One regex a frame, and one for all the frames after it that repeat its prefix byte for byte
    (the same bytes match the same: a Neoway module's pieces of one size); a :class:`RunBudget` is
    asked once for all of those.  A prefix that does not repeat right away (OneMO's, whose counts
    grow) is never compiled into a regex."""
    run = pattern.run
    end = len(buf)
    while run is not None:
        match = run.match(buf, pos)
        if match is None:
            break
        fields = match.groups()
        length, at = int(fields[pattern.length_at]), match.end()
        stop = at + length
        if length > most or stop >= end or buf[stop] != 0x0D or not accept(fields, length):
            break
        spans.append((at, stop))
        header = bytes(buf[pos:at])
        pos = stop
        if not buf.startswith(header, pos):  # its prefix does not repeat: a running total in it?
            pos, refused = _counted_run(buf, pos, match, header, length, pattern.length_at, accept, spans)
            if refused:
                break
            continue
        stride = len(header) + length
        whole = (_repeats(header, length).match(buf, pos).end() - pos) // stride
        if type(accept) is RunBudget:
            count = accept.take(length, whole)
        else:
            count = next((n for n in range(whole) if not accept(fields, length)), whole)
        starts = range(pos + len(header), pos + count * stride, stride)
        spans.extend(zip(starts, range(starts.start + length, starts.stop + length, stride)))
        pos += count * stride
        if count < whole:
            break  # refused: the run ends there
    if not spans:
        return first, pos
    with memoryview(buf) as view:
        joined = b"".join([first, *(view[a:b] for a, b in spans)])
    return joined, pos


def _counted_run(buf: "bytes | bytearray", pos: int, match: re.Match, header: bytes, length: int,
                 length_at: int, accept: Callable[[tuple[bytes, ...], int], bool],
                 spans: list[tuple[int, int]]) -> tuple[int, bool]:
    """(Where the frames at `pos` end that repeat the prefix `header` (of `match`, the frame
    before them) but for one field, a running total that grows by each payload's `length` --
    OneMO's sum_len.  Each next prefix is written as it must read and compared at once, no regex a
    frame; `accept` is still asked a frame, with the fields as the regex would have given them --
    a :class:`RunBudget` once, for all of them; whether it refused one, which ends the run).
    `pos` itself when no field is such a total."""
    fields, start, end = match.groups(), match.start(), len(buf)
    for i, value in enumerate(fields):
        if i == length_at or not value.isdigit():
            continue
        low, high = match.span(i + 1)
        before, after = header[:low - start], header[high - start:]
        total = int(value) + length
        if buf.startswith(b"%s%d%s" % (before, total, after), pos):
            break
    else:
        return pos, False
    budget = accept if type(accept) is RunBudget else None
    lead, tail, first, begin = fields[:i], fields[i + 1:], len(spans), pos
    append, startswith = spans.append, buf.startswith
    while True:
        head = b"%s%d%s" % (before, total, after)
        at = pos + len(head)
        stop = at + length
        if stop >= end or buf[stop] != 0x0D or not startswith(head, pos):
            break
        if budget is None and not accept((*lead, b"%d" % total, *tail), length):
            return pos, True
        append((at, stop))
        pos, total = stop, total + length
    if budget is None:
        return pos, False
    found = len(spans) - first
    taken = budget.take(length, found)
    del spans[first + taken:]
    return (spans[-1][1] if taken else begin), taken < found


def _compile_patterns(dialect: Dialect) -> dict[str, list[_Pattern]]:
    """A prefix regex for every shape that carries a payload or may lack its terminator."""
    patterns: dict[str, list[_Pattern]] = {}
    for frame in dialect.frames.values():
        for variant, shape in frame.shapes():
            if shape.payload is None and not shape.unterminated:
                continue
            escaped = re.escape(frame.name.encode())
            regex = escaped + rb"[ \t]*+:[ \t]*+"
            blanks = _PREFIX_PROBE - 1 - len(frame.name)  # the most that fit before ':' in _PREFIX's probe
            head = _BLANK.pattern + escaped + rb"[ \t]{0,%d}+:[ \t]*+" % blanks  # as _skip_blank, then _start_framed
            if variant is not None:
                regex += rb'"' + re.escape(variant.encode()) + rb'"[ \t]*+,'
            if shape.payload is not None:
                for name in shape.fields[:-1]:
                    regex += _LENGTH_FIELD if name == shape.payload.length else _FIELD
            else:  # unterminated: all fields, the last one ended by whatever follows it
                regex += _FIELD * (len(shape.fields) - 1) + _LAST_NUMBER
            pattern = _Pattern(frame, variant, shape, re.compile(regex))
            if shape.payload is not None:
                pattern.length_at = shape.fields.index(shape.payload.length)
                if blanks >= 0 and _PREFIX.fullmatch(frame.name.encode() + b":"):
                    pattern.run = re.compile(head + regex[len(escaped) + len(rb"[ \t]*+:[ \t]*+"):])
            patterns.setdefault(frame.name, []).append(pattern)
    return patterns
