"""Framing the bytes a module writes: echo, prompts, final results, responses and URCs --
including URCs whose payload is framed by a length field and may hold any byte.

Which prefixes carry a payload, which field holds its length and whether it may come as hex is
read from the dialect file (`payload:` on a response or URC shape).  A prefix regex per shape
finds where the payload starts; the payload is then cut out by count with one slice.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Callable, Optional

from bridge.at.dialect import Dialect, FrameSpec, ShapeSpec
from bridge.at.meaning import EnumMeanings
from bridge.at.frames import Echo, Final, Frame, FramingError, Info, Line, Prompt
from bridge.at.framer import _BLANK, TERMINATOR, Framer
from bridge.at.commands import parse_command
from bridge.at.encode import final_bytes
from bridge.at.params import ParamSyntaxError, split_params
from bridge.at.rawhttp import RawHttpResponse
from bridge.model import Method

_PREFIX = re.compile(rb"\+[A-Za-z0-9$#^_]++[ \t]*+:")
_PREFIX_PROBE = 48  # a prefix is shorter than this
# Linear-time on any input: no two quantifiers next to each other can take the same byte, and
# the groups are atomic, so a line of 100 k spaces or commas costs one pass.  A field is
# captured with its blanks and quotes; _framed_match strips them.
_FIELD = rb'((?>[ \t]*"[^"\r\n]*+"[ \t]*+|[^,"\r\n]*+)),'
_LENGTH_FIELD = rb"[ \t]*+([0-9]{1,10})[ \t]*+,"
_LAST_NUMBER = rb"[ \t]*+([0-9]{1,10})(?=[^0-9])"  # a byte after it: more digits may be coming
_HEX = re.compile(rb"[0-9A-Fa-f]*")
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
_CME = re.compile(r"\+CM([ES]) ERROR:(.*)", re.S)
_UNDECLARED_FIELDS = 32  # an undeclared line's fields; the last takes the rest of a longer line
_CODE = re.compile(r"[0-9]{1,10}")  # ASCII only: str.isdigit() takes "²", which int() refuses
_CRLF = b"\r\n"
_ERRORS = (b"+CME ERROR:", b"+CMS ERROR:")


@dataclass
class _Pattern:
    frame: FrameSpec
    variant: Optional[str]
    shape: ShapeSpec
    regex: re.Pattern


@dataclass
class _Payload:
    pattern: _Pattern
    fields: tuple[tuple[str, str], ...]
    length: int
    prefix: bytes
    hex: Optional[bool]
    checked: int = 0  # payload bytes seen to be hex digits so far (each byte looked at once)


class ResponseFramer(Framer):
    """Module -> host bytes into frames.  `prompts`: whether a '>' at the start of a line is a
    prompt (the host side turns it on only while a command expects one).

    Bounds on length-framed reads: a length above the dialect's `payload_max` is refused at once
    (FramingError, then framing goes on at the next line); a raw HTTP head longer than
    `head_max` bytes is refused.  A payload that announced more bytes than the module delivers
    cannot be told apart from a slow one by the bytes alone, so the framer never cuts it by
    itself: the owner (a host side) watches it with its own deadline, :attr:`in_payload` says
    one is being read, and on the deadline the owner calls :meth:`abandon_payload`, which drops
    the partial payload (returned as a FramingError) and resynchronises at the next line start
    that begins a frame -- after which e.g. the answer to AT+CGSN frames normally."""

    def __init__(self, dialect: Dialect, prompts: bool = True, body_block: int = 16384):
        super().__init__(dialect.line_max)
        self.dialect = dialect
        self.prompts = prompts
        self.http_method = "GET"  # method of the request whose raw response may come next
        self.body_block = body_block
        self._patterns = _compile_patterns(dialect)
        self._queue: deque[Frame] = deque()
        self._payload: Optional[_Payload] = None
        self._raw: Optional[RawHttpResponse] = None
        self._held_line: Optional[Info] = None  # a +CMT waiting for its PDU line
        self._ok = dialect.final.get("ok", "OK").encode()
        self._error = dialect.final.get("error", "ERROR").encode()
        self._lines = frozenset(text.encode("latin-1") for text in dialect.lines)
        # "+NAME" of the frames an answer line must not be taken raw for: a payload or a missing
        # terminator (the patterns), a next line that belongs to it, raw HTTP after it, variants.
        self._special = frozenset(self._patterns) | frozenset(
            name for name, spec in dialect.frames.items() if spec.next_line or spec.bare or spec.variants)
        self.answer_max = 4 * dialect.line_max  # a plain answer is cut out whole up to this size

    def expect_http(self, method: str) -> None:
        """The next raw HTTP response answers a request with `method` (HEAD has no body)."""
        self.http_method = method.upper()

    def release(self) -> list[Frame]:
        """Body bytes of a raw HTTP response held back for block alignment (live use)."""
        return self._raw.release() if self._raw else []

    @property
    def in_payload(self) -> bool:
        """Whether a length-framed payload or a raw HTTP response is being read."""
        return self._payload is not None or self._raw is not None

    def abandon_payload(self) -> Optional[FramingError]:
        """Give up the length-framed payload or raw HTTP response being read (call it when the
        owner's deadline for it expires); None if none is.  The bytes of it that arrived are
        dropped and reported in the FramingError (`raw`: the frame's first line); framing
        resumes at the first buffered line start that begins a frame (a final result, a
        "+NAME:" line, an echo); without one, every buffered byte is dropped and so is the rest
        of the line they end in, once it comes.  Body frames a raw HTTP response already gave
        out stay given out.  Frames now complete come out of the next :meth:`next_frame` calls."""
        if self._payload is not None:
            payload, self._payload = self._payload, None
            got = len(self._buf) - self._pos
            name, prefix = payload.pattern.frame.name, payload.prefix
            reason = f"{name}: payload of {payload.length} bytes abandoned; resynchronised"
        elif self._raw is not None:
            held = self._raw.abandon()
            self._raw = None
            self.http_method = "GET"
            self._buf[self._pos:self._pos] = held  # not given out yet: looked at again
            got, name, prefix = len(self._buf) - self._pos, "raw HTTP response", b""
            reason = "raw HTTP response abandoned; resynchronised"
        else:
            return None
        self._resync()
        return FramingError(f"{reason} ({got} bytes were buffered)", prefix[:64])

    # -- the bridge's fast path: a plain answer, taken whole ------------------------------------

    @property
    def at_rest(self) -> bool:
        """Between two frames, with nothing buffered and no prompt awaited."""
        return (self._pos >= len(self._buf) and not (self._queue or self._discarding or self.prompts or self._skip_lf)
                and self._payload is None and self._raw is None and self._held_line is None)

    def plain_answer_end(self, name: str) -> int:
        """Where the answer to the command named `name` ("+CSQ") ends in the buffered bytes, when
        it is plain: lines each written CR LF <line> CR LF -- the command's own "+NAME:" lines and
        text lines -- closed by a final result (OK, ERROR, +CME ERROR: <code>) written exactly as
        :func:`~bridge.at.encode.final_bytes` writes it.  Those bytes are what re-encoding its
        frames would give, so they may go on as they are (:meth:`take_answer`).  0: plain so far,
        more to come; -1: not plain (an echo, a URC, a payload, odd spacing, too long: frame it as
        usual) -- said as soon as a line's first terminator byte is in, when framing would give
        that line.  Only between two frames, and with no prompt awaited."""
        if (self._queue or self._discarding or self.prompts or self._skip_lf or self._payload is not None
                or self._raw is not None or self._held_line is not None):
            return -1
        buf, pos, end = self._buf, self._pos, len(self._buf)
        while True:
            if end - pos < 2:
                return 0 if buf[pos:end] in (b"", b"\r") else -1
            if buf[pos] != 0x0D or buf[pos + 1] != 0x0A:
                return -1
            start = pos + 2
            found = TERMINATOR.search(buf, start)
            stop = found.start() if found is not None else end
            if stop - start > self.line_max or stop - self._pos > self.answer_max:
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

    def take_answer(self, end: int) -> bytes:
        """The buffered bytes up to `end` (from :meth:`plain_answer_end`), consumed; a final result
        whose LF has not come yet gets it here, and the LF is skipped when it comes (as framing it
        would have done)."""
        answer = bytes(self._buf[self._pos:end])
        self._pos = end
        if answer[-1:] == b"\r":
            answer += b"\n"
            self._skip_lf = True
        return answer

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
                final = self._final(line.decode("utf-8", errors="replace").strip(" \t\x00"))
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

    def _resync(self) -> None:
        found = _FRAME_START.search(self._buf, self._pos)
        if found is not None:
            self._pos = found.start() + 1
            return
        last = self._buf[-1] if len(self._buf) > self._pos else None
        self._pos = len(self._buf)
        self._discarding = last not in (0x0D, 0x0A)  # the rest of this line is the payload's too
        self._skip_lf = last == 0x0D

    # -- the pump --------------------------------------------------------------------

    def _step(self) -> Optional[Frame]:
        if self._queue:
            return self._queue.popleft()
        if self._raw is not None:
            return self._step_raw(self._raw)
        if self._payload is not None:
            return self._step_payload(self._payload)
        if self._held_line is not None:
            return self._step_held_line(self._held_line)
        self._skip_blank()
        buf, pos = self._buf, self._pos
        if pos >= len(buf):
            return None
        if buf[pos] == 0x3E and self.prompts:  # '>'
            self._pos += 1
            return Prompt()
        if buf[pos] == 0x2B:  # '+'
            started = self._start_framed()
            if started is not _NOT_FRAMED:
                return started  # type: ignore[return-value]
        line = self._take_line()
        if line is None:
            return self._overlong()
        return self._classify(line)

    def _at_eof(self) -> Optional[Frame]:
        if self._raw is not None:
            return self._step_raw(self._raw)
        if self._payload is not None:
            self._payload = None
            self._pos = len(self._buf)
            return FramingError("input ended inside a length-framed payload")
        if self._held_line is not None:
            held, self._held_line = self._held_line, None
            return held
        if self._pos < len(self._buf):
            line = bytes(self._buf[self._pos:])
            self._pos = len(self._buf)
            return self._classify(line) or FramingError("unparsable bytes at end of input", line[:64])
        return None

    # -- length-framed payloads -----------------------------------------------------------

    def _start_framed(self) -> object:
        buf, pos = self._buf, self._pos
        prefix = _PREFIX.match(buf, pos, min(len(buf), pos + _PREFIX_PROBE))
        if prefix is None:
            if len(buf) - pos < _PREFIX_PROBE and TERMINATOR.search(buf, pos) is None:
                self._waiting = True
                return None
            return _NOT_FRAMED
        name = prefix.group().rstrip(b": \t").decode()
        patterns = self._patterns.get(name)
        if not patterns:
            return _NOT_FRAMED
        for pattern in patterns:
            match = pattern.regex.match(buf, pos)
            if match:
                return self._framed_match(pattern, match)
        if TERMINATOR.search(buf, pos) is None:
            self._waiting = True
            return self._overlong()
        return _NOT_FRAMED

    def _framed_match(self, pattern: _Pattern, match: re.Match) -> Optional[Frame]:
        shape = pattern.shape
        values = [v.decode("latin-1").strip().strip('"') for v in match.groups()]
        prefix = bytes(match.group())
        self._pos = match.end()
        if shape.payload is None:  # an unterminated short URC ("ind")
            fields = tuple(zip(shape.fields, values))
            return Info(pattern.frame.name, fields, pattern.variant, None, pattern.frame.unsolicited, prefix)
        fields = tuple(zip(shape.fields[:-1], values))
        length = int(dict(fields)[shape.payload.length])
        if length > self.dialect.payload_max:
            self._discarding = True
            return FramingError(f"{pattern.frame.name} length {length} is above {self.dialect.payload_max}", prefix)
        self._payload = _Payload(pattern, fields, length, prefix, None if shape.payload.hex else False)
        return None

    def _step_payload(self, payload: _Payload) -> Optional[Frame]:
        buf, pos = self._buf, self._pos
        available = len(buf) - pos
        if payload.hex is None:
            payload.hex = self._looks_hex(payload, available)
            if payload.hex is None:
                self._waiting = True
                return None
        need = payload.length * 2 if payload.hex else payload.length
        if available < need:
            self._waiting = True
            return None
        if payload.hex and _HEX.fullmatch(buf, pos + payload.checked, pos + need) is None:  # hex at first only: raw
            payload.hex, need = False, payload.length
        data = bytes(buf[pos:pos + need])
        self._pos = pos + need
        self._payload = None
        if payload.hex:
            data = bytes.fromhex(data.decode("ascii"))
        pattern = payload.pattern
        return Info(pattern.frame.name, payload.fields, pattern.variant, data, pattern.frame.unsolicited, payload.prefix)

    def _looks_hex(self, payload: _Payload, available: int) -> Optional[bool]:
        """Raw or HEX output: undecided (None) until the bytes say.  Raw data is followed by
        CR LF or the next frame after `length` bytes; HEX data is still hex digits there."""
        length = payload.length
        if length == 0:
            return False
        probe = min(length, available)
        if _HEX.fullmatch(self._buf, self._pos + payload.checked, self._pos + probe) is None:
            return False
        payload.checked = probe
        if available <= length:
            return None
        return self._buf[self._pos + length] in _HEX_DIGITS

    # -- a run of payload frames (a host side's body pump) -----------------------------------

    def take_payload_run(self, name: str, variant: Optional[str], accept: Callable[[tuple[bytes, ...], int], bool],
                         first: bytes = b"") -> bytes:
        """`first`, then the payloads of the whole frames of `name` (`variant`) buffered one after
        another at the cursor, joined once and consumed, while `accept(fields, length)` takes each
        (`fields`: the fields before the payload as they came, blanks and quotes included).

        Only frames that :meth:`next_frame` would give exactly so: taken between two frames, each
        payload raw -- its `length` bytes followed by CR, where HEX output is still hex digits --
        and at most `payload_max`.  A frame of another kind, one not whole yet, or one `accept`
        refuses ends the run and stays buffered for :meth:`next_frame`."""
        pattern = next((p for p in self._patterns.get(name, ()) if p.variant == variant and p.shape.payload), None)
        if pattern is None or (self._queue or self._discarding or self._skip_lf or self._payload is not None
                               or self._raw is not None or self._held_line is not None):
            return first
        buf, pos, end = self._buf, self._pos, len(self._buf)
        regex, most = pattern.regex, self.dialect.payload_max
        length_at = pattern.shape.fields.index(pattern.shape.payload.length)  # type: ignore[union-attr]
        spans = []
        while True:
            start = _BLANK.match(buf, pos).end()  # type: ignore[union-attr]
            match = regex.match(buf, start)
            if match is None or _PREFIX.match(buf, start, start + _PREFIX_PROBE) is None:  # as _start_framed
                break
            fields = match.groups()
            length = int(fields[length_at])
            stop = match.end() + length
            if length > most or stop >= end or buf[stop] != 0x0D or not accept(fields, length):
                break
            spans.append((match.end(), stop))
            pos = stop
        if not spans:
            return first
        with memoryview(buf) as view:
            joined = b"".join([first, *(view[a:b] for a, b in spans)])
        self._pos = pos
        return joined

    # -- raw HTTP (Neoway recvmode 0) -------------------------------------------------------

    def _step_raw(self, raw: RawHttpResponse) -> Optional[Frame]:
        data = bytes(self._buf[self._pos:])
        consumed, frames = raw.take(data, at_eof=self._closed)
        self._pos += consumed
        if raw.done:
            self._raw = None
            self.http_method = "GET"
            if frames and isinstance(frames[-1], FramingError) and not raw.refused:  # what follows a bad head is no frame
                self._resync()
        elif consumed == 0 or not frames:
            self._waiting = True
        self._queue.extend(frames)
        return self._queue.popleft() if self._queue else None

    # -- lines -------------------------------------------------------------------------

    def _step_held_line(self, held: Info) -> Optional[Frame]:
        line = self._take_line()
        if line is None:
            return self._overlong()
        self._held_line = None
        return Info(held.name, held.fields, held.variant, line, held.unsolicited, held.raw)

    def _classify(self, line: bytes) -> Optional[Frame]:
        text = line.decode("utf-8", errors="replace").strip(" \t\x00")
        if not text:
            return None
        if text[:2].upper() == "AT":
            self._note_echo(text)
            return Echo(line)
        final = self._final(text)
        if final is not None:
            return final
        prefix = _PREFIX.match(line.lstrip())
        if prefix is None:
            return Line(line)
        name = prefix.group().rstrip(b": \t").decode()
        rest = line.lstrip()[prefix.end():].decode("utf-8", errors="replace")
        spec = self.dialect.frames.get(name)
        if spec is None:
            return self._undeclared(name, rest, line)
        return self._declared(spec, rest, line)

    def _final(self, text: str) -> Optional[Final]:
        final = self.dialect.final
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

    def _undeclared(self, name: str, rest: str, line: bytes) -> Frame:
        try:
            values = split_params(rest, rest_from=_UNDECLARED_FIELDS - 1)
        except ParamSyntaxError:
            return Info(name, (("1", rest.strip()),), raw=line)
        return Info(name, tuple((str(i + 1), p.text) for i, p in enumerate(values)), raw=line)

    def _declared(self, spec: FrameSpec, rest: str, line: bytes) -> Optional[Frame]:
        if spec.bare == "raw_http" and not rest.strip():
            self._raw = RawHttpResponse(self.http_method, spec.closed_by, self.body_block)
            return Info(spec.name, (), None, None, spec.unsolicited, line)
        variant = None
        shape = spec.shape
        if spec.variants:
            try:
                first = split_params(rest, rest_from=1)
            except ParamSyntaxError as exc:
                return FramingError(f"{spec.name}: {exc}", line[:64])
            if not first or not first[0].quoted:  # no discriminator: a test-form answer
                return self._undeclared(spec.name, rest, line)
            variant = first[0].text
            shape = spec.variants.get(variant)
            if shape is None:
                return FramingError(f"{spec.name}: unknown variant {variant!r}", line[:64])
            rest = first[1].text if len(first) > 1 else ""
        if shape is None:
            return self._undeclared(spec.name, rest, line)
        try:
            values = split_params(rest, rest_from=len(shape.fields) - 1) if shape.fields else ()
        except ParamSyntaxError as exc:
            return FramingError(f"{spec.name}: {exc}", line[:64])
        if shape.payload is not None and len(values) == len(shape.fields):
            # the prefix regex did not match, so the length field is no number
            return FramingError(f"{spec.name}: <{shape.payload.length}> is not a length", line[:64])
        if len(values) < shape.required:
            return FramingError(f"{spec.name}: {len(values)} fields, at least {shape.required} expected", line[:64])
        info = Info(spec.name, tuple(zip(shape.fields, (v.text for v in values))), variant, None, spec.unsolicited, line)
        if spec.next_line:
            self._held_line = info
            return None
        return info

    def _note_echo(self, text: str) -> None:
        """An echoed request command tells whether the raw response coming answers a HEAD: the
        command whose parameter is an enum meaning Methods (Neoway AT+HTTPACTION=<mode>)."""
        try:
            command = parse_command(text, self.dialect)
        except ParamSyntaxError:
            return
        found = method_param(self.dialect, command.name)
        if found is not None and len(command.params) > found[0]:
            meaning = found[1].meaning(command.params[found[0]].text.strip())
            self.http_method = "HEAD" if meaning is Method.HEAD else "GET"


def method_param(dialect: Dialect, name: str) -> Optional[tuple[int, EnumMeanings]]:
    """(position, meanings) of the set-form parameter of command `name` whose enum means Methods."""
    spec = dialect.command(name)
    form = spec.forms.get("set") if spec else None
    for index, param in enumerate(form.params if form else ()):
        means = dialect.meanings.get(param.enum or "")
        if means is not None and means.of_type(Method):
            return index, means
    return None


_NOT_FRAMED = object()
# A line start that begins a frame, where abandon_payload resynchronises (bounded quantifiers).
_FRAME_START = re.compile(rb"[\r\n](?=(?:OK|ERROR)(?:[\r\n]|\Z)|\+[A-Za-z0-9$#^_]{1,32}[ \t]{0,8}:|AT|>)")


def _compile_patterns(dialect: Dialect) -> dict[str, list[_Pattern]]:
    """A prefix regex for every shape that carries a payload or may lack its terminator."""
    patterns: dict[str, list[_Pattern]] = {}
    for frame in dialect.frames.values():
        for variant, shape in frame.shapes():
            if shape.payload is None and not shape.unterminated:
                continue
            regex = re.escape(frame.name.encode()) + rb"[ \t]*+:[ \t]*+"
            if variant is not None:
                regex += rb'"' + re.escape(variant.encode()) + rb'"[ \t]*+,'
            if shape.payload is not None:
                for name in shape.fields[:-1]:
                    regex += _LENGTH_FIELD if name == shape.payload.length else _FIELD
            else:  # unterminated: all fields, the last one ended by whatever follows it
                regex += _FIELD * (len(shape.fields) - 1) + _LAST_NUMBER
            patterns.setdefault(frame.name, []).append(_Pattern(frame, variant, shape, re.compile(regex)))
    return patterns
