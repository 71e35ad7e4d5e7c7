"""Frames back into the bytes a module writes.  A host side hands pass-through answers and
unrelated URCs on as raw bytes (a bridge writes them to the firmware unchanged)."""
from __future__ import annotations

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
