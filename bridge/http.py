"""The target of a request's URL as both host sides put it into command lines: scheme, host, port,
and path?query percent-encoded so that it holds no '"' (a quoted command parameter cannot)."""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Optional, TypeVar
from urllib.parse import quote, unquote, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = string.punctuation.replace('"', "")
_HOST = re.compile(r"[A-Za-z0-9._~%!$&'()*+,;=:-]+")

TargetT = TypeVar("TargetT", bound="Target")


@dataclass(frozen=True)
class Target:
    scheme: str  # "http" or "https"
    host: str
    port: int
    path: str  # path?query, percent-encoded
    credentials: Optional[tuple[str, str]] = None

    @classmethod
    def parse(cls: type[TargetT], url: str) -> TargetT:
        """The target of an http(s) URL; raises ValueError saying what is wrong with it."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{url!r}: {exc}") from None
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        if scheme not in DEFAULT_PORTS or not _HOST.fullmatch(host):
            raise ValueError(f"{url!r} is no http(s)://host[:port]/path URL")
        path = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_PATH_SAFE)
        credentials = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
        return cls(scheme, host, port or DEFAULT_PORTS[scheme], path, credentials)

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def bracketed_host(self) -> str:
        """The host as a URL or Host header writes it (an IPv6 literal in brackets)."""
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def host_header(self) -> str:
        return self.bracketed_host + ("" if self.port == DEFAULT_PORTS[self.scheme] else f":{self.port}")

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.bracketed_host}:{self.port}"

    @property
    def url(self) -> str:
        return self.origin + self.path
