"""Turning one HTTP response into +HTTPRECV / +HTTPSRECV output, in either receive mode.

recvmode 0: a bare "+HTTPRECV:" line, then the response as HTTP bytes: status line, headers,
the empty line, the body.  recvmode 1: "+HTTPRECV: <len>,<data>" CRLF pieces of at most
`piece_max` raw bytes; the first piece starts with the status line and carries the head and
the first body bytes together (as the manual's 803-byte example does).

The executor hands over a de-chunked body.  A response the server sent chunked is re-chunked
here -- one chunk per received piece, then "0" CRLF CRLF -- so the bytes stay a valid HTTP
message whose headers (Transfer-Encoding: chunked) tell the truth; only the chunk sizes may
differ from the server's.  Everything else is passed through as received.
"""
from __future__ import annotations

import functools

from bridge.at.dialect import load
from bridge.http import has_body
from bridge.model import ResponseHead

CRLF = b"\r\n"


def _chunked(head: ResponseHead, method: str) -> bool:
    coding = ",".join(value for name, value in head.headers if name.lower() == "transfer-encoding")
    return has_body(method, head.status) and "chunked" in coding.lower()


@functools.lru_cache(maxsize=None)
def _framed() -> str:
    """The <recvmode> that frames a response in pieces (neoway.yaml enum recvmode)."""
    return load("neoway").means("recvmode").token("framed")


class RecvWriter:
    def __init__(self, prefix: str, recvmode: str, method: str, piece_max: int = 4096) -> None:
        self.prefix = prefix.encode()
        self.pieces = recvmode == _framed()
        self.method = method
        self.piece_max = piece_max
        self._held = b""       # recvmode 1: the head, waiting for the first body bytes
        self._chunked = False
        self.sent = 0          # raw HTTP bytes written so far

    def head(self, head: ResponseHead) -> bytes:
        self._chunked = _chunked(head, self.method)
        raw = head.raw + CRLF
        if self.pieces:
            self._held = raw
            return b""
        self.sent += len(raw)
        return CRLF + self.prefix + b":" + CRLF + raw

    def body(self, data: bytes) -> bytes:
        if self._chunked and data:
            data = b"%x\r\n" % len(data) + data + CRLF
        return self._emit(data)

    def end(self) -> bytes:
        """The response is complete."""
        return self._emit(b"0\r\n\r\n" if self._chunked else b"")

    def abort(self) -> bytes:
        """The response stops short: what is held goes out as it is."""
        return self._emit(b"")

    def _emit(self, data: bytes) -> bytes:
        if self._held:
            data, self._held = self._held + data, b""
        self.sent += len(data)
        if not self.pieces or not data:
            return data
        return self._pieces(data)

    def _pieces(self, data: bytes) -> bytes:
        """`data` as "+HTTPRECV: <len>,<data>" CRLF pieces of `piece_max` bytes, the last of what
        is left: one join, the pieces' heads and ends laid out beside them."""
        step = self.piece_max
        count = -(-len(data) // step)
        last = len(data) - (count - 1) * step
        parts: list = [CRLF + self.prefix + b": %d," % step] * (3 * count)
        parts[-3] = CRLF + self.prefix + b": %d," % last
        with memoryview(data) as view:
            parts[1::3] = [view[start:start + step] for start in range(0, len(data), step)]
            parts[2::3] = [CRLF] * count
            return b"".join(parts)
