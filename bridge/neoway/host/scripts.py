"""The command sequences of the Neoway host side, as generators: each yields the commands it needs
(:class:`Cmd`), is resumed with their :class:`~bridge.roles.host_commands.Answer`, and yields
:data:`WAIT` where the module's reports must come.  They keep :class:`Link` -- what this host
side knows of the module's one link and its settings -- up to date, and raise
:class:`~bridge.neoway.host.errors.Fail` to end a request.

- start-up: ATE0, AT+CMEE=1, AT+HTTPCLOSE and AT+HTTPSCLOSE (a link left up by earlier firmware
  or a crash makes every HTTPSETUP fail; ERROR, no link, is fine), the data link (AT+XIIC? and
  AT+XIIC=1 on N58, AT$MYNETACT on N720), recvmode 1 for both families;
- a request: close a link to another server (or one not kept that has not reported its close),
  HTTPSCFG (HTTPS), the HTTPPARA settings that differ from the module's (url, port, keepalive,
  recvmode: they stay until AT+HTTPCLOSE clears them), HTTPSETUP (unless the kept link serves;
  an ERROR is followed by AT+HTTPCLOSE, and when that reports "+HTTPCLOSE: HTTP Link Closed" --
  a link was up after all -- HTTPSETUP is tried once more), HTTPACTION, then the response;
- a download to a module file: the same up to HTTPSETUP, then AT+FILEHTTPACTION.

A failed HTTPSETUP says only ERROR (or "+HTTPSETUP: FAIL"), for a failed lookup and a failed
connect alike.  When the url names a host (no IP literal), the host then asks the module's DNS
query, AT+CDNSGIP="<host>", and waits for the +CDNSGIP line after its OK: a failure there is the
kind the YAML gives it (DNS_FAILED).  A module without the command (an error answer) or one that
reports nothing in time leaves the connect failure, as does a name that resolves.

A failed HTTPSSETUP says only ERROR.  To tell a TLS failure from a connect failure, the host
then (after the lookup above) sets up a plain HTTP link to the same host and port: if that
connects, the TLS handshake failed (TLS_FAILED); if not, the connect did (the kind the YAML gives
"+HTTPSETUP: FAIL").
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Callable, Generator, Optional, Protocol, Union

from bridge.at.frames import Info, Line
from bridge.model import ErrorKind, Request, TlsSettings, VerifyMode
from bridge.roles.host_commands import Answer, never
from bridge.neoway.host.errors import ErrorTable, Fail
from bridge.neoway.host.plan import FAMILIES, Action, Bare, Family, FilePlan, Limits, Target, at, version_code

COMMAND_TIMEOUT = 10.0  # commands the YAML gives no timeout (ATE0, AT+XIIC?, pass-through)
COMMAND_FLOOR = 2.0  # the least any command gets: the YAML's 300 ms is the module's, not the UART's and host's
WAIT_MARGIN = 5.0  # beyond the module's own timeouts, so that its report comes first
SETUP_FAIL = "+HTTPSETUP: FAIL"  # errors.sync: the kind of a failed HTTPSETUP, whatever it prints
SOCKET_FAILED = "+HTTPACTION: SOCKET ID OPEN FAILED"  # errors.async: no socket (a kept link went down)
RECVMODE_FRAMED = 1  # enum recvmode: "+HTTPRECV: <length>,<data>"
KEEPALIVE = {False: 0, True: 1}  # enum keepalive
AUTHMODE = {VerifyMode.NONE: 0, VerifyMode.SERVER: 1, VerifyMode.MUTUAL: 2}  # enum authmode
MYNETACT = "$MYNETACT"  # N720's data link command; not in neoway.yaml (its profile only names it)
DNS_QUERY = "CDNSGIP"  # neoway.yaml: the N58's DNS query; its result is a +CDNSGIP line after OK
DNS_REPORT = "+CDNSGIP"
FSWF_WAIT_MS = 10000  # AT+FSWF <time>: how long the module waits for the data after the prompt
_XIIC_UP = "1"  # +XIIC: <state>: 1 = link up
_RESOLVED = "1"  # +CDNSGIP: <result>: 1 = resolved
_MYNETACT_UP = re.compile(rb"\$MYNETACT:\s*\d+\s*,\s*1\b")
_ACTION_LINES = ("ACTION", "SEND", "SETUP")  # +HTTPACTION: / +HTTPSEND: / +HTTPSETUP: in place of OK
_NAME = re.compile(rb"^\s*AT\+?([A-Za-z0-9_$&]+)", re.I)


@dataclass(frozen=True)
class Cmd:
    """What a script yields to send a command; it is resumed with the Answer."""

    line: bytes
    data: Optional[bytes] = None
    span: Optional[float] = None  # None: the command's own timeout
    tolerate: bool = False  # an error answer goes to the script instead of failing the request
    tolerate_silence: bool = False  # no answer in time goes to the script too
    ends: Callable[[Info], bool] = never  # lines that answer in place of a final result
    after_ok: bool = False  # the answer is an `ends` line that follows the OK
    receives: bool = False  # the response may come once this is written (AT+HTTPACTION)


WAIT = "wait"  # the script waits for the response (or +FILEHTTPSTAT)
CONNECTED = "connected"  # a connect-only request: the link is up, nothing is sent
Op = Union[Cmd, str]
Script = Generator[Op, Optional[Answer], None]


@dataclass
class Link:
    """The module's link (one at a time) and settings, as far as this host side set them."""

    up: bool = False
    key: Optional[tuple] = None  # (secure, host, port, TLS options) of the link that is up
    closing: bool = False  # not kept (keepalive 0): the module closes it; +HTTPCLOSED not seen yet
    close_reported: bool = False  # "+HTTPCLOSE: HTTP Link Closed" came: a link was up when closed
    params: dict[bool, dict[str, Union[int, str]]] = field(default_factory=lambda: {False: {}, True: {}})
    tls: dict[str, str] = field(default_factory=dict)  # AT+HTTPSCFG options set
    files: set[str] = field(default_factory=set)  # certificate files written with AT+FSWF this session

    def closed(self, family: Family, cleared: bool) -> None:
        """The family's link is down; `cleared`: HTTPCLOSE cleared its HTTPPARA settings too."""
        if self.key is not None and self.key[0] == family.secure:
            self.up = self.closing = False
            self.key = None
        if cleared:
            self.params[family.secure].clear()


