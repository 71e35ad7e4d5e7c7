"""The shared request model: one request, the events it produces, one taxonomy of errors.

Both dialects map into these types; nothing here does I/O.  The executor is the
interface that turns a :class:`Request` into a stream of :data:`Event` values:
the emulators implement it over real sockets, the bridge over a module.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional, Protocol, Union


def _version_key(text: str) -> str:
    return re.sub(r"^(tls|ssl)v", r"\1", text.replace(" ", "").lower()).removesuffix(".0")


class TlsVersion(str, enum.Enum):
    """A TLS (or SSL) protocol version, as TlsSettings.version names it."""

    SSL3 = "SSLv3"
    TLS1_0 = "TLSv1.0"
    TLS1_1 = "TLSv1.1"
    TLS1_2 = "TLSv1.2"
    TLS1_3 = "TLSv1.3"

    @classmethod
    def named(cls, text: str) -> Optional["TlsVersion"]:
        """The version `text` names however it is written ("TLSv1.2", "TLS1.2", "tls 1.2"; "TLSv1"
        is "TLSv1.0", "SSL3.0" is "SSLv3"); None if it names none."""
        key = _version_key(text)
        return next((version for version in cls if _version_key(version.value) == key), None)

    @classmethod
    def newest(cls, versions: Iterable["TlsVersion"]) -> "TlsVersion":
        return max(versions, key=list(cls).index)


class Method(str, enum.Enum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    DELETE = "DELETE"
    HEAD = "HEAD"
    PATCH = "PATCH"
    OPTIONS = "OPTIONS"


class ErrorKind(str, enum.Enum):
    """Every failure either dialect can report.  `dialects/*.yaml` maps each
    dialect code to one of these and back."""

    INVALID_PARAMETER = "invalid_parameter"
    NOT_ALLOWED = "not_allowed"
    OUT_OF_MEMORY = "out_of_memory"
    UNSUPPORTED = "unsupported"
    NO_FREE_INSTANCE = "no_free_instance"
    INSTANCE_NOT_FOUND = "instance_not_found"
    BUSY = "busy"
    URL_INVALID = "url_invalid"
    SSL_NOT_ENABLED = "ssl_not_enabled"
    NO_DATA_LINK = "no_data_link"
    DNS_FAILED = "dns_failed"
    CONNECT_FAILED = "connect_failed"
    CONNECT_TIMEOUT = "connect_timeout"
    TLS_FAILED = "tls_failed"
    SEND_FAILED = "send_failed"
    CONNECTION_CLOSED = "connection_closed"
    RESPONSE_TIMEOUT = "response_timeout"
    INPUT_TIMEOUT = "input_timeout"
    RESPONSE_INVALID = "response_invalid"
    CACHE_FULL = "cache_full"
    DATA_LOST = "data_lost"
    FILE_OPEN_FAILED = "file_open_failed"
    FILE_WRITE_FAILED = "file_write_failed"
    HTTP_STATUS = "http_status"
    VERIFY_FAILED = "verify_failed"
    DECOMPRESS_FAILED = "decompress_failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class VerifyMode(str, enum.Enum):
    NONE = "none"
    SERVER = "server"
    MUTUAL = "mutual"


@dataclass
class TlsSettings:
    """TLS for one request.  Certificate references are paths inside the module's
    file system (emulator) or names the module knows (bridge)."""

    version: Optional[str] = None  # a TlsVersion value ("TLSv1.2"), None = library default
    version_is_minimum: bool = False  # True: `version` is the lowest offered (Neoway sslversion), not a pin
    verify: VerifyMode = VerifyMode.NONE
    ca: Optional[str] = None
    client_cert: Optional[str] = None
    client_key: Optional[str] = None
    sni: Optional[str] = None


@dataclass
class Timeouts:
    """Seconds; None means wait forever."""

    connect: Optional[float] = 60.0
    response: Optional[float] = None
    input: Optional[float] = 10.0


@dataclass(frozen=True)
class ByteRange:
    """An HTTP byte range; `end` is inclusive, None means to the end."""

    start: int
    end: Optional[int] = None

    def header_value(self) -> str:
        return f"bytes={self.start}-{'' if self.end is None else self.end}"


Header = tuple[str, str]
Body = Union[bytes, Iterable[bytes]]


@dataclass
class Request:
    method: Method
    url: str
    headers: list[Header] = field(default_factory=list)
    body: Optional[Body] = None
    tls: Optional[TlsSettings] = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    byte_range: Optional[ByteRange] = None
    keep_alive: bool = False
    save_to: Optional[str] = None  # None: body goes to the host; else a path in the module's file system
    append: bool = False  # with save_to: append (resume) instead of overwrite
    connect_only: bool = False  # open the connection (DNS, TCP, TLS) and send nothing: Connected, or Failure
    report_sent: bool = False  # the executor yields RequestSent once the whole request has gone out

    def header(self, name: str) -> Optional[str]:
        """The last value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == wanted:
                found = value
        return found

    def body_chunks(self) -> Iterator[bytes]:
        if self.body is None:
            return iter(())
        if isinstance(self.body, (bytes, bytearray, memoryview)):
            return iter((bytes(self.body),))
        return iter(self.body)


