"""Framing the bytes a module writes: echo, prompts, final results, responses and URCs --
including URCs whose payload is framed by a length field and may hold any byte
(:mod:`bridge.at.payloads`), and the bridge's fast path for a plain answer (:mod:`bridge.at.answers`).
"""
from __future__ import annotations

import re
from collections import deque
from typing import Callable, Optional

from bridge.at.answers import PlainAnswers, final_result
from bridge.at.dialect import Dialect, FrameSpec
from bridge.at.meaning import EnumMeanings
from bridge.at.frames import Echo, Final, Frame, FramingError, Info, Line, Prompt
from bridge.at.framer import TERMINATOR, Framer
from bridge.at.commands import parse_command
from bridge.at.params import ParamSyntaxError, split_params
from bridge.at.payloads import _PREFIX, _PREFIX_PROBE, _compile_patterns, _Pattern, _Payload, field_values, payload_run
from bridge.at.rawhttp import RawHttpResponse
from bridge.model import Method

_UNDECLARED_FIELDS = 32  # an undeclared line's fields; the last takes the rest of a longer line


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
        self._runs: dict[tuple[str, Optional[str]], _Pattern] = {}  # take_payload_run's: a name's first payload pattern
        for pattern in (p for patterns in self._patterns.values() for p in patterns if p.shape.payload):
            self._runs.setdefault((pattern.frame.name, pattern.variant), pattern)
        self._queue: deque[Frame] = deque()
        self._payload: Optional[_Payload] = None
        self._raw: Optional[RawHttpResponse] = None
        self._held_line: Optional[Info] = None  # a +CMT waiting for its PDU line
        # "+NAME" of the frames an answer line must not be taken raw for: a payload or a missing
        # terminator (the patterns), a next line that belongs to it, raw HTTP after it, variants.
        self._answers = PlainAnswers(dialect, frozenset(self._patterns) | frozenset(
            name for name, spec in dialect.frames.items() if spec.next_line or spec.bare or spec.variants))
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

    def _resync(self) -> None:
        found = _FRAME_START.search(self._buf, self._pos)
        if found is not None:
            self._pos = found.start() + 1
            return
        last = self._buf[-1] if len(self._buf) > self._pos else None
        self._pos = len(self._buf)
        self._discarding = last not in (0x0D, 0x0A)  # the rest of this line is the payload's too
        self._skip_lf = last == 0x0D

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
        return self._answers.end(self._buf, self._pos, name, self.line_max, self.answer_max)

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

    def whole_answer(self, data: bytes, name: str) -> bool:
        """Whether `data`, not yet received, is by itself one whole plain answer to the command
        named `name` (:meth:`plain_answer_end` on it alone), with nothing buffered before it --
        so it may go on as it came, never framed."""
        return self.at_rest and self._answers.whole(data, name, self.line_max, self.answer_max)

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

    def _framed_match(self, pattern: _Pattern, match: re.Match, start: Optional[int] = None) -> Optional[Frame]:
        """The frame whose prefix `match` matched (from `start`, if not where the match starts)."""
        shape = pattern.shape
        prefix = bytes(match.group()) if start is None else bytes(self._buf[start:match.end()])
        self._pos = match.end()
        if shape.payload is None:  # an unterminated short URC ("ind")
            fields = tuple(zip(shape.fields, field_values(match.groups())))
            return Info(pattern.frame.name, fields, pattern.variant, None, pattern.frame.unsolicited, prefix)
        length = int(match.group(pattern.length_at + 1))  # digits only, as the regex has it
        if length > self.dialect.payload_max:
            self._discarding = True
            return FramingError(f"{pattern.frame.name} length {length} is above {self.dialect.payload_max}", prefix)
        self._payload = _Payload(pattern, match.groups(), length, prefix, None if shape.payload.hex else False)
        return None

    def _step_payload(self, payload: _Payload) -> Optional[Frame]:
        taken = payload.take(self._buf, self._pos)
        if taken is None:
            self._waiting = True
            return None
        data, need = taken
        self._pos += need
        self._payload = None
        pattern = payload.pattern
        return Info(pattern.frame.name, payload.fields, pattern.variant, data, pattern.frame.unsolicited, payload.prefix)

    # -- a run of payload frames (a host side's body pump) -----------------------------------

    def take_payload_run(self, name: str, variant: Optional[str], accept: Callable[[tuple[bytes, ...], int], bool],
                         first: bytes = b"") -> bytes:
        """`first`, then the payloads of the whole frames of `name` (`variant`) buffered one after
        another at the cursor, joined once and consumed, while `accept(fields, length)` takes each
        (`fields`: the fields before the payload as they came, blanks and quotes included).

        Only frames that :meth:`next_frame` would give exactly so: taken between two frames, or
        from the payload of such a frame being read, each payload raw -- its `length` bytes
        followed by CR, where HEX output is still hex digits -- and at most `payload_max`.  A frame
        of another kind, one not whole yet, or one `accept` refuses ends the run and stays
        buffered for :meth:`next_frame`."""
        pattern = self._runs.get((name, variant))
        if pattern is None or (self._queue or self._discarding or self._skip_lf or self._raw is not None
                               or self._held_line is not None):
            return first
        spans = []
        if self._payload is not None:
            span = self._whole_payload(pattern, accept)
            if span is None:
                return first
            spans.append(span)
        joined, self._pos = payload_run(self._buf, self._pos, pattern, self.dialect.payload_max, accept, first, spans)
        return joined

    def receive_run(self, data: bytes, name: str, variant: Optional[str],
                    accept: Callable[[tuple[bytes, ...], int], bool]) -> bytes:
        """:meth:`receive_data` then :meth:`take_payload_run` -- the same payloads, frames after and
        bytes buffered -- where the buffer holds nothing but the start of a raw payload of `name`
        (`variant`) being read and `data` completes it: the run is then cut from `data` itself,
        and only what follows it is buffered (a body pump's read is not copied in first)."""
        payload, buf = self._payload, self._buf
        held = len(buf) - self._pos
        need = payload.length - held if payload is not None else 0
        if (need <= 0 or need >= len(data) or data[need] != 0x0D or payload.hex is not False  # type: ignore[union-attr]
                or payload.pattern is not self._runs.get((name, variant)) or self._queue or self._discarding
                or self._skip_lf or self._raw is not None or self._held_line is not None):
            self.receive_data(data)
            return self.take_payload_run(name, variant, accept)
        if not accept(payload.groups, payload.length):
            self.receive_data(data)
            return b""
        first = bytes(buf[self._pos:])
        joined, end = payload_run(data, need, payload.pattern, self.dialect.payload_max, accept, first, [(0, need)])
        self._payload = None
        buf.clear()
        with memoryview(data) as view:
            buf += view[end:]
        self._pos = 0
        return joined

    def start_payload(self, name: str, variant: Optional[str]) -> bool:
        """Between two frames, start reading the frame of `name` (`variant`) at the cursor when its
        prefix is in and its raw payload is not whole yet -- as :meth:`next_frame` would start it,
        only cheaper: the prefix is consumed, :attr:`in_payload` is true.  True: it did, and
        :meth:`next_frame` has nothing to give until more bytes come.  Anything else (another
        frame, a whole one, a length above `payload_max`, one that may be HEX) is left to
        :meth:`next_frame`."""
        patterns = self._patterns.get(name, ())
        pattern = patterns[0] if len(patterns) == 1 else None  # with more, next_frame tries them in turn
        if (pattern is None or pattern.run is None or pattern.variant != variant or pattern.shape.payload.hex  # type: ignore[union-attr]
                or self._queue or self._discarding or self._skip_lf or self._payload is not None or self._raw is not None
                or self._held_line is not None):
            return False
        buf = self._buf
        match = pattern.run.match(buf, self._pos)
        if match is None:
            return False
        length = int(match.group(pattern.length_at + 1))
        if length > self.dialect.payload_max or len(buf) - match.end() >= length:
            return False
        self._pos = buf.index(b"+", self._pos)  # after the blanks, as _skip_blank leaves it
        self._framed_match(pattern, match, self._pos)
        return True

    def _whole_payload(self, pattern: _Pattern, accept: Callable[[tuple[bytes, ...], int], bool]) -> Optional[tuple[int, int]]:
        """Where the payload being read lies, consumed, if it is of `pattern`, raw, whole and
        followed by CR, and `accept` takes it (as payload_run takes a frame); else None."""
        payload, buf, pos = self._payload, self._buf, self._pos
        assert payload is not None
        stop = pos + payload.length
        if (payload.pattern is not pattern or payload.hex is not False or stop >= len(buf) or buf[stop] != 0x0D
                or not accept(payload.groups, payload.length)):
            return None
        self._payload, self._pos = None, stop
        return pos, stop

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
        return final_result(self.dialect, text)

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