class Spans:
    """How long to wait, from the YAML's command timeouts and the request's own."""

    def __init__(self, limits: Limits, floor: float) -> None:
        self.timeouts = limits.timeouts
        self.floor = floor

    def command(self, line: bytes) -> float:
        match = _NAME.match(line)
        name = match.group(1).decode().upper() if match else ""
        return max(self.timeouts.get(name, COMMAND_TIMEOUT), self.floor)

    def setup(self, request: Request, family: Family) -> float:
        return max(self.timeouts.get(family.command("SETUP"), 0.0), request.timeouts.connect or 0.0) + WAIT_MARGIN

    def silence(self, request: Request, family: Family) -> float:
        """Between two reports of a response (and until the first).  A response timeout of the
        request shorter than the module's own is kept here, to the second: the module would
        wait longer."""
        own = self._shorter(request, family)
        if own is not None:
            return own
        return max(self.timeouts.get(family.command("ACTION"), 0.0), request.timeouts.response or 0.0) + WAIT_MARGIN

    def busy(self, family: Family) -> float:
        """How long a module still busy with a request may leave a command unanswered: as long as
        its HTTPACTION may take (connect, then its own response time; see :meth:`action`),
        whatever the request's shorter response timeout was."""
        setup, action = (self.timeouts.get(family.command(verb), 0.0) for verb in ("SETUP", "ACTION"))
        return setup + action + 2 * WAIT_MARGIN

    def action(self, request: Request, family: Family) -> float:
        """AT+HTTPACTION's answer: a module may connect and await the response head first (with a
        request's shorter response timeout: the link is up, only the response is awaited)."""
        own = self._shorter(request, family)
        if own is not None:
            return own
        return self.setup(request, family) + self.silence(request, family)

    def _shorter(self, request: Request, family: Family) -> Optional[float]:
        own = request.timeouts.response
        module = self.timeouts.get(family.command("ACTION"), 0.0)
        return float(own) if own and module and own < module else None


class Context(Protocol):
    """What the scripts use of the host side."""

    limits: Limits
    errors: ErrorTable
    spans: Spans
    link: Link
    data_link: str  # "XIIC" or MYNETACT
    families: tuple[Family, ...]
    dns_query: bool  # the model has AT+CDNSGIP


# ---- start-up ------------------------------------------------------------------------------