# ---- events -------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseHead:
    status: int
    reason: str
    raw: bytes  # status line and header lines, each with CRLF, without the empty line
    headers: tuple[Header, ...]


@dataclass(frozen=True)
class BodyChunk:
    data: bytes
    offset: int
    total: Optional[int] = None  # Content-Length when known


@dataclass(frozen=True)
class Progress:
    """Download-to-file progress."""

    done: int
    total: Optional[int]
    entity_total: Optional[int] = None


@dataclass(frozen=True)
class RequestSent:
    """The whole request (head and body) has gone out; the response has not arrived yet.  Only for
    a request with `report_sent` (Neoway AT+HTTPACTION answers OK at this point).  It may come
    more than once (a request retried on a fresh connection), and an executor that cannot tell
    does not send it: the ResponseHead then says the same."""


@dataclass(frozen=True)
class ResponseEnd:
    body_length: int


@dataclass(frozen=True)
class Connected:
    """A connect_only request's connection is up (and kept for the next request to that origin)."""


@dataclass(frozen=True)
class ConnectionClosed:
    by_peer: bool = True


@dataclass(frozen=True)
class Failure:
    kind: ErrorKind
    detail: str = ""


class ModuleOp(str, enum.Enum):
    """Bring-up operations firmware performs before HTTP that each dialect names differently
    (Neoway AT+XIIC / AT+CCID / AT+NETAPN / AT+XGAUTH, OneMO AT+MIPCALL / AT+MCCID ...).  A module
    side asks for them in these terms; each host side carries them out with its own dialect's
    commands, so a bridge translates bring-up instead of answering it from a canned table."""

    LINK_STATE = "link_state"  # answer values: (state "0"|"1", ip address)
    LINK_UP = "link_up"        # args: (cid,) ; answer values: (ip address,) when known
    LINK_DOWN = "link_down"    # args: (cid,)
    ICCID = "iccid"            # answer values: (iccid,)
    SET_APN = "set_apn"        # args: (apn,)
    SET_AUTH = "set_auth"      # args: (auth type "0" none | "1" PAP | "2" CHAP, user, password)


@dataclass(frozen=True)
class ModuleCall:
    op: ModuleOp
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModuleAnswer:
    """What a ModuleCall gave: ok, the values its op names, or the error kind it failed with."""

    ok: bool
    values: tuple[str, ...] = ()
    error: Optional[ErrorKind] = None


Event = Union[RequestSent, ResponseHead, BodyChunk, Progress, ResponseEnd, Connected, ConnectionClosed, Failure]


class Executor(Protocol):
    """Takes a request and yields its events: ResponseHead, BodyChunk or Progress, ResponseEnd and
    possibly ConnectionClosed -- or exactly one Failure, after which the iterator ends.  A
    connect_only request yields Connected or one Failure."""

    def execute(self, request: Request) -> Iterator[Event]: ...

    def cancel(self) -> None:
        """Abort the request in flight, if any; its iterator then ends with Failure(CANCELLED)."""
        ...


@dataclass(frozen=True)
class ExecutorCapabilities:
    """What a module side needs to know of the executor its requests go to.  The defaults are the
    emulator's network executor, which does whatever a module does: a module side has them until a
    bridge hands it another executor (ModuleSide.adapt_to_executor), the host side of the module's
    dialect, which declares what that module does otherwise."""

    one_request_at_a_time: bool = False  # a second request while one runs cannot be carried
    streams_request_body: bool = True  # False: a body goes whole, so it is collected before the request starts
    request_body_max: Optional[int] = None  # the most request body bytes one request carries (None: no bound)
    # It reads the certificate files a request names, and writes its save_to file, in the module
    # side's own file system.  False (a module behind a bridge, with files of its own): certificates
    # go to it as their PEM text, and a file to keep comes as a body this side writes.
    shares_file_system: bool = True
    # save_to and certificate names are files of its module, which firmware of another dialect has
    # no command to write or read: that dialect's module side keeps such files itself.
    files_on_module: bool = False
    # A request that keeps its connection says so in its headers too ("Connection: keep-alive"):
    # the module behind keeps it only when the request asks there, or sends the head as given.
    keep_alive_in_headers: bool = False
    # The Failure a request would end with before anything is sent (too large, a URL, TLS setting or
    # certificate the module cannot take), or None: a module side refuses it before its OK.
    refusal: Optional[Callable[[Request], Optional[Failure]]] = None


class DeclaresCapabilities(Protocol):
    """An executor (or a bridge's host side) that says what it can do."""

    @property
    def capabilities(self) -> ExecutorCapabilities: ...
