"""Framing the bytes a host writes: command lines and data-mode input.

Data mode follows a command only where the dialect's `data_mode` rule says so.  With
`auto_data_mode` (decoding a capture) the framer applies that rule itself; a module side that
validates a command before it prompts turns it off and calls :meth:`CommandFramer.expect_data`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from bridge.at.dialect import CommandSpec, DataModeSpec, Dialect
from bridge.at.frames import Command, DataInput, Frame, FramingError, Param, parse_int
from bridge.at.framer import TERMINATOR, Framer
from bridge.at.params import ParamSyntaxError, split_params

CTRL_Z = 0x1A
ESC = 0x1B
_DATA_END = re.compile(rb"[\x1a\x1b]")
_BACKSPACE = re.compile(rb"[\x08\x7f]")  # V.250 S5 (BS) and DEL, as terminals send them
_REPEAT = (b"A/", b"a/")  # V.250 6.2.2: repeat the last command line, no terminator
_BASIC = re.compile(r"([A-Z&])([0-9]*)", re.A)  # ASCII digits: "ATE²" is no basic command with a value
# An extended command line as plain as a pass-through line is: no blanks, a short name.
_PLAIN_KEY = re.compile(rb"AT([+$^#%*][A-Za-z0-9_]{1,32})(=\?|\?|=)?", re.I)
_FORMS = {None: "execute", b"?": "read", b"=?": "test", b"=": "set"}
_PARSED_KEPT = 64  # command lines whose Command is kept: firmware repeats its lines


@dataclass
class _DataState:
    length: Optional[int]  # None: ends at Ctrl-Z
    max_len: int
    got: bytearray
    overflow: bool = False


class CommandFramer(Framer):
    """Host -> module bytes into :class:`Command` and :class:`DataInput` frames."""

    def __init__(self, dialect: Dialect, auto_data_mode: bool = True):
        super().__init__(dialect.line_max)
        self.dialect = dialect
        self.auto_data_mode = auto_data_mode
        self._data: Optional[_DataState] = None
        self._last_line: Optional[bytes] = None  # for A/
        self._parsed: dict[bytes, Command] = {}  # line -> its Command (frozen), for a line seen again

    # -- data mode -------------------------------------------------------------------

    def expect_data(self, length: Optional[int] = None, max_len: int = 4096, after_prompt: bool = False) -> None:
        """The next bytes are data: exactly `length` of them, or up to Ctrl-Z when None.
        ESC cancels while waiting for Ctrl-Z.  `after_prompt`: the module has prompted, so an LF
        that has not arrived yet is data, not the rest of the command line's CR LF (an LF that
        came with the CR is still the line's)."""
        self._data = _DataState(length=length, max_len=max_len, got=bytearray())
        if after_prompt:
            self._skip_lf = False

    @property
    def drained(self) -> bool:
        """Nothing buffered, not in data mode, not closed: :meth:`next_frame` would say NEED_DATA."""
        return self._pos >= len(self._buf) and self._data is None and not self._closed

    @property
    def in_data_mode(self) -> bool:
        return self._data is not None

    def end_data(self) -> bytes:
        """Leave data mode now (the input timeout); returns what had arrived."""
        state, self._data = self._data, None
        return bytes(state.got) if state else b""

    # -- the bridge's fast path --------------------------------------------------------

    def whole_line(self, data: bytes) -> Optional[bytes]:
        """`data` as one command line without its terminator, when the framer is between two
        lines and `data` is exactly one line of its own that starts with AT, with no backspace
        and not over line_max -- a line the bridge may pass on raw (then :meth:`pass_line`);
        None otherwise (frame `data` as usual).  Changes nothing."""
        if self._data is not None or self._discarding or self._pos < len(self._buf) or self.auto_data_mode:
            return None
        end = len(data) - (2 if data.endswith(b"\r\n") else 1)
        if end < 2 or data[end] not in (0x0D, 0x0A) or end > self.line_max or data[:2].upper() != b"AT":
            return None
        line = data[:end]
        if TERMINATOR.search(line) or _BACKSPACE.search(line):
            return None
        return line

    def whole_frame(self, data: bytes) -> Optional[Frame]:
        """The frame of `data` when it is one whole line by itself as :meth:`whole_line` says
        (the framer between two lines, no data mode), framed at once and the framer after it as
        :meth:`next_frame` would leave it; None: nothing done (receive it as usual)."""
        line = None if self._closed else self.whole_line(data)
        if line is None:
            return None
        frame = self._frame_line(line)
        self._skip_lf = data[-1] == 0x0D
        return frame

    def pass_line(self, line: bytes, data: bytes) -> None:
        """`data`, the line :meth:`whole_line` gave, was taken by the fast path: the framer is after
        it as if it had framed it (A/ repeats it; an LF after its CR is still part of it)."""
        self._last_line = line
        self._skip_lf = data[-1] == 0x0D

    def command_key(self, line: bytes) -> Optional[tuple[str, str]]:
        """(name, form) of `line` as :func:`parse_command` gives them, for a plain extended command
        line (AT+NAME, AT+NAME?, AT+NAME=?, AT+NAME=<params> whose parameters split without fault);
        None for any other line (which the module side frames as usual)."""
        match = _PLAIN_KEY.match(line)
        if match is None:
            return None
        mark = match.group(2)
        if mark != b"=":
            return (match.group(1).lstrip(b"+").upper().decode(), _FORMS[mark]) if match.end() == len(line) else None
        params = line[match.end():]
        if _decoded(params).strip() == "?":
            return None  # "AT+NAME= ?" is the test form, spelt unusually
        if b'"' in params:  # quotes can be unbalanced: parse it as the module side would
            try:
                parse_command(_decoded(line).strip(" \t\x00"), self.dialect, line)
            except ParamSyntaxError:
                return None
        return match.group(1).lstrip(b"+").upper().decode(), "set"

    # -- framing -------------------------------------------------------------------

    def _step(self) -> Optional[Frame]:
        if self._data is not None:
            return self._step_data(self._data)
        self._skip_blank()
        if self._pos >= len(self._buf):
            return None
        if bytes(self._buf[self._pos:self._pos + 2]) in _REPEAT:
            self._pos += 2
            if self._last_line is None:
                return FramingError("A/ with no earlier command line", b"A/")
            return self._frame_line(self._last_line)
        line = self._take_line()
        if line is None:
            return self._overlong()
        return self._frame_line(line)

    def _step_data(self, state: _DataState) -> Optional[Frame]:
        buf, pos = self._buf, self._pos
        if state.length is not None:
            take = min(state.length - len(state.got), len(buf) - pos)
            state.got += buf[pos:pos + take]
            self._pos = pos + take
            if len(state.got) < state.length:
                self._waiting = True
                return None
            return self._finish_data("length")
        match = _DATA_END.search(buf, pos)
        end = match.start() if match else len(buf)
        self._pos = end if match is None else end + 1
        if not state.overflow:
            state.got += buf[pos:end]
            if len(state.got) > state.max_len:
                state.overflow = True
                state.got.clear()
                if match is not None:
                    self._data = None
                return FramingError(f"data longer than {state.max_len} bytes; skipped to Ctrl-Z or ESC")
        if match is None:
            self._waiting = True
            return None
        if state.overflow:
            self._data = None
            return None
        return self._finish_data("ctrl_z" if buf[end] == CTRL_Z else "esc")

    def _finish_data(self, ended_by: str) -> DataInput:
        state, self._data = self._data, None
        assert state is not None
        return DataInput(bytes(state.got), ended_by)

    def _at_eof(self) -> Optional[Frame]:
        if self._data is not None:
            got = self.end_data()
            return FramingError("input ended inside data mode", got[:64])
        if self._pos < len(self._buf):
            line = bytes(self._buf[self._pos:])
            self._pos = len(self._buf)
            return self._frame_line(line)
        return None

    # -- command lines -------------------------------------------------------------

    def _frame_line(self, line: bytes) -> Frame:
        command = self._parsed.get(line)
        if command is None:
            parsed = self._parse_line(line)
            if not isinstance(parsed, Command):
                return parsed
            command = parsed
            if parsed.raw == line:  # no backspace in it
                if len(self._parsed) >= _PARSED_KEPT:
                    self._parsed.clear()
                self._parsed[line] = parsed
        self._last_line = command.raw
        if self.auto_data_mode:
            self._auto_data(command)
        return command

    def _parse_line(self, line: bytes) -> Frame:
        """The Command of a line (its backspaces applied), or a FramingError."""
        if _BACKSPACE.search(line):
            line = _apply_backspaces(line)
        stripped = _decoded(line).strip(" \t\x00")
        if stripped[:2].upper() != "AT":
            return FramingError("not a command: a command line starts with AT", line[:64])
        try:
            return parse_command(stripped, self.dialect, line)
        except ParamSyntaxError as exc:
            return FramingError(str(exc), line[:64])

    def _auto_data(self, command: Command) -> None:
        spec = self.dialect.command(command.name)
        rule = spec.forms[command.form].data_mode if spec and command.form in spec.forms else None
        if rule is None or spec is None:
            return
        decision = data_mode_for(spec, command, rule)
        if decision is not None:
            self.expect_data(decision, rule.max_len) if decision >= 0 else self.expect_data(None, rule.max_len)


