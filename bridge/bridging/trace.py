"""`--trace`: JSON lines of host bytes, module bytes and model events, with timestamps.

Credentials are masked unless asked otherwise (bridge/secrets.py holds the one list): the bytes of
each direction are masked whole line by whole line on the reassembled stream, so a header cut
across two reads is masked too; model events have their secret header values, URL passwords and
token query parameters masked.  Without a trace file nothing is done at all."""
from __future__ import annotations

import base64
import dataclasses
import json
import threading
import time
from typing import Any, BinaryIO, Optional

from bridge.secrets import MASK, StreamMasker, is_secret_header, mask_line, mask_text


def _jsonable(value: Any, secrets: bool) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _data(bytes(value) if secrets else mask_line(bytes(value)))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = _jsonable(getattr(value, f.name), secrets)
        return out
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and all(isinstance(v, str) for v in value) and not secrets:
            return [value[0], MASK.decode() if is_secret_header(value[0]) else mask_text(value[1])]
        return [_jsonable(v, secrets) for v in value]
    if hasattr(value, "value") and not isinstance(value, (int, str)):
        return value.value
    if isinstance(value, str):
        return value if secrets else mask_text(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return repr(value) if secrets else mask_text(repr(value))


def _data(data: bytes) -> Any:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode()}


class Trace:
    """Writes one JSON object a line: {"t": seconds, "dir": ..., "data" | "event": ...}."""

    def __init__(self, stream: Optional[BinaryIO], secrets: bool = False):
        self._stream = stream
        self.secrets = secrets
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self._maskers: dict[str, StreamMasker] = {}
        self._since: dict[str, float] = {}  # direction -> when the line it holds back began

    @property
    def enabled(self) -> bool:
        return self._stream is not None

    def bytes(self, direction: str, data: bytes) -> None:
        """Record what went `direction`.  A line held back for masking is recorded with the time
        its first byte arrived, so readers that order records by `t` see capture order."""
        if self._stream is None:
            return
        now = self._elapsed()
        if not self.secrets:
            masker = self._maskers.setdefault(direction, StreamMasker())
            since = self._since.pop(direction, now) if masker.holding else now
            data = masker.feed(bytes(data))
            if masker.holding:
                self._since[direction] = since if not data else now
            if not data:
                return
            now = since
        self._write({"t": now, "dir": direction, "data": _data(bytes(data))})

    def close(self) -> None:
        """Write what is still held back (an unterminated last line), masked."""
        for direction, masker in self._maskers.items():
            rest = masker.flush()
            if rest and self._stream is not None:
                self._write({"t": self._since.pop(direction, self._elapsed()), "dir": direction, "data": _data(rest)})

    def event(self, direction: str, event: Any, token: Optional[int] = None) -> None:
        if self._stream is None:
            return
        self._write({"dir": direction, "token": token, "event": _jsonable(event, self.secrets)})

    def _elapsed(self) -> float:
        return round(time.monotonic() - self._start, 6)

    def _write(self, record: dict) -> None:
        record = {"t": self._elapsed(), **record}
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        with self._lock:
            self._stream.write(line)
            self._stream.flush()
