"""AT+CDNSGIP="<name>": the N58's DNS query (neoway.yaml, outside chapter 9), answered by the
emulator from its hosts map -- never a real DNS query.

The module answers OK, then +CDNSGIP: <result>,"<name>","<ip>"[,"<ip2>"] (the first two addresses
of the hosts map; an IP literal resolves to itself), or +CDNSGIP: <result>,<err>: a network error
without the data link, a DNS error for a name the map lacks (enums dns_result and dns_error).  The
map is in memory, so the line follows the OK at once.
"""
from __future__ import annotations

from bridge.at.dialect import Dialect
from bridge.device.hosts import HostNotFound, HostsResolver
from bridge.neoway.params import ParamError

REPORT = "+CDNSGIP"
ADDRESSES_MAX = 2  # real firmware gives at most a second address


class DnsReports:
    """The +CDNSGIP lines in the dialect's codes; each failure line is one of its errors.async."""

    def __init__(self, dialect: Dialect) -> None:
        results, errors = dialect.means("dns_result"), dialect.means("dns_error")
        self.resolved = results.token("succeeded")
        failed = results.token("failed")
        self.no_network = f"{REPORT}: {failed},{errors.token('network_error')}"
        self.unknown_name = f"{REPORT}: {failed},{errors.token('name_unknown')}"
        for token in (self.no_network, self.unknown_name):
            assert token in dialect.async_errors, f"neoway.yaml: errors.async lacks {token!r}"
        assert REPORT in dialect.frames, f"neoway.yaml declares no {REPORT}"

    def lookup(self, name: str, link_up: bool, resolver: HostsResolver) -> str:
        """The +CDNSGIP line for `name`; raises ParamError for an empty name."""
        name = name.strip()
        if not name:
            raise ParamError("AT+CDNSGIP: empty name")
        if not link_up:
            return self.no_network
        try:
            addresses = resolver.resolve(name)[:ADDRESSES_MAX]
        except HostNotFound:
            return self.unknown_name
        quoted = ",".join(f'"{address}"' for address in addresses)
        return f'{REPORT}: {self.resolved},"{name}",{quoted}'
