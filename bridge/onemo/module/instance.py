"""Per-instance state of the OneMO module side: the server an instance was created for, its
MHTTPCFG settings, the request-specific header and content being collected, the cache of
cached mode and the request in flight; and the bridge.model.Request an instance stands for."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import urlsplit

from bridge.at.dialect import Dialect
from bridge.model import Body, Method, Request, Timeouts, TlsSettings
from bridge.onemo.module.request import SCHEMES, field_name, keep_alive, merged_headers
from bridge.onemo.module.transfer import Transfer


@dataclass(frozen=True)
class BaseUrl:
    """What AT+MHTTPCREATE was given: "http(s)://host[:port][/base]"."""

    scheme: str
    netloc: str  # host[:port] as given
    path: str

    def url(self, path: str, tls: bool) -> str:
        """The request URL for `path`; `tls` (MHTTPCFG "ssl" enabled) makes it https."""
        scheme = "https" if tls else self.scheme
        if not path.startswith("/"):
            path = "/" + path
        return f"{scheme}://{self.netloc}{self.path.rstrip('/')}{path}"


def parse_base(text: str) -> Optional[BaseUrl]:
    """The server of AT+MHTTPCREATE, or None if it does not parse as http(s)://host[:port]."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme.lower() not in SCHEMES or not host or port == 0 or any(c.isspace() for c in parts.netloc):
        return None
    return BaseUrl(parts.scheme.lower(), parts.netloc, parts.path)


class Settings:
    """An instance's MHTTPCFG values as text, by setting and parameter name, starting at the
    YAML defaults ("header" is kept apart: it is a list of fields)."""

    def __init__(self, dialect: Dialect) -> None:
        specs = dialect.commands["MHTTPCFG"].settings
        self._values = {setting: {p.name: p.default for p in params[1:]}
                        for setting, params in specs.items() if setting != "header"}
        self._meanings = {p.name: dialect.meanings[p.enum] for params in specs.values() for p in params
                          if p.enum in dialect.meanings}

    def on(self, setting: str, name: str) -> bool:
        """Whether the on/off value `name` of `setting` is on (what its enum `means`)."""
        return self._meanings[name].meaning(self.get(setting, name) or "") is True

    def get(self, setting: str, name: str) -> Optional[str]:
        return self._values[setting][name]

    def int(self, setting: str, name: str, default: int = 0) -> int:
        value = self._values[setting][name]
        return default if value in (None, "") else int(value)

    def set(self, setting: str, name: str, value: str) -> None:
        self._values[setting][name] = value

    def values(self, setting: str) -> list[Optional[str]]:
        return list(self._values[setting].values())


@dataclass
class Pieces:
    """Request-specific header or content data collected with <eof> 1 ... 0."""

    data: bytearray = field(default_factory=bytearray)
    closed: bool = False  # <eof> 0 was given: no more input until cleared

    def clear(self) -> None:
        self.data = bytearray()
        self.closed = False


class Cache:
    """Cached mode: the response header and body kept for AT+MHTTPREAD, each read once."""

    def __init__(self) -> None:
        self.parts: list = [b"", bytearray()]  # by <type>: 0 header, 1 content
        self.read_at = [0, 0]

    def clear(self) -> None:
        self.parts = [b"", bytearray()]
        self.read_at = [0, 0]

    def unread(self, kind: int) -> int:
        return len(self.parts[kind]) - self.read_at[kind]

    def read(self, kind: int, count: int) -> bytes:
        start = self.read_at[kind]
        data = bytes(self.parts[kind][start:start + count])
        self.read_at[kind] = start + len(data)
        return data


@dataclass
class Instance:
    id: int
    base: BaseUrl
    settings: Settings
    general: list[bytes] = field(default_factory=list)  # MHTTPCFG "header" fields, as typed
    header: Pieces = field(default_factory=Pieces)  # MHTTPHEADER
    content: Pieces = field(default_factory=Pieces)  # MHTTPCONTENT
    cache: Cache = field(default_factory=Cache)
    transfer: Optional[Transfer] = None

    @property
    def busy(self) -> bool:
        return self.transfer is not None

    def general_bytes(self) -> bytes:
        return b"".join(line + b"\r\n" for line in self.general)

    def set_general(self, line: bytes) -> None:
        """Keep a general header field; a field of the same name is replaced."""
        name = field_name(line)
        self.general = [old for old in self.general if field_name(old) != name] + [line]

    def request_done(self) -> None:
        """A request ended successfully: its specific header and content are cleared (3.3, 3.4)."""
        self.header.clear()
        self.content.clear()


def timeouts(settings: Settings) -> Timeouts:
    """MHTTPCFG "timeout": 0 means no limit."""
    return Timeouts(
        connect=settings.int("timeout", "conn_timeout") or None,
        response=settings.int("timeout", "rsp_timeout") or None,
        input=settings.int("timeout", "input_timeout") or None,
    )


def build(instance: Instance, method: Method, path: str, tls: Optional[TlsSettings], body: Optional[Body]) -> Request:
    headers = merged_headers(instance.general, bytes(instance.header.data))
    return Request(
        method=method,
        url=instance.base.url(path, tls is not None),
        headers=headers,
        body=body,
        tls=tls,
        timeouts=timeouts(instance.settings),
        keep_alive=keep_alive(headers),
    )