def startup(ctx: Context) -> Generator[Op, Optional[Answer], bool]:
    """ATE0 (no answer: False), AT+CMEE=1, AT+HTTPCLOSE/AT+HTTPSCLOSE (a link left up), the data
    link, recvmode 1; errors are tolerated."""
    answer = yield Cmd(b"ATE0", tolerate=True)
    if answer is None or answer.timed_out:
        return False
    yield Cmd(b"AT+CMEE=1", tolerate=True)
    for family in ctx.families:  # before recvmode: HTTPCLOSE clears the HTTPPARA settings
        yield close(ctx, family)
    yield from (_mynetact() if ctx.data_link == MYNETACT else _xiic())
    for family in ctx.families:
        answer = yield Cmd(at(family.command("PARA"), Bare("recvmode"), RECVMODE_FRAMED), tolerate=True)
        if answer is not None and answer.ok:
            ctx.link.params[family.secure]["recvmode"] = RECVMODE_FRAMED
    return True


def _xiic() -> Generator[Op, Optional[Answer], None]:
    answer = yield Cmd(b"AT+XIIC?", tolerate=True)
    info = answer.info("+XIIC") if answer is not None else None
    if info is None or (info.get("state") or "").strip() != _XIIC_UP:
        yield Cmd(b"AT+XIIC=1", tolerate=True)
        yield Cmd(b"AT+XIIC?", tolerate=True)  # for the log: the link may take a moment


def _mynetact() -> Generator[Op, Optional[Answer], None]:
    answer = yield Cmd(f"AT{MYNETACT}?".encode(), tolerate=True)
    lines = [f.raw for f in (answer.frames if answer is not None else []) if isinstance(f, (Line, Info))]
    if not any(_MYNETACT_UP.search(raw) for raw in lines):
        yield Cmd(f"AT{MYNETACT}=0,1".encode(), tolerate=True)


# ---- a request -----------------------------------------------------------------------------


def tls_options(limits: Limits, tls: Optional[TlsSettings]) -> tuple[tuple[str, Union[int, str]], ...]:
    """AT+HTTPSCFG options for `tls`: version, authmode, then the certificate files given."""
    tls = tls or TlsSettings()
    versions = limits.ssl_versions
    code = version_code(limits, tls.version) if tls.version else max(versions.values(), key=int)
    if code is None:
        raise Fail(ErrorKind.UNSUPPORTED, f"TLS version {tls.version}; the module knows {', '.join(versions)}")
    options: list[tuple[str, Union[int, str]]] = [("sslversion", int(code)), ("authmode", AUTHMODE[VerifyMode(tls.verify)])]
    for option, value in _cert_values(tls):
        if _is_pem(value) and not limits.file_write:
            raise Fail(ErrorKind.UNSUPPORTED, f"{option}: Neoway modules take certificate file names; put the PEM in the module's file system")
        options.append((option, pem_name(option, value) if _is_pem(value) else str(value)))
    missing = [option for option, _ in options if option not in limits.cfg_types]
    assert not missing, f"neoway.yaml: enum https_cfg_type lacks {missing}"
    return tuple(options)


def _cert_values(tls: TlsSettings) -> list[tuple[str, Union[str, bytes]]]:
    pairs = (("cacert", tls.ca), ("clientcert", tls.client_cert), ("clientkey", tls.client_key))
    return [(option, value) for option, value in pairs if value is not None]


def _is_pem(value: Union[str, bytes]) -> bool:
    return "-----BEGIN" in (value.decode("latin-1") if isinstance(value, bytes) else value)


def _pem_bytes(value: Union[str, bytes]) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def pem_name(option: str, value: Union[str, bytes]) -> str:
    """The module file a certificate or key given as PEM is written to (AT+FSWF): named by its
    role and content, so that the same PEM is written once and another never overwrites it."""
    return f"atb-{option}-{hashlib.sha256(_pem_bytes(value)).hexdigest()[:16]}.pem"


def _write_pems(ctx: Context, tls: Optional[TlsSettings]) -> Generator[Op, Optional[Answer], None]:
    """AT+FSWF for each certificate or key given as PEM that this session has not written yet."""
    for option, value in _cert_values(tls or TlsSettings()):
        if not _is_pem(value):
            continue
        name, data = pem_name(option, value), _pem_bytes(value)
        if name in ctx.link.files:
            continue
        yield Cmd(at("FSWF", name, 0, len(data), FSWF_WAIT_MS), data=data)
        ctx.link.files.add(name)


def link_key(target: Target, tls: tuple) -> tuple:
    return (target.tls, target.host, target.port, tls if target.tls else None)


