"""The command sequences of the OneMO host side, as generators: each yields the commands it needs
(:class:`~bridge.onemo.host.context.Cmd`), is resumed with their Answer, and yields WAIT_IND or
WAIT_END where the module's URCs must come.  They keep the host side's instances and SSL contexts
up to date, and raise :class:`~bridge.onemo.host.errors.Fail` to end a request.

- a request on an instance: TLS, AT+MHTTPCREATE (unless a kept instance serves), the MHTTPCFG
  settings that differ, headers, content (Content-Length mode), AT+MHTTPREQUEST, then in chunked
  mode the content after "ind";
- a download to a module file: TLS, then AT+MHTTPDLFILE.
"""
from __future__ import annotations

from typing import Generator, Iterable, Optional

from bridge.http import FRAMING_HEADERS, Target
from bridge.model import ErrorKind, Request
from bridge.onemo.host import tls
from bridge.onemo.host.context import WAIT_END, WAIT_IND, Cmd, Context, Instance, Job, Op, Script
from bridge.onemo.host.errors import Fail
from bridge.onemo.host.plan import (CHUNKED_METHODS, at, body_of, counted, declared_length, header_lines, need_data_mode,
                                    slices, target_of)
from bridge.roles.host_commands import Answer


def instance_script(ctx: Context, job: Job) -> Script:
    """A request on an instance: TLS, MHTTPCREATE, MHTTPCFG, headers, content, MHTTPREQUEST."""
    request = job.request
    target = target_of(request.url)
    headers = header_lines(request, job.method, target, ctx.limits.header_max)
    body, stream = body_of(request)
    declared = declared_length(request, ctx.limits.content_total) if stream is not None else None
    sized = None
    if declared is not None:  # a streamed body of a stated size: Content-Length mode, as asked
        sized, stream = counted(stream, declared), None  # type: ignore[arg-type]
    if stream is not None and job.method not in CHUNKED_METHODS:
        raise Fail(ErrorKind.UNSUPPORTED, f"a streamed body goes in chunked mode, which {job.method} has not", terminate=False)
    if headers or body is not None or stream is not None or sized is not None:
        need_data_mode(ctx.profile, "request headers and bodies")
    method = ctx.limits.methods.get(job.method)
    if method is None:
        raise Fail(ErrorKind.UNSUPPORTED, f"method {job.method}", terminate=False)
    instance = yield from _instance(ctx, job, target)
    job.instance, job.httpid = instance, instance.httpid
    ctx.by_id[instance.httpid] = job
    yield from _configure(ctx, instance, request, chunked=stream is not None)
    for index, line in enumerate(headers):
        eof = ctx.limits.code("header_eof", "last" if index == len(headers) - 1 else "more")
        yield Cmd(at("MHTTPHEADER", instance.httpid, eof, len(line)), line)
    if body is not None:
        yield from _content(ctx, instance.httpid, [body])
    if sized is not None:
        yield from _content(ctx, instance.httpid, sized)
    yield Cmd(at("MHTTPREQUEST", instance.httpid, int(method), 0, target.path))
    job.sent = True
    if stream is not None:
        yield WAIT_IND  # "ind": connected, the request head has gone out
        yield from _content(ctx, instance.httpid, stream)
        ctx.sent(job)
    else:
        ctx.taken(job)
    yield WAIT_END


def file_script(ctx: Context, job: Job) -> Script:
    """A download to a module file: AT+MHTTPDLFILE (a GET with the default headers)."""
    request = job.request
    target = target_of(request.url)
    extra = [n for n, _ in request.headers if n.lower() not in FRAMING_HEADERS]
    if job.method != "GET" or request.body or extra or target.credentials:
        raise Fail(ErrorKind.UNSUPPORTED, "AT+MHTTPDLFILE sends a GET with the default headers only", terminate=False)
    if "MHTTPDLFILE" in (ctx.profile.get("commands_missing") or ()):
        raise Fail(ErrorKind.UNSUPPORTED, f"{ctx.profile.name} has no AT+MHTTPDLFILE", terminate=False)
    ssl_id = (yield from tls.set_up(ctx, job, target)) if target.tls else None
    span = request.byte_range.header_value() if request.byte_range else None
    eof = ctx.limits.code("dlfile_eof", "append") if request.append else None  # omitted: the default, overwrite
    line = at("MHTTPDLFILE", target.url, request.save_to, ctx.progress_step, span, eof, ssl_id)
    yield from _with_room(ctx, Cmd(line, tolerate=True))
    job.sent = True
    ctx.taken(job)
    yield WAIT_END


def _instance(ctx: Context, job: Job, target: Target) -> Generator[Op, Optional[Answer], Instance]:
    """A kept instance for the same server and TLS settings, or a new one."""
    key = (target.origin, tls.tls_key(job.request) if target.tls else None)
    for kept in ctx.pool:
        if kept.key == key:
            ctx.pool.remove(kept)
            job.ssl_id = kept.ssl_id
            return kept
    ssl_id = (yield from tls.set_up(ctx, job, target)) if target.tls else None
    yield from _with_room(ctx, Cmd(at("MHTTPCREATE", target.origin), tolerate=True, creates=True))
    if job.httpid is None:
        raise Fail(ErrorKind.RESPONSE_INVALID, "AT+MHTTPCREATE answered no free instance id", terminate=False)
    instance = Instance(job.httpid, key, ssl_id, ctx.limits.defaults())
    if ssl_id is not None:
        yield Cmd(at("MHTTPCFG", "ssl", instance.httpid, ctx.limits.code("ssl_enable", True), ssl_id))
    return instance


def _with_room(ctx: Context, cmd: Cmd) -> Generator[Op, Optional[Answer], Answer]:
    """`cmd` (tolerated), which needs a free instance slot (MHTTPCREATE, MHTTPDLFILE): on "no
    free instance" the oldest kept instance is deleted and `cmd` sent again."""
    while True:
        answer = yield cmd
        assert answer is not None and answer.final is not None
        if answer.ok:
            return answer
        kind = ctx.sync_kind(answer.final)
        if kind is not ErrorKind.NO_FREE_INSTANCE or not ctx.pool:
            raise Fail(kind, f"{cmd.line[:60]!r}: {answer.final}", terminate=False)
        yield from _evict(ctx)


def _evict(ctx: Context) -> Generator[Op, Optional[Answer], None]:
    """Delete the oldest kept instance to make room."""
    kept = ctx.pool.pop(0)
    if kept.ssl_id is not None:
        ctx.ssl.free.append(kept.ssl_id)
    yield Cmd(at("MHTTPDEL", kept.httpid), tolerate=True)


def _configure(ctx: Context, instance: Instance, request: Request, chunked: bool) -> Generator[Op, Optional[Answer], None]:
    timeouts = ctx.limits.timeouts(request)
    if timeouts != instance.timeouts:
        yield Cmd(at("MHTTPCFG", "timeout", instance.httpid, *timeouts))
        instance.timeouts = timeouts
    if chunked != instance.chunked:
        yield Cmd(at("MHTTPCFG", "chunked", instance.httpid, ctx.limits.code("chunked_mode", chunked)))
        instance.chunked = chunked


def _content(ctx: Context, httpid: int, chunks: Iterable[memoryview]) -> Generator[Op, Optional[Answer], None]:
    """The body in data mode, pieces of at most the data-mode size, the last with eof 0."""
    for piece, last in slices(chunks, ctx.limits.content_max):
        yield Cmd(at("MHTTPCONTENT", httpid, ctx.limits.code("content_eof", "last" if last else "more"), len(piece)), piece)
