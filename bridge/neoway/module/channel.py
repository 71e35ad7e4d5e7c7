"""The state of one Neoway HTTP context: the HTTP one (AT+HTTP...) or the HTTPS one (AT+HTTPS...).

The module holds one context per family.  Its settings come from HTTPPARA/HTTPSPARA (cleared by
HTTPCLOSE), its link is "up" between a successful HTTPSETUP and the link closing, and at most
one request runs on the link at a time.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional

from bridge.at.dialect import Dialect, load
from bridge.http import DEFAULT_PORTS
from bridge.model import TlsSettings, TlsVersion, VerifyMode
from bridge.neoway.module.url import Target


def _code(enum: str, meaning: object) -> str:
    """The code of neoway.yaml's enum `enum` that means `meaning`: a power-on value."""
    return load("neoway").means(enum).token(meaning)  # type: ignore[arg-type]


def _newest_version() -> str:
    """The power-on <sslversion>, which the manual does not give: the newest version the module
    has (what the host side asks for a request that names none)."""
    versions = load("neoway").means("sslversion")
    return versions.token(TlsVersion.newest(versions.of_type(TlsVersion).values()))


@dataclass
class Settings:
    """AT+HTTPPARA / AT+HTTPSPARA values."""

    target: Optional[Target] = None
    port: Optional[int] = None
    keepalive: bool = False
    recvmode: str = field(default_factory=lambda: _code("recvmode", "raw"))  # the manual's default


@dataclass
class TlsConfig:
    """AT+HTTPSCFG values (the type names are the keys of enum https_cfg_type)."""

    sslversion: str = field(default_factory=_newest_version)
    authmode: str = field(default_factory=lambda: _code("authmode", VerifyMode.NONE))
    ciphersuite: str = ""   # stored and reported; Python's ssl negotiates its own suites
    cacert: str = ""
    clientcert: str = ""
    clientkey: str = ""

    def settings(self, dialect: Dialect) -> TlsSettings:
        """TlsSettings for the executor: the version from enum sslversion_offered ("3" -> "TLS1.2",
        the lowest version offered, not a pin), the verification from what enum authmode means."""
        versions = dialect.enums["sslversion_offered"]
        verify = dialect.means("authmode").meaning(self.authmode)
        assert isinstance(verify, VerifyMode), f"neoway.yaml: authmode {self.authmode!r} means no VerifyMode"
        mutual = verify is VerifyMode.MUTUAL
        if mutual and not self.clientcert:
            verify = VerifyMode.SERVER  # "authenticate the client if the server asks": nothing to offer
        return TlsSettings(
            version=versions[self.sslversion],
            version_is_minimum=True,
            verify=verify,
            ca=self.cacert or None,
            client_cert=self.clientcert if mutual and self.clientcert else None,
            client_key=self.clientkey if mutual and self.clientkey else None,
        )

    def fields(self) -> list[str]:
        return [self.sslversion, self.authmode, self.ciphersuite, self.cacert, self.clientcert, self.clientkey]


@dataclass
class Channel:
    secure: bool
    settings: Settings = field(default_factory=Settings)
    link_up: bool = False
    job: Optional[Any] = None        # the request on the link (HTTPACTION / FILEHTTPACTION)
    download: Optional[Any] = None   # a running HTTPGET
    get_state: tuple[str, Optional[str]] = field(default_factory=lambda: (_code("get_state", "unknown"), None))  # last +HTTPGETSTAT
    close_waiting: bool = False      # HTTPCLOSE arrived while a response was streaming

    @property
    def scheme(self) -> str:
        return "https" if self.secure else "http"

    def url(self, path: Optional[str] = None) -> Optional[str]:
        """The executor's URL for the set url (with `path` instead of its path); None if unset."""
        target = self.settings.target
        if target is None:
            return None
        if path is not None:
            target = replace(target, path=path)
        port = self.settings.port or target.port or DEFAULT_PORTS[self.scheme]
        return target.url(self.scheme, port)
