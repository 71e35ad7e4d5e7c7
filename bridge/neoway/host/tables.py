"""The tables of dialects/neoway.yaml as the Neoway host side uses them: the HTTP and HTTPS command
families (AT+HTTPPARA or AT+HTTPSPARA, +HTTPRECV or +HTTPSRECV, ...), and the modes, types,
lengths, TLS versions and timeouts of the commands (:class:`Limits`).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional

from bridge.at.dialect import CommandSpec, Dialect, DialectError, load
from bridge.at.families import Families
from bridge.at.meaning import EnumMeanings
from bridge.model import Method, TlsVersion


@functools.lru_cache(maxsize=None)
def _families() -> Families:
    return load("neoway").families


@dataclass(frozen=True)
class Family:
    """The HTTP or the HTTPS command family: AT+HTTPPARA or AT+HTTPSPARA, +HTTPRECV or +HTTPSRECV
    (the twins of neoway.yaml's `families`)."""

    secure: bool

    def command(self, name: str) -> str:
        """The family's twin of the HTTP command `name` ("HTTPPARA")."""
        return _families().command(name, self.secure)

    def urc(self, prefix: str) -> Optional[str]:
        """The family's twin of the HTTP line `prefix` ("+HTTPRECV"); None: it has none."""
        return _families().line(prefix, self.secure)


FAMILIES = (Family(False), Family(True))


@dataclass(frozen=True)
class Limits:
    action_modes: dict[str, str]  # "GET" / "HEAD" / "POST" -> <mode>
    raw_mode: str  # <mode> of a raw request (OPEN_MODE)
    post_types: dict[str, str]  # MIME type (lower case) -> <type>
    data_max: int  # bytes after '>' of AT+HTTPACTION (POST body or raw request)
    url_max: dict[bool, int]  # per family
    file_max: int  # <size> of AT+FILEHTTPACTION
    file_get: str  # <mode> GET of AT+FILEHTTPACTION
    timeouts: dict[str, float]  # command name -> seconds
    ssl_versions: dict[TlsVersion, str]  # -> <sslversion>
    cfg_types: frozenset[str]  # <type> of AT+HTTPSCFG
    authmode: EnumMeanings  # <authmode> of AT+HTTPSCFG: VerifyMode
    keepalive: EnumMeanings  # <keepalive> of AT+HTTPPARA: bool
    framed: int  # <recvmode> of AT+HTTPPARA that frames the response in pieces
    link_up: str  # +XIIC <state> of a data link that is up
    resolved: str  # +CDNSGIP <result> of a name that resolved
    file_write: bool = False  # the YAML declares AT+FSWF: a certificate given as PEM can be written to the module

    @classmethod
    def read(cls, dialect: Dialect) -> "Limits":
        enums, commands = dialect.enums, dialect.commands
        file_size = commands["FILEHTTPACTION"].forms["set"].params[2]
        if file_size.range is None:
            raise DialectError(f"{dialect.name}: FILEHTTPACTION <size> has no range")
        modes = dialect.means("action_mode")
        return cls(
            action_modes={method.value: code for code, method in modes.of_type(Method).items()},
            raw_mode=modes.token("raw_request"),
            post_types={text.lower(): code for code, text in enums["post_type"].items()},
            data_max=commands["HTTPACTION"].data_max(),
            url_max={f.secure: _url_max(commands[f.command("HTTPPARA")]) for f in FAMILIES},
            file_max=file_size.range[1],
            file_get=dialect.means("file_mode").token(Method.GET),
            timeouts={name: float(spec.timeout) for name, spec in commands.items() if spec.timeout},
            ssl_versions={version: code for code, version in dialect.means("sslversion").of_type(TlsVersion).items()},
            cfg_types=frozenset(enums["https_cfg_type"]),
            authmode=dialect.means("authmode"), keepalive=dialect.means("keepalive"),
            framed=int(dialect.means("recvmode").token("framed")), link_up=dialect.means("link_state").token(True),
            resolved=dialect.means("dns_result").token("succeeded"),
            file_write="FSWF" in commands,
        )


def _url_max(para: CommandSpec) -> int:
    """The longest <value> of AT+HTTPPARA / AT+HTTPSPARA: its url's."""
    longest = para.forms["set"].params[1].max_len
    if longest is None:
        raise DialectError(f"commands.{para.name}: <value> has no max_len")
    return longest


def version_code(limits: Limits, version: str) -> Optional[str]:
    """The <sslversion> of "TLSv1.2" (or "TLS1.2"), None if the module has none."""
    named = TlsVersion.named(version)
    return limits.ssl_versions.get(named) if named is not None else None


def newest_version_code(limits: Limits) -> str:
    """The <sslversion> of the newest version the module has: for a request that names none."""
    return limits.ssl_versions[TlsVersion.newest(limits.ssl_versions)]
