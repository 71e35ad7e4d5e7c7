"""`--trace`: JSON lines of host bytes, module bytes and model events, with timestamps.
Secret header values (Authorization, api-key, ...) are masked unless asked otherwise."""
from __future__ import annotations

import base64
import dataclasses
import json
import re
import threading
import time
from typing import Any, BinaryIO, Optional

SECRET_HEADERS = ("authorization", "proxy-authorization", "api-key", "x-api-key", "apikey", "cookie", "set-cookie", "token", "x-auth-token")
_SECRET_IN_BYTES = re.compile(rb"(?i)((?:" + b"|".join(re.escape(h.encode()) for h in SECRET_HEADERS) + rb")[ \t]*:[ \t]*)([^\r\n\"]+)")
MASK = b"***"


def mask_bytes(data: bytes) -> bytes:
    return _SECRET_IN_BYTES.sub(lambda m: m.group(1) + MASK, data)


def _mask_value(name: str, value: str) -> str:
    return MASK.decode() if name.lower() in SECRET_HEADERS else value


def _jsonable(value: Any, secrets: bool) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value) if secrets else mask_bytes(bytes(value))
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(data).decode()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = _jsonable(getattr(value, f.name), secrets)
        return out
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and all(isinstance(v, str) for v in value) and not secrets:
            return [value[0], _mask_value(value[0], value[1])]
        return [_jsonable(v, secrets) for v in value]
    if hasattr(value, "value") and not isinstance(value, (int, str)):
        return value.value
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


class Trace:
    """Writes one JSON object a line: {"t": seconds, "dir": ..., "data" | "event": ...}."""

    def __init__(self, stream: Optional[BinaryIO], secrets: bool = False):
        self._stream = stream
        self.secrets = secrets
        self._start = time.monotonic()
        self._lock = threading.Lock()

    def bytes(self, direction: str, data: bytes) -> None:
        self._write({"dir": direction, "data": _jsonable(data, self.secrets)})

    def event(self, direction: str, event: Any, token: Optional[int] = None) -> None:
        self._write({"dir": direction, "token": token, "event": _jsonable(event, self.secrets)})

    def _write(self, record: dict) -> None:
        if self._stream is None:
            return
        record = {"t": round(time.monotonic() - self._start, 6), **record}
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        with self._lock:
            self._stream.write(line)
            self._stream.flush()
