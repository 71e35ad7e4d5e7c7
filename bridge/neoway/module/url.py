"""The Neoway URL parameter: "host[:port]/path" without a scheme (AT+HTTPPARA=url,...).

A leading "http://" or "https://" is tolerated and dropped; the scheme always comes from the
command family (HTTP... or HTTPS...).  The executor gets a full URL built from the parts.
"""
from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Optional

from bridge.neoway.params import ParamError, parse_int

_SCHEME = re.compile(r"^https?://", re.IGNORECASE)
_HOST_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
_BAD_PATH = re.compile(r"[\x00-\x20\x7f]")
PORT_MAX = 65535


@dataclass(frozen=True)
class Target:
    host: str            # a name or an IP literal (IPv6 without brackets)
    port: Optional[int]  # from the url; None when it names none
    path: str            # "/..." including any query

    def url(self, scheme: str, port: int) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{port}{self.path}"


@functools.lru_cache(maxsize=64)  # a Target is frozen; firmware sets the same url again
def parse_target(text: str) -> Target:
    """Split a url value; raises :class:`ParamError` for an empty or malformed one."""
    text = _SCHEME.sub("", text.strip(), count=1)
    cut = min((i for i in (text.find("/"), text.find("?")) if i >= 0), default=len(text))
    authority, path = text[:cut], text[cut:]
    if path.startswith("?"):
        path = "/" + path
    path = path or "/"
    if _BAD_PATH.search(path):
        raise ParamError("url: spaces or control characters in the path")
    host, port = _authority(authority)
    return Target(host, port, path)


def parse_port(text: str) -> int:
    return parse_int(text, 1, PORT_MAX)


def _authority(text: str) -> tuple[str, Optional[int]]:
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ParamError("url: unclosed '[' in the host")
        host, rest = text[1:end], text[end + 1:]
        _ipv6(host)
    else:
        host, _, port_text = text.partition(":")
        rest = f":{port_text}" if _ else ""
        if not _HOST_NAME.match(host):
            raise ParamError(f"url: {host!r} is not a host name")
    if not rest:
        return host, None
    if not rest.startswith(":"):
        raise ParamError("url: text after the host")
    return host, parse_port(rest[1:])


def _ipv6(host: str) -> None:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        raise ParamError(f"url: {host!r} is not an IPv6 address") from None
