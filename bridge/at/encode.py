"""Frames back into the bytes a module writes (a host side hands pass-through answers and
unrelated URCs on as raw bytes, which a bridge writes to the firmware unchanged), and the command
lines a host writes (:func:`command_line`)."""
from __future__ import annotations

from typing import Union

from bridge.at.dialect import Dialect
from bridge.at.frames import Final, Frame, Info

CRLF = b"\r\n"


def final_bytes(final: Final) -> bytes:
    """A final result as a module writes it."""
    if final.result in ("OK", "ERROR"):
        text = final.result
    else:
        value = final.code if final.code is not None else (final.text or "")
        text = f"+{'CME' if final.result == 'CME' else 'CMS'} ERROR: {value}"
    return CRLF + text.encode() + CRLF


def frame_bytes(frame: Frame, dialect: Dialect) -> bytes:
    """An information line, URC or text line as a module writes it: a +CMT with its PDU line,
    a length-framed payload raw (HEX output comes back decoded)."""
    if isinstance(frame, Final):
        return final_bytes(frame)
    if isinstance(frame, Info) and frame.payload is not None:
        spec = dialect.frames.get(frame.name)
        joint = CRLF if spec is not None and spec.next_line else b""
        return CRLF + frame.raw + joint + frame.payload + CRLF
    return CRLF + getattr(frame, "raw", b"") + CRLF


class Bare(str):
    """A string parameter written without quotes (Neoway HTTPPARA's <para>)."""


class Unwritable(ValueError):
    """A string that no command line can carry: it holds a quote or a line end."""


def command_line(name: str, *params: Union[int, str, None]) -> bytes:
    """AT+NAME=p1,p2,... as a host writes it: strings quoted (Bare ones not), ints bare, None
    empty (trailing ones left out).  Raises :class:`Unwritable`."""
    values = list(params)
    while values and values[-1] is None:
        values.pop()
    return f"AT+{name}={','.join(command_param(value) for value in values)}".encode("latin-1")


def command_param(value: Union[int, str, None]) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    quotable(value)
    return value if isinstance(value, Bare) else f'"{value}"'


def quotable(value: str) -> str:
    """`value`, to go between quotes in a command line; raises :class:`Unwritable` if it cannot."""
    if '"' in value or "\r" in value or "\n" in value:
        raise Unwritable(f"{value!r}: a quote or line end cannot go in a command")
    return value
