"""AT+CDNSGIP="<name>": the N58's DNS query (neoway.yaml, outside chapter 9), answered by the
emulator from its hosts map -- never a real DNS query.

The module answers OK, then +CDNSGIP: 1,"<name>","<ip>"[,"<ip2>"] (the first two addresses of
the hosts map; an IP literal resolves to itself), or +CDNSGIP: 0,<err>: NETWORK_ERROR without
the data link, DNS_ERROR for a name the map lacks.  The map is in memory, so the line follows the
OK at once.
"""
from __future__ import annotations

from bridge.at.dialect import Dialect
from bridge.device.hosts import HostNotFound, HostsResolver
from bridge.neoway.params import ParamError

REPORT = "+CDNSGIP"
RESOLVED = "1"
FAILED = "0"
NETWORK_ERROR = "3"  # errors.async "+CDNSGIP: 0,3"
DNS_ERROR = "8"  # errors.async "+CDNSGIP: 0,8"
ADDRESSES_MAX = 2  # real firmware gives at most a second address


def check_declared(dialect: Dialect) -> None:
    """The lines this module prints are the YAML's."""
    for code in (NETWORK_ERROR, DNS_ERROR):
        token = f"{REPORT}: {FAILED},{code}"
        assert token in dialect.async_errors, f"neoway.yaml: errors.async lacks {token!r}"
    assert REPORT in dialect.frames, f"neoway.yaml declares no {REPORT}"


def lookup_report(name: str, link_up: bool, resolver: HostsResolver) -> str:
    """The +CDNSGIP line for `name`; raises ParamError for an empty name."""
    name = name.strip()
    if not name:
        raise ParamError("AT+CDNSGIP: empty name")
    if not link_up:
        return f"{REPORT}: {FAILED},{NETWORK_ERROR}"
    try:
        addresses = resolver.resolve(name)[:ADDRESSES_MAX]
    except HostNotFound:
        return f"{REPORT}: {FAILED},{DNS_ERROR}"
    quoted = ",".join(f'"{address}"' for address in addresses)
    return f'{REPORT}: {RESOLVED},"{name}",{quoted}'