def _decoded(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _apply_backspaces(line: bytes) -> bytes:
    """A typed line with each BS / DEL removing the character before it."""
    parts = _BACKSPACE.split(line)
    kept = bytearray(parts[0])
    for part in parts[1:]:
        del kept[-1:]
        kept += part
    return bytes(kept)


def data_mode_for(spec: CommandSpec, command: Command, rule: DataModeSpec) -> Optional[int]:
    """Whether `command` enters data mode under `rule`: None (no), -1 (until Ctrl-Z) or the length."""
    def value(name: Optional[str]) -> Optional[str]:
        index = spec.param_index(command.form, name) if name else None
        if index is None or index >= len(command.params):
            return None
        text = command.params[index].text
        return text if text != "" or command.params[index].quoted else None

    if rule.when_param and value(rule.when_param) not in rule.when_in:
        return None
    if rule.unless_param and value(rule.unless_param) is not None:
        return None
    text = value(rule.length_param)
    length = parse_int(text, 10) if text is not None else None
    if text is not None and (length is None or not 0 <= length <= rule.max_len):
        return None  # no number, or out of range: the module refuses it, no prompt
    if length:
        return length
    if rule.ctrl_z:
        return -1
    return None


def parse_command(text: str, dialect: Dialect, raw: bytes = b"") -> Command:
    """One command line (without terminator), e.g. 'AT+HTTPPARA =url, host/path'."""
    body = text[2:]
    if body[:1] in ("+", "$", "^", "#", "%", "*"):
        return _extended(body, dialect, raw)
    name_part = body.replace(" ", "").upper()
    if not name_part:
        return Command(name="", form="execute", raw=raw)
    basic = _BASIC.fullmatch(name_part)
    if basic and basic.group(2):
        return Command(name=basic.group(1), form="set", params=(Param(basic.group(2)),), raw=raw)
    if basic:
        return Command(name=basic.group(1), form="execute", raw=raw)
    return _extended(body, dialect, raw)


def _extended(body: str, dialect: Dialect, raw: bytes) -> Command:
    cut = len(body)
    for mark in ("=", "?"):
        found = body.find(mark)
        if 0 <= found < cut:
            cut = found
    name = body[:cut].replace(" ", "").lstrip("+").upper()
    rest = body[cut:]
    if rest.startswith("=") and rest[1:].strip() == "?":
        return Command(name=name, form="test", raw=raw)
    if rest.strip() == "?":
        return Command(name=name, form="read", raw=raw)
    if not rest.startswith("="):
        if rest.strip():
            raise ParamSyntaxError("text after the command name")
        return Command(name=name, form="execute", raw=raw)
    params_text = rest[1:]
    params = split_params(params_text, rest_from=_rest_index(_declared_params(dialect.command(name), params_text)))
    return Command(name=name, form="set", params=params, raw=raw)


def _declared_params(spec: Optional[CommandSpec], params_text: str) -> tuple:
    """The set form's parameters; for a command with named settings (MHTTPCFG), the setting's."""
    form = spec.forms.get("set") if spec else None
    if spec is None or form is None:
        return ()
    if spec.settings and form.params:
        head = split_params(params_text, rest_from=1)
        setting = spec.settings.get(head[0].text) if head else None
        if setting is not None:
            return (form.params[0],) + setting
    return form.params


def _rest_index(params) -> Optional[int]:
    """The last declared parameter takes the rest of the line when it is free text."""
    if not params:
        return None
    last = params[-1]
    return len(params) - 1 if last.type == "string" and last.quoted != "required" else None
