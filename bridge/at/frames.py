"""What the framers produce: one value per command, response, URC, prompt or payload.

These are AT-level frames, below the request model.  Every frame keeps enough to be
re-encoded and to be printed as one JSON object (see :func:`to_json`).
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, fields as dc_fields
from typing import Any, Optional, Union


@dataclass(frozen=True)
class Param:
    """One command parameter as written: its text without quotes, and whether it was quoted."""

    text: str
    quoted: bool = False


@dataclass(frozen=True)
class Command:
    """A command line from the host.  `name` is upper case without "AT" and the leading '+'
    ("MHTTPCREATE", "E", "I"); `form` is test / read / set / execute."""

    name: str
    form: str
    params: tuple[Param, ...] = ()
    raw: bytes = b""


@dataclass(frozen=True)
class DataInput:
    """Raw bytes typed after the prompt.  `ended_by` is length, ctrl_z or esc (cancelled)."""

    data: bytes
    ended_by: str

    @property
    def cancelled(self) -> bool:
        return self.ended_by == "esc"


@dataclass(frozen=True)
class Echo:
    """The module repeating a command line (ATE1)."""

    raw: bytes


@dataclass(frozen=True)
class Prompt:
    """The module's data-mode prompt (">" or "> ")."""


@dataclass(frozen=True)
class Final:
    """A final result: OK, ERROR or +CME ERROR (numeric `code` or verbose `text`)."""

    result: str  # "OK" | "ERROR" | "CME"
    code: Optional[int] = None
    text: Optional[str] = None


@dataclass(frozen=True)
class Info:
    """An information response or URC line: `name` is its prefix ("+MHTTPURC"), `variant` the
    quoted discriminator where the dialect declares one, `fields` the values by declared name
    (or positional "1", "2", ... for undeclared prefixes), `payload` the length-framed data."""

    name: str
    fields: tuple[tuple[str, str], ...] = ()
    variant: Optional[str] = None
    payload: Optional[bytes] = None
    unsolicited: bool = False
    raw: bytes = b""

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:
        for name, value in self.fields:
            if name == key:
                return value
        return default

    def int(self, key: str, default: int = 0) -> int:
        """The field as a number; `default` if absent or empty.  A value that is not a number of
        at most 18 ASCII digits (e.g. "²", or 5000 digits) raises :class:`FieldError`."""
        value = self.get(key)
        if value in (None, ""):
            return default
        number = parse_int(value)
        if number is None:
            raise FieldError(f"{self.name}: <{key}> is not a number: {value[:32]!r}")
        return number


@dataclass(frozen=True)
class Line:
    """A line that is none of the above (e.g. "RING", an ATI text line)."""

    raw: bytes


@dataclass(frozen=True)
class HttpHead:
    """Start of a raw HTTP response (Neoway recvmode 0) with its header block."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    raw: bytes


@dataclass(frozen=True)
class HttpBody:
    data: bytes
    offset: int


@dataclass(frozen=True)
class HttpEnd:
    """End of a raw HTTP response; `by` is "length" (HTTP framing) or the closing URC's name."""

    length: int
    by: str = "length"


@dataclass(frozen=True)
class FramingError:
    """Input that could not be framed; the framer skipped `raw` and resynchronised."""

    reason: str
    raw: bytes = b""


class FieldError(ValueError):
    """A frame's field is not what its use needs (e.g. a length that is no number)."""


_INT = re.compile(r"-?[0-9]+")


def parse_int(text: str, max_digits: int = 18) -> Optional[int]:
    """`text` as an int if it is an optional '-' and 1..`max_digits` ASCII digits, else None.
    Unlike int(), refuses "²", "1_000", " 1" and numbers too long to convert cheaply."""
    if len(text) > max_digits + text.startswith("-") or _INT.fullmatch(text) is None:
        return None
    return int(text)


Frame = Union[Command, DataInput, Echo, Prompt, Final, Info, Line, HttpHead, HttpBody, HttpEnd, FramingError]


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        try:
            return {"text": bytes(value).decode("ascii")} if bytes(value).isascii() else {"base64": base64.b64encode(value).decode()}
        except UnicodeDecodeError:  # pragma: no cover - isascii guards
            return {"base64": base64.b64encode(value).decode()}
    if isinstance(value, Param):
        return {"text": value.text, "quoted": value.quoted}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def to_dict(frame: Frame) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(frame).__name__}
    for f in dc_fields(frame):
        value = getattr(frame, f.name)
        if f.name == "fields":
            out["fields"] = {k: v for k, v in value}
        else:
            out[f.name] = _jsonable(value)
    return out


def to_json(frame: Frame) -> str:
    return json.dumps(to_dict(frame), ensure_ascii=False)
