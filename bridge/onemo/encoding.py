"""OneMO data encodings: <input_format> for data inside a command line, <output_format> for
URC payloads (MHTTPCFG "encoding").  Data typed after the ">" prompt is always raw and never
passes through here.

The format codes are the values of onemo.yaml's `input_format` enum that mean ascii, hex and
escaped (`output_format` has the first two alike).
"""
from __future__ import annotations

import re
from typing import Union

from bridge.at.dialect import load

ASCII, HEX, ESCAPED = (int(load("onemo").means("input_format").token(word)) for word in ("ascii", "hex", "escaped"))

_ESCAPE = re.compile(rb"\\(x[0-9A-Fa-f]{2}|[0-7]{1,3}|.)", re.S)
_SIMPLE = {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"a": b"\a", b"b": b"\b", b"f": b"\f", b"v": b"\v",
           b"\\": b"\\", b'"': b'"', b"'": b"'", b"?": b"?"}
_ESCAPED_PAIR = re.compile(r"\\.", re.S)


class DecodeError(ValueError):
    """Parameter text that is not valid in its input format."""


def line_charset(raw: bytes) -> str:
    """How the command framer decoded a line: as UTF-8, or else as Latin-1.  Encoding a parameter
    back the same way gives the bytes it was typed as."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def decode_input(text: str, input_format: int, charset: str = "utf-8") -> bytes:
    """The raw data that `text` (from a line decoded as `charset`) stands for in `input_format`;
    raises DecodeError."""
    if input_format == HEX:
        return _unhex(text)
    raw = text.encode(charset, "replace")
    if input_format == ESCAPED:
        return unescape(raw)
    return raw


def unescape(raw: bytes) -> bytes:
    """Backslash escapes (\\r \\n \\t \\" \\\\ \\xHH \\ooo ...) decoded; an unknown escape stays as written."""
    return _ESCAPE.sub(_escape_value, raw)


def _escape_value(match: "re.Match[bytes]") -> bytes:
    body = match.group(1)
    if body[:1] == b"x" and len(body) == 3:
        return bytes((int(body[1:], 16),))
    if body[:1].isdigit() and body[:1] in b"01234567":
        return bytes((int(body, 8) & 0xFF,))
    return _SIMPLE.get(body, match.group(0))


def _unhex(text: str) -> bytes:
    digits = text.strip()
    if len(digits) % 2:
        raise DecodeError("a HEX string needs an even number of digits")
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise DecodeError("not a HEX string") from None


def has_bare_quote(text: str, input_format: int) -> bool:
    """A '"' inside a string parameter, which ML30x modules refuse (fn 16, 20).  In escaped input
    a quote written as \\" is data, not a quote of the command line."""
    if input_format == ESCAPED:
        text = _ESCAPED_PAIR.sub("", text)
    return '"' in text


def encode_output(data: Union[bytes, memoryview], output_format: int) -> bytes:
    """URC payload bytes in `output_format` (HEX: two upper-case digits per byte)."""
    if output_format == HEX:
        return bytes(data).hex().upper().encode("ascii")
    return bytes(data)
