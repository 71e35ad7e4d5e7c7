"""The command sequences of the Neoway host side, as generators: each yields the commands it needs
(:class:`~bridge.neoway.host.context.Cmd`), is resumed with their Answer, and yields WAIT where
the module's reports must come.  They keep the host side's :class:`~bridge.neoway.host.context.Link`
up to date, and raise :class:`~bridge.roles.host.Fail` to end a request.

- start-up: ATE0, AT+CMEE=1, AT+HTTPCLOSE and AT+HTTPSCLOSE (a link left up by earlier firmware
  or a crash makes every HTTPSETUP fail; ERROR, no link, is fine), the data link (AT+XIIC? and
  AT+XIIC=1 on N58, AT$MYNETACT on N720), recvmode 1 for both families;
- a request: close a link to another server (or one not kept that has not reported its close),
  HTTPSCFG (HTTPS), the HTTPPARA settings that differ from the module's (url, port, keepalive,
  recvmode: they stay until AT+HTTPCLOSE clears them), HTTPSETUP (unless the kept link serves;
  an ERROR is followed by AT+HTTPCLOSE, and when that reports "+HTTPCLOSE: HTTP Link Closed" --
  a link was up after all -- HTTPSETUP is tried once more), HTTPACTION, then the response;
- a download to a module file: the same up to HTTPSETUP, then AT+FILEHTTPACTION.

A failed HTTPSETUP (HTTPSSETUP) says only ERROR, for a failed lookup, connect or handshake
alike.  For a host name the module's DNS query AT+CDNSGIP then tells a lookup failure
(DNS_FAILED); after a failed HTTPSSETUP a plain HTTPSETUP to the same host and port tells a TLS
failure (TLS_FAILED: the plain link connects) from a connect failure.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Callable, Generator, Optional

from bridge.at.encode import Bare
from bridge.at.frames import Info, Line
from bridge.model import ErrorKind, Request
from bridge.roles.host_commands import Answer
from bridge.neoway.host import tls as tls_setup
from bridge.neoway.host.context import CONNECTED, WAIT, Cmd, Context, Op, Script
from bridge.roles.host import Fail
from bridge.neoway.host.plan import Action, Download, Target, at
from bridge.neoway.host.tables import FAMILIES, Family

MYNETACT = "$MYNETACT"  # N720's data link command; not in neoway.yaml (its profile only names it)
DNS_QUERY = "CDNSGIP"  # neoway.yaml: the N58's DNS query; its result is a +CDNSGIP line after OK
DNS_REPORT = "+CDNSGIP"
_MYNETACT_UP = re.compile(rb"\$MYNETACT:\s*\d+\s*,\s*1\b")
_ACTION_LINES = ("+HTTPACTION", "+HTTPSEND", "+HTTPSETUP")  # lines in place of OK


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
    yield from (_mynetact() if ctx.data_link == MYNETACT else _xiic(ctx.limits.link_up))
    for family in ctx.families:
        answer = yield Cmd(at(family.command("HTTPPARA"), Bare("recvmode"), ctx.limits.framed), tolerate=True)
        if answer is not None and answer.ok:
            ctx.link.params[family.secure]["recvmode"] = ctx.limits.framed
    return True


def _xiic(up: str) -> Generator[Op, Optional[Answer], None]:
    """`up`: the +XIIC <state> of a link that is up (enum link_state)."""
    answer = yield Cmd(b"AT+XIIC?", tolerate=True)
    info = answer.info("+XIIC") if answer is not None else None
    if info is None or (info.get("state") or "").strip() != up:
        yield Cmd(b"AT+XIIC=1", tolerate=True)
        yield Cmd(b"AT+XIIC?", tolerate=True)  # for the log: the link may take a moment


def _mynetact() -> Generator[Op, Optional[Answer], None]:
    answer = yield Cmd(f"AT{MYNETACT}?".encode(), tolerate=True)
    lines = [f.raw for f in (answer.frames if answer is not None else []) if isinstance(f, (Line, Info))]
    if not any(_MYNETACT_UP.search(raw) for raw in lines):
        yield Cmd(f"AT{MYNETACT}=0,1".encode(), tolerate=True)


# ---- a request -----------------------------------------------------------------------------


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
    _check(ctx, answer, "AT+" + target.family.command("HTTPACTION"))
    yield WAIT


def connect(ctx: Context, request: Request, target: Target, tls: tuple) -> Script:
    """A connect-only request (a module side's HTTPSETUP): TLS, HTTPPARA, HTTPSETUP, and the link
    is kept for the request that follows; nothing is sent to the server."""
    key = link_key(target, tls)
    yield from _prepare(ctx, request, target, tls, key)
    if not ctx.link.up:
        yield from _set_up(ctx, request, target, key)
    yield CONNECTED


def download(ctx: Context, request: Request, target: Target, plan: Download, tls: tuple, mode: str) -> Script:
    """A GET into a module file: TLS, HTTPPARA, HTTPSETUP, AT+FILEHTTPACTION; then +FILEHTTPSTAT."""
    key = link_key(target, tls)
    yield from _prepare(ctx, request, target, tls, key)
    if not ctx.link.up:
        yield from _set_up(ctx, request, target, key)
    yield Cmd(at(target.family.command("FILEHTTPACTION"), int(mode), plan.offset, plan.size, plan.name))
    yield WAIT


def close(ctx: Context, family: Family) -> Cmd:
    """AT+HTTPCLOSE (AT+HTTPSCLOSE): the link goes down and its HTTPPARA settings are cleared."""
    ctx.link.closed(family, cleared=True)
    return Cmd(f"AT+{family.command('HTTPCLOSE')}".encode(), tolerate=True)


def _prepare(ctx: Context, request: Request, target: Target, tls: tuple, key: tuple) -> Generator[Op, Optional[Answer], None]:
    link = ctx.link
    if link.up and (link.key != key or link.closing):
        yield close(ctx, Family(link.key[0]) if link.key else target.family)
    if target.tls:
        yield from tls_setup.write_pems(ctx, request.tls)
        yield from tls_setup.configure(ctx, tls)
    yield from _params(ctx, target, request.keep_alive)


def _params(ctx: Context, target: Target, keep_alive: bool) -> Generator[Op, Optional[Answer], None]:
    para = target.family.command("HTTPPARA")
    cache = ctx.link.params[target.tls]
    settings = (("url", target.url_value), ("port", target.port), ("keepalive", int(ctx.limits.keepalive.token(keep_alive))),
                ("recvmode", ctx.limits.framed))
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
    line_name = family.urc("+HTTPSETUP")
    ends = lambda info: info.name == line_name and ctx.errors.line_kind(info) is not None  # noqa: E731
    return Cmd(f"AT+{family.command('HTTPSETUP')}".encode(), span=ctx.spans.setup(request, family), tolerate=True, ends=ends)


def _setup_failure(ctx: Context, answer: Answer, family: Family) -> tuple[ErrorKind, str]:
    what = f"AT+{family.command('HTTPSETUP')}"
    if answer.line is not None:
        return ctx.errors.line_kind(answer.line) or ErrorKind.UNKNOWN, f"{what}: {answer.line.raw.decode('latin-1')}"
    assert answer.final is not None
    if answer.final.result == "ERROR":  # DNS or connect (English manual): neoway.yaml's `error_means`
        return ctx.errors.command_error_kind(family.command("HTTPSETUP")), f"{what}: ERROR (name lookup or connect failed)"
    return ctx.errors.final_kind(answer.final), f"{what}: {answer.final}"


def _lookup_or_connect(ctx: Context, kind: ErrorKind, host: str) -> bool:
    """A setup failure that does not say whether the lookup or the connect failed, for a host name
    the module's DNS query can be asked about."""
    setup_failed = ctx.errors.command_error_kind("HTTPSETUP")
    return kind is setup_failed and ctx.dns_query and not _is_ip_literal(host)


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
    return (line.get("result") or "").strip() == ctx.limits.resolved


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
    names = {f.urc(prefix) for f in FAMILIES for prefix in _ACTION_LINES} - {None}
    ends = lambda info: info.name in names and ctx.errors.line_kind(info) is not None  # noqa: E731
    line = at(family.command("HTTPACTION"), *action.params)
    return Cmd(line, action.data, ctx.spans.action(request, family), tolerate=True, ends=ends, receives=True)


def _link_lost(ctx: Context, answer: Optional[Answer]) -> bool:
    if answer is None or answer.ok:
        return False
    if answer.line is not None:
        return ctx.errors.line_kind(answer.line) is ErrorKind.CONNECT_FAILED  # no socket: the kept link is gone
    return answer.final is not None and answer.final.result == "ERROR"


def _check(ctx: Context, answer: Optional[Answer], what: str) -> None:
    assert answer is not None
    if answer.ok:
        return
    if answer.line is not None:
        raise Fail(ctx.errors.line_kind(answer.line) or ErrorKind.UNKNOWN, f"{what}: {answer.line.raw.decode('latin-1')}")
    assert answer.final is not None
    raise Fail(ctx.errors.final_kind(answer.final), f"{what}: {answer.final}")