def exchange(ctx: Context, request: Request, target: Target, action: Action, tls: tuple,
             on_retry: Callable[[], None]) -> Script:
    """A request on the link: TLS, HTTPPARA, HTTPSETUP, HTTPACTION; then the response."""
    key = link_key(target, tls)
    yield from _prepare(ctx, request, target, tls, key)
    reused = ctx.link.up
    if not reused:
        yield from _set_up(ctx, request, target, key)
    answer = yield _action(ctx, request, target, action)
    if reused and _link_lost(ctx, answer):  # the kept link went down meanwhile: once more
        ctx.link.closed(target.family, cleared=False)
        on_retry()
        yield from _set_up(ctx, request, target, key)
        answer = yield _action(ctx, request, target, action)
    _check(ctx, answer, "AT+" + target.family.command("ACTION"))
    yield WAIT


def connect(ctx: Context, request: Request, target: Target, tls: tuple) -> Script:
    """A connect-only request (a module side's HTTPSETUP): TLS, HTTPPARA, HTTPSETUP, and the link
    is kept for the request that follows; nothing is sent to the server."""
    key = link_key(target, tls)
    yield from _prepare(ctx, request, target, tls, key)
    if not ctx.link.up:
        yield from _set_up(ctx, request, target, key)
    yield CONNECTED


def download(ctx: Context, request: Request, target: Target, plan: FilePlan, tls: tuple, mode: str) -> Script:
    """A GET into a module file: TLS, HTTPPARA, HTTPSETUP, AT+FILEHTTPACTION; then +FILEHTTPSTAT."""
    key = link_key(target, tls)
    yield from _prepare(ctx, request, target, tls, key)
    if not ctx.link.up:
        yield from _set_up(ctx, request, target, key)
    yield Cmd(at(target.family.file_action, int(mode), plan.offset, plan.size, plan.name))
    yield WAIT


def close(ctx: Context, family: Family) -> Cmd:
    """AT+HTTPCLOSE (AT+HTTPSCLOSE): the link goes down and its HTTPPARA settings are cleared."""
    ctx.link.closed(family, cleared=True)
    return Cmd(f"AT+{family.command('CLOSE')}".encode(), tolerate=True)


def _prepare(ctx: Context, request: Request, target: Target, tls: tuple, key: tuple) -> Generator[Op, Optional[Answer], None]:
    link = ctx.link
    if link.up and (link.key != key or link.closing):
        yield close(ctx, Family(link.key[0]) if link.key else target.family)
    if target.tls:
        yield from _write_pems(ctx, request.tls)
        yield from _configure_tls(ctx, tls)
    yield from _params(ctx, target, request.keep_alive)


def _configure_tls(ctx: Context, options: tuple) -> Generator[Op, Optional[Answer], None]:
    for option, value in options:
        if ctx.link.tls.get(option) == str(value):
            continue
        ctx.link.tls.pop(option, None)
        yield Cmd(at("HTTPSCFG", option, value))
        ctx.link.tls[option] = str(value)


def _params(ctx: Context, target: Target, keep_alive: bool) -> Generator[Op, Optional[Answer], None]:
    para = target.family.command("PARA")
    cache = ctx.link.params[target.tls]
    settings = (("url", target.url_value), ("port", target.port), ("keepalive", KEEPALIVE[keep_alive]),
                ("recvmode", RECVMODE_FRAMED))
    for name, value in settings:
        if cache.get(name) != value:
            cache.pop(name, None)
            yield Cmd(at(para, Bare(name), value))
            cache[name] = value


def _set_up(ctx: Context, request: Request, target: Target, key: tuple) -> Generator[Op, Optional[Answer], None]:
    family = target.family
    answer = yield _setup_cmd(ctx, request, family)
    assert answer is not None
    if _refused(answer):  # a link may be up that this host side did not set up: close it
        ctx.link.close_reported = False
        yield close(ctx, family)
        yield from _params(ctx, target, request.keep_alive)  # cleared; and HTTPCLOSE's report is in by now
        if ctx.link.close_reported:  # a link was up: once more
            answer = yield _setup_cmd(ctx, request, family)
            assert answer is not None
    if answer.ok:
        ctx.link.up, ctx.link.key, ctx.link.closing = True, key, False
        return
    kind, detail = _setup_failure(ctx, answer, family)
    if _lookup_or_connect(ctx, kind, target.host):
        if (yield from _look_up(ctx, target.host, detail)):
            detail += f"; {target.host} resolves: the connect failed"
    if family.secure and answer.final is not None and answer.final.result == "ERROR":
        yield from _diagnose(ctx, request, target)
    raise Fail(kind, detail)


