"""Name resolution for the emulators: a hosts map only, never a DNS query.

An emulated module must not leak names to the network, and tests must not depend on
the machine's resolver.  So a name resolves only through an explicit map (built in
code or loaded from an /etc/hosts-style file); IP literals resolve to themselves.
Nothing here calls :func:`socket.getaddrinfo` or :func:`socket.gethostbyname`.
"""
from __future__ import annotations

import ipaddress
import os
from typing import Iterable, Mapping, Optional, Union

LOCALHOST_V4 = "127.0.0.1"


class HostNotFound(LookupError):
    """A name that is neither an IP literal nor in the hosts map (maps to DNS_FAILED)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"host {name!r} is not in the hosts map (no DNS queries are made)")
        self.name = name


def ip_literal(host: str) -> Optional[str]:
    """The normalised address if `host` is an IPv4/IPv6 literal ("[::1]" allowed), else None."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _normal_name(name: str) -> str:
    return name.strip().rstrip(".").lower()


class HostsResolver:
    """Resolves host names through a hosts map, like a private /etc/hosts.

    `hosts` maps a name to its addresses (IP literals, tried in order).  "localhost"
    resolves to 127.0.0.1 unless the map says otherwise or `localhost=False`.
    """

    def __init__(
        self,
        hosts: Optional[Mapping[str, Iterable[str]]] = None,
        *,
        localhost: bool = True,
    ) -> None:
        self._hosts: dict[str, list[str]] = {}
        if localhost:
            self._hosts["localhost"] = [LOCALHOST_V4]
        for name, addresses in (hosts or {}).items():
            self._hosts.pop(_normal_name(name), None)
            self.add(name, *addresses)

    @classmethod
    def from_text(cls, text: str, *, localhost: bool = True) -> "HostsResolver":
        """A resolver from hosts-file text ("127.0.0.1 name1 name2  # comment")."""
        resolver = cls(localhost=localhost)
        resolver.load_text(text)
        return resolver

    @classmethod
    def from_file(
        cls, path: Union[str, os.PathLike], *, localhost: bool = True
    ) -> "HostsResolver":
        """A resolver from an /etc/hosts-style file on the host."""
        resolver = cls(localhost=localhost)
        resolver.load_file(path)
        return resolver

    def add(self, name: str, *addresses: str) -> None:
        """Append `addresses` (IP literals) to `name`; duplicates are ignored."""
        key = _normal_name(name)
        if not key or any(c.isspace() for c in key):
            raise ValueError(f"invalid host name {name!r}")
        known = self._hosts.setdefault(key, [])
        for address in addresses:
            literal = ip_literal(address)
            if literal is None:
                raise ValueError(f"{address!r} (for {name!r}) is not an IP address")
            if literal not in known:
                known.append(literal)

    def load_text(self, text: str) -> None:
        """Add the entries of hosts-file text; a line that is not `address name...` raises ValueError.

        As in /etc/hosts, a name mapped on several lines collects all its addresses,
        and an entry read here is added after any address the name already has.
        """
        for number, line in enumerate(text.splitlines(), 1):
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            if len(fields) < 2 or ip_literal(fields[0]) is None:
                raise ValueError(f"hosts line {number}: expected 'address name...', got {line!r}")
            for name in fields[1:]:
                self.add(name, fields[0])

    def load_file(self, path: Union[str, os.PathLike]) -> None:
        """Add the entries of an /etc/hosts-style file."""
        with open(path, encoding="utf-8") as handle:
            self.load_text(handle.read())

    def resolve(self, host: str) -> list[str]:
        """The addresses of `host`, in order; raises :class:`HostNotFound` for unknown names."""
        literal = ip_literal(host)
        if literal is not None:
            return [literal]
        addresses = self._hosts.get(_normal_name(host))
        if not addresses:
            raise HostNotFound(host)
        return list(addresses)

    def names(self) -> list[str]:
        """The names in the map."""
        return sorted(self._hosts)