def _refused(answer: Answer) -> bool:
    """A bare ERROR to HTTPSETUP: a failed lookup or connect, or a link already up."""
    return answer.line is None and answer.final is not None and answer.final.result == "ERROR"


def _setup_cmd(ctx: Context, request: Request, family: Family) -> Cmd:
    line_name = family.urc("SETUP")
    ends = lambda info: info.name == line_name and ctx.errors.line_kind(info) is not None  # noqa: E731
    return Cmd(f"AT+{family.command('SETUP')}".encode(), span=ctx.spans.setup(request, family), tolerate=True, ends=ends)


def _setup_failure(ctx: Context, answer: Answer, family: Family) -> tuple[ErrorKind, str]:
    what = f"AT+{family.command('SETUP')}"
    if answer.line is not None:
        return ctx.errors.line_kind(answer.line) or ErrorKind.UNKNOWN, f"{what}: {answer.line.raw.decode('latin-1')}"
    assert answer.final is not None
    if answer.final.result == "ERROR":  # DNS or connect (English manual), the same as +HTTPSETUP: FAIL
        return ctx.errors.token_kind(SETUP_FAIL), f"{what}: ERROR (name lookup or connect failed)"
    return ctx.errors.final_kind(answer.final), f"{what}: {answer.final}"


def _lookup_or_connect(ctx: Context, kind: ErrorKind, host: str) -> bool:
    """A setup failure that does not say whether the lookup or the connect failed, for a host name
    the module's DNS query can be asked about."""
    return kind is ctx.errors.token_kind(SETUP_FAIL) and ctx.dns_query and not _is_ip_literal(host)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _look_up(ctx: Context, host: str, setup_detail: str) -> Generator[Op, Optional[Answer], bool]:
    """AT+CDNSGIP="<host>": raises Fail with the YAML's kind of a +CDNSGIP failure line; returns
    True when the name resolves, False when the module answers an error or nothing in time."""
    ends = lambda info: info.name == DNS_REPORT  # noqa: E731
    answer = yield Cmd(at(DNS_QUERY, host), tolerate=True, tolerate_silence=True, ends=ends, after_ok=True)
    line = answer.line if answer is not None else None
    if line is None:  # ERROR (no such command), or no +CDNSGIP line in time
        return False
    kind = ctx.errors.line_kind(line)
    if kind is not None:
        raise Fail(kind, f"{setup_detail}; AT+{DNS_QUERY}: {line.raw.decode('latin-1').strip()}: "
                         f"the module cannot resolve {host}")
    return (line.get("result") or "").strip() == _RESOLVED


def _diagnose(ctx: Context, request: Request, target: Target) -> Generator[Op, Optional[Answer], None]:
    """HTTPSSETUP failed: if a plain link to the same host and port connects, TLS failed."""
    plain = Target("http", target.host, target.port, target.path)
    yield from _params(ctx, plain, keep_alive=False)
    answer = yield _setup_cmd(ctx, request, plain.family)
    if answer is None or not answer.ok:
        return
    yield close(ctx, plain.family)
    raise Fail(ErrorKind.TLS_FAILED, f"AT+HTTPSSETUP failed, but {target.host}:{target.port} accepts a plain "
                                     "connection: the TLS handshake failed (certificate, version or authentication)")


def _action(ctx: Context, request: Request, target: Target, action: Action) -> Cmd:
    family = target.family
    names = {f.urc(verb) for f in FAMILIES for verb in _ACTION_LINES}
    ends = lambda info: info.name in names and ctx.errors.line_kind(info) is not None  # noqa: E731
    line = at(family.command("ACTION"), *action.params)
    return Cmd(line, action.data, ctx.spans.action(request, family), tolerate=True, ends=ends, receives=True)


def _link_lost(ctx: Context, answer: Optional[Answer]) -> bool:
    if answer is None or answer.ok:
        return False
    if answer.line is not None:
        return ctx.errors.line_kind(answer.line) is ctx.errors.token_kind(SOCKET_FAILED)
    return answer.final is not None and answer.final.result == "ERROR"


def _check(ctx: Context, answer: Optional[Answer], what: str) -> None:
    assert answer is not None
    if answer.ok:
        return
    if answer.line is not None:
        raise Fail(ctx.errors.line_kind(answer.line) or ErrorKind.UNKNOWN, f"{what}: {answer.line.raw.decode('latin-1')}")
    assert answer.final is not None
    raise Fail(ctx.errors.final_kind(answer.final), f"{what}: {answer.final}")
