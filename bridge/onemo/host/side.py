"""The OneMO host side (client role), sans-I/O: requests of the shared model become OneMO commands,
and the module's answers and URCs become the model's events.  Bytes go in with receive_data and
out with data_to_send, time with on_time; each request runs as a script of commands, one command
outstanding at a time.  Tables come from dialects/onemo.yaml; decisions: docs/design.md.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
import math
import re
from dataclasses import dataclass
from typing import Callable, Generator, Iterable, Iterator, Optional, Union

import h11

from bridge.at.dialect import Dialect, ModelProfile, ParamSpec, load
from bridge.at.errors import ErrorTable
from bridge.at.meaning import EnumMeanings
from bridge.at.frames import Final, Frame, FramingError, Info
from bridge.at.encode import Unwritable, command_line, frame_bytes
from bridge.roles.host_commands import Answer, Exchange, Timer, never
from bridge.roles.host import Fail as _Fail, HostPlumbing
from bridge.http import FRAMING_HEADERS, Target, basic_authorization, content_length, has_body, response_parser
from bridge.model import (BodyChunk, Connected, ConnectionClosed, ErrorKind, Event, Failure, Method, ModuleCall, Progress, Request,
                     RequestSent, ResponseEnd, ResponseHead, TlsSettings, VerifyMode)
from bridge.onemo.host.bringup import HostBringUp

log = logging.getLogger(__name__)

DIALECT = "onemo"
COMMAND_TIMEOUT = 10.0  # the manual states no answer time; a module answers a command at once
RESPONSE_WAIT = 60.0  # the host's own wait for a server that Timeouts.response leaves unbounded
WAIT_MARGIN = 5.0  # beyond the module's own timeouts, so that its "err" report comes first
PROGRESS_STEP = 64 * 1024  # AT+MHTTPDLFILE <progind>
# A OneMO module answers AT+MHTTPREQUEST OK before it connects and reports no "sent": a request
# that asks for RequestSent gets it this long after that OK if no failure (a refused connection,
# reported at once) nor the response has come -- the bridge's choice, not the manual's.
SENT_GRACE = 1.0
URC = "+MHTTPURC"
DLFILE = "+MHTTPDLFILE"
CREATE = "+MHTTPCREATE"

_CHUNKED_METHODS = ("POST", "PUT")  # a module streams a chunked body for these (the manual's example is a POST)
_CERT_ROLES = ("ca", "cli", "key")  # MSSLCFG "cert" <srv_cert>, <cli_cert>, <prv_key>
_URC_ID = re.compile(rb'\+MHTTPURC[ \t]*+:[ \t]*+"(\w{1,16})"[ \t]*+,[ \t]*+([0-9]{1,9})')
_IND_TAIL = re.compile(rb'\+MHTTPURC[ \t]*+:[ \t]*+"ind"[ \t]*+,[ \t]*+([0-9]{1,9})\s*$')
_ID = re.compile(r"\s*([0-9]{1,9})\s*")  # ASCII digits only, bounded: str.isdigit() takes "²"
_NAME = re.compile(rb"^\s*AT\+?([A-Za-z0-9_&]+)", re.I)
_TAIL_KEEP = 64  # received bytes kept to look for an unterminated "ind"


# ---- what the request asks for ----------------------------------------------------------------


def _target(url: str) -> Target:
    try:
        return Target.parse(url)
    except ValueError as exc:
        raise _Fail(ErrorKind.URL_INVALID, str(exc), terminate=False) from None


def _at(name: str, *params: Union[int, str, None]) -> bytes:
    """AT+NAME=p1,p2,... (bridge.at.encode.command_line); a string no command line can carry fails
    the request before anything is sent."""
    try:
        return command_line(name, *params)
    except Unwritable as exc:
        raise _Fail(ErrorKind.INVALID_PARAMETER, str(exc), terminate=False) from None


def _pull(chunks: Iterable[Union[bytes, bytearray, memoryview]]) -> Iterator[memoryview]:
    """The caller's body pieces as byte views; a failing or non-bytes iterable ends the request."""
    try:
        iterator = iter(chunks)
        while True:
            try:
                chunk = next(iterator)
            except StopIteration:
                return
            view = memoryview(chunk).cast("B")
            if len(view):
                yield view
    except Exception as exc:  # the caller's iterable is no business of the module
        raise _Fail(ErrorKind.SEND_FAILED, f"request body: {exc!r}") from exc


def _slices(views: Iterable[memoryview], size: int) -> Iterator[tuple[memoryview, bool]]:
    """Pieces of at most `size` bytes, each with whether it is the last (one piece looked ahead)."""
    held: Optional[memoryview] = None
    for view in views:
        for start in range(0, len(view), size):
            if held is not None:
                yield held, False
            held = view[start:start + size]
    if held is not None:
        yield held, True


def _counted(views: Iterable[memoryview], length: int) -> Iterator[memoryview]:
    """`views`, checked to add up to `length` bytes: a body that does not fails the request
    before its last piece goes out (_slices looks one piece ahead)."""
    total = 0
    for view in views:
        total += len(view)
        if total > length:
            raise _Fail(ErrorKind.SEND_FAILED, f"the request body is longer than its Content-Length {length}")
        yield view
    if total != length:
        raise _Fail(ErrorKind.SEND_FAILED, f"the request body has {total} of its {length} bytes")


def _is_bytes(body: object) -> bool:
    return isinstance(body, (bytes, bytearray, memoryview))


def _method(request: Request) -> str:
    value = request.method
    return (value.value if isinstance(value, Method) else str(value)).upper()


def _no_body(head: ResponseHead, method: str) -> bool:
    """A response that ends with its header: HEAD, 1xx, 204, 304, Content-Length 0 (dialect-facts)."""
    return not has_body(method, head.status) or content_length(head.headers) == 0


def _closes(head: Optional[ResponseHead]) -> bool:
    """The response ends its connection: "Connection: close", or HTTP/1.0 without keep-alive."""
    if head is None:
        return False
    tokens = {t.strip().lower() for n, v in head.headers if n.lower() == "connection" for t in v.split(",")}
    return "close" in tokens or (head.raw.startswith(b"HTTP/1.0") and "keep-alive" not in tokens)


def parse_head(raw: bytes, method: str) -> ResponseHead:
    """The header URC's data (status line and header lines) parsed by h11."""
    block = bytes(raw).rstrip(b"\r\n")
    connection = response_parser(method)
    try:
        connection.receive_data(block + b"\r\n\r\n")
        event = connection.next_event()
    except h11.RemoteProtocolError as exc:
        raise _Fail(ErrorKind.RESPONSE_INVALID, f"response header: {exc}") from None
    if not isinstance(event, (h11.Response, h11.InformationalResponse)):
        raise _Fail(ErrorKind.RESPONSE_INVALID, "response header: not a status line and header fields")
    headers = tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers.raw_items())
    return ResponseHead(event.status_code, event.reason.decode("latin-1"), block + b"\r\n", headers)


# ---- one response ---------------------------------------------------------------------------------


class _Reception:
    """One response's URCs into events; raises _Fail where they do not add up."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.head: Optional[ResponseHead] = None
        self.received = 0
        self.done = False

    def on_head(self, payload: Optional[bytes]) -> list[Event]:
        if self.head is not None:
            raise _Fail(ErrorKind.RESPONSE_INVALID, "a second response header")
        self.head = parse_head(payload or b"", self.method)
        self.done = _no_body(self.head, self.method)
        return [self.head, ResponseEnd(0)] if self.done else [self.head]

    def on_content(self, info: Info) -> list[Event]:
        if self.head is None:
            raise _Fail(ErrorKind.RESPONSE_INVALID, "content before the response header")
        content_len, sum_len, cur_len = info.int("content_len"), info.int("sum_len"), info.int("cur_len")
        data = info.payload or b""
        if len(data) != cur_len or sum_len != self.received + cur_len or (content_len and sum_len > content_len):
            raise _Fail(ErrorKind.RESPONSE_INVALID,
                        f"content report {content_len},{sum_len},{cur_len} with {len(data)} bytes after {self.received}")
        events: list[Event] = []
        if cur_len:
            events.append(BodyChunk(data, self.received, content_len or None))
            self.received = sum_len
        if (content_len and sum_len == content_len) or (not content_len and not cur_len):
            self.done = True
            events.append(ResponseEnd(self.received))
        return events

    def on_progress(self, info: Info) -> list[Event]:
        done, total, percent = info.int("downloaded"), info.int("content_length"), info.int("percent")
        entity = info.get("entity_length")
        events: list[Event] = [Progress(done, total or None, int(entity) if entity else None)]
        if percent >= 100:
            self.done = True
            self.received = done
            events.append(ResponseEnd(done))
        return events


# ---- requests ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cmd:
    """What a script yields to send a command; the script is resumed with its Answer."""

    line: bytes
    data: Optional[Union[bytes, memoryview]] = None
    tolerate: bool = False  # an error result goes to the script instead of failing the request
    creates: bool = False  # an AT+MHTTPCREATE: its answer names the instance


_WAIT_IND, _WAIT_END = "ind", "end"  # what else a script yields: wait for these URCs
_Op = Union[_Cmd, str]
_Script = Generator[_Op, Optional[Answer], None]


@dataclass
class _Instance:
    httpid: int
    key: tuple
    ssl_id: Optional[int]
    timeouts: tuple[int, int, int]
    chunked: bool = False


class _Job:
    def __init__(self, token: int, request: Request) -> None:
        self.token = token
        self.request = request
        self.file = request.save_to is not None
        self.script: Optional[_Script] = None
        self.httpid: Optional[int] = None
        self.instance: Optional[_Instance] = None
        self.ssl_id: Optional[int] = None
        self.sent = False  # the request went out: stopping it needs MHTTPTERM
        self.over = False
        self.ind = False
        self.waiting: Optional[str] = None
        self.timer = Timer()
        self.report = Timer()  # RequestSent's grace (report_sent)
        self.method = _method(request)
        self.reception = _Reception("GET" if self.file else self.method)


@dataclass(frozen=True)
class _Limits:
    """Tables of dialects/onemo.yaml the host side needs, with the model's limits applied."""

    methods: dict[str, str]  # "GET" ... -> <method>
    codes: dict[str, EnumMeanings]  # the enums the requests are written with, by name
    instances: int
    header_max: int
    content_max: int
    content_total: int  # content collected before MHTTPREQUEST (Content-Length mode)
    cert_max: int
    ssl_ids: tuple[int, ...]
    timeout_specs: tuple[ParamSpec, ParamSpec, ParamSpec]
    ssl_versions: dict[str, str]

    @classmethod
    def read(cls, dialect: Dialect, profile: ModelProfile) -> "_Limits":
        def data_max(name: str) -> int:
            rule = dialect.commands[name].forms["set"].data_mode
            return rule.max_len if rule else 4096

        def bounded(spec: ParamSpec) -> ParamSpec:
            limit = (profile.get("limits") or {}).get(spec.name)
            return dataclasses.replace(spec, range=tuple(limit)) if isinstance(limit, list) else spec

        timeout = tuple(bounded(p) for p in dialect.commands["MHTTPCFG"].settings["timeout"][1:4])
        ssl_spec = bounded(dialect.commands["MSSLCFG"].settings["auth"][0])
        low, high = ssl_spec.range or (0, 5)
        versions = {text.replace(" ", "").lower(): key for key, text in dialect.enums.get("ssl_version", {}).items()}
        return cls(
            methods={method.value: code for code, method in dialect.means("method").of_type(Method).items()},
            codes={name: dialect.means(name) for name in ("cert_verify", "dlfile_eof", "header_eof", "content_eof",
                                                           "ssl_enable", "chunked_mode")},
            instances=int(profile.get("instances", 4)), header_max=data_max("MHTTPHEADER"),
            content_max=data_max("MHTTPCONTENT"), content_total=dialect.payload_max, cert_max=data_max("MSSLCERTWR"),
            ssl_ids=tuple(range(low, high + 1)), timeout_specs=timeout, ssl_versions=versions,  # type: ignore[arg-type]
        )

    def defaults(self) -> tuple[int, int, int]:
        return tuple(int(s.default or 0) for s in self.timeout_specs)  # type: ignore[return-value]

    def timeouts(self, request: Request) -> tuple[int, int, int]:
        """MHTTPCFG "timeout" values for the request: connect and input None mean the longest
        the module allows, response None means 0 (the manual's "no timeout")."""
        t = request.timeouts
        return (self._seconds(t.connect, self.timeout_specs[0], 1),
                self._seconds(t.response, self.timeout_specs[1], 0),
                self._seconds(t.input, self.timeout_specs[2], 1))

    @staticmethod
    def _seconds(value: Optional[float], spec: ParamSpec, none_low: int) -> int:
        low, high = spec.range or (0, 180)
        if value is None:
            return high if none_low else 0
        return min(max(math.ceil(value), low, 1), high)


# ---- the host side ------------------------------------------------------------------------------


class OnemoHostSide(HostPlumbing[_Job]):
    """Drives a OneMO module: :class:`~bridge.model.Request` in, events out (sans-I/O).

    Start-up (ATE0, AT+CMEE=1, AT+MHTTPDEL of stale instances) is queued at construction;
    :attr:`ready` is None until it has run, then True (or False when the module did not answer
    ATE0).  Requests are admitted once start-up is done; downloads to a module file
    (AT+MHTTPDLFILE) run alone, since their URCs name no instance of their own.
    """

    def __init__(self, dialect: Optional[Dialect] = None, model: Optional[str] = None, *,
                 command_timeout: float = COMMAND_TIMEOUT, progress_step: int = PROGRESS_STEP) -> None:
        super().__init__(dialect if dialect is not None else load(DIALECT))
        self.profile = self.dialect.model(model)
        self.command_timeout = command_timeout
        self.progress_step = progress_step
        self.ready: Optional[bool] = None
        self._limits = _Limits.read(self.dialect, self.profile)
        self._errors = ErrorTable(self.dialect)
        self._jobs: dict[int, _Job] = {}
        self._by_id: dict[int, _Job] = {}
        self._pool: list[_Instance] = []
        self._ssl_free = list(self._limits.ssl_ids)
        self._ssl_config: dict[int, tuple] = {}
        self._certs: set[str] = set()
        self._tail = b""
        self._bring_up = HostBringUp(self.dialect, lambda exchange: self._commands.add(exchange, self._now),
                                     self._span, self._sync_kind, self._module_answer)
        self._startup()

    # ---- the I/O loop's interface ------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes the module wrote."""
        with self._clock(now):
            self._tail = (self._tail + data[-_TAIL_KEEP:])[-_TAIL_KEEP:]
            self._frame(data)
            self._peek_ind()
            self._watch_payload()

    def next_deadline(self) -> Optional[float]:
        """When :meth:`on_time` must be called next (0.0: at once), or None."""
        due = self._commands.wake()
        timers = [self._stuck, *(t for job in self._jobs.values() for t in (job.timer, job.report))] if self._jobs else (self._stuck,)
        for timer in timers:
            wake = timer.wake()
            if wake is not None and (due is None or wake < due):
                due = wake
        return due

    def on_time(self, now: float) -> None:
        """Time has passed: fire what is due."""
        with self._clock(now):
            self._commands.on_time(now)
            for job in list(self._jobs.values()):
                if job.report.due(now):
                    self._sent(job)
                if job.timer.due(now):
                    self._fail(job, ErrorKind.RESPONSE_TIMEOUT, "the module reported nothing more in time")
                    self._abandon()
            if self._stuck.due(now):
                self._abandon()
            self._watch_payload()

    def _watch_payload(self) -> None:
        """A length-framed payload that stops short (a "content" announcing more than comes)
        would hold every later frame: it is given up on the dialect's response deadline -- the
        request's timer while one runs, else the module's longest response time (MHTTPCFG
        <rsp_timeout>'s range in onemo.yaml) and the margin.  Bytes of it coming restart the wait."""
        if not self.framer.in_payload or any(job.timer.span is not None for job in self._jobs.values()):
            self._stuck.stop()
        else:
            high = (self._limits.timeout_specs[1].range or (0, RESPONSE_WAIT))[1]
            self._stuck.start(float(high) + WAIT_MARGIN, self._now)

    # ---- requests ---------------------------------------------------------------------------

    def submit(self, request: Request) -> int:
        """Queue `request`; its events come out of :meth:`take_events` under the returned token."""
        token = next(self._tokens)
        if request.connect_only:
            # OneMO opens its connection with each MHTTPREQUEST: there is nothing to open ahead,
            # and a fault will be reported by the request that follows.
            self._events.append((token, Connected()))
            return token
        self._pending.append(_Job(token, request))
        self._admit()
        return token

    def cancel(self, token: int) -> None:
        """Stop a request (MHTTPTERM, then MHTTPDEL); it ends with Failure(CANCELLED)."""
        self._cancel_pending(token)
        job = self._jobs.get(token)
        if job is not None:
            self._fail(job, ErrorKind.CANCELLED, "cancelled")

    def _module_call(self, token: int, call: ModuleCall) -> None:
        """A bring-up operation with the module's own commands (bridge.onemo.host.bringup)."""
        self._bring_up.run(token, call)

    @property
    def idle(self) -> bool:
        """No command queued or outstanding and no request running."""
        return self._commands.idle and not self._jobs and not self._pending

    # ---- start-up ---------------------------------------------------------------------------

    def _startup(self) -> None:
        self._commands.add(Exchange(b"ATE0", self._probed, span=self.command_timeout, owner=self), None)

    def _probed(self, answer: Answer) -> None:
        if answer.final is None:
            self._started(False)
            return
        lines = [b"AT+CMEE=1"] + [_at("MHTTPDEL", i) for i in range(self._limits.instances)]
        for i, line in enumerate(lines):
            last = i == len(lines) - 1
            done = (lambda a: self._started(True)) if last else (lambda a: None)
            self._commands.add(Exchange(line, done, span=self.command_timeout, owner=self), self._now)

    def _started(self, answered: bool) -> None:
        self.ready = answered
        self._admit()

    # ---- running scripts --------------------------------------------------------------------

    def _admit(self) -> None:
        """Start pending requests: a file download only alone, nothing beside a download."""
        while self.ready is not None and self._pending:
            job = self._pending[0]
            downloading = any(j.file for j in self._jobs.values())
            if downloading or (job.file and self._jobs):
                return
            self._pending.popleft()
            self._jobs[job.token] = job
            job.script = self._file_script(job) if job.file else self._instance_script(job)
            self._step(job, None)

    def _carry_out(self, job: _Job, op: _Op) -> None:
        if isinstance(op, _Cmd):
            self._send(job, op)
        else:
            self._wait(job, op)

    def _send(self, job: _Job, cmd: _Cmd) -> None:
        wants = (lambda f: isinstance(f, Info) and f.name == CREATE) if cmd.creates else never
        exchange = Exchange(cmd.line, lambda answer: self._answered(job, cmd, answer), span=self._span(cmd.line),
                            data=cmd.data, owner=job, wants=wants)
        self._commands.add(exchange, self._now)

    def _answered(self, job: _Job, cmd: _Cmd, answer: Answer) -> None:
        if cmd.creates and answer.ok:
            job.httpid = self._created_id(answer)
            if job.over and job.httpid is not None:
                self._delete(job.httpid, terminate=False)  # created after the request ended
        if job.over:
            return
        if answer.final is None:
            self._fail(job, ErrorKind.RESPONSE_TIMEOUT, f"no answer to {cmd.line[:60]!r}", terminate=job.sent)
        elif not answer.ok and not cmd.tolerate:
            self._fail(job, self._sync_kind(answer.final), f"{cmd.line[:60]!r}: {answer.final}", terminate=job.sent)
        else:
            self._step(job, answer)

    def _wait(self, job: _Job, what: str) -> None:
        if what == _WAIT_IND and job.ind:
            self._step(job, None)
            return
        job.waiting = what
        job.timer.start(self._response_span(job.request), self._now)

    def _created_id(self, answer: Answer) -> Optional[int]:
        info = answer.info(CREATE)
        value = info.get("httpid") if info is not None else None
        match = _ID.fullmatch(value) if value is not None else None
        if match is None:
            return None
        httpid = int(match.group(1))
        return httpid if httpid < self._limits.instances and httpid not in self._by_id else None

    # ---- ending requests ----------------------------------------------------------------------

    def _fail(self, job: _Job, kind: ErrorKind, detail: str = "", terminate: bool = True) -> None:
        if job.over:
            return
        self._events.append((job.token, Failure(kind, detail)))
        self._retire(job, keep=False, terminate=terminate and job.sent and not job.reception.done)

    def _complete(self, job: _Job) -> None:
        # The instance is kept for the next request to the same server with the same TLS settings
        # (its headers and content the module clears itself at a request's end), whether or not the
        # connection is: a new instance would cost MHTTPCREATE, its settings and MHTTPDEL again.
        # Kept only when the script had sent everything (a server may answer before the upload ends).
        keep = job.instance is not None and job.waiting == _WAIT_END
        if job.request.keep_alive and _closes(job.reception.head):
            # The server ends the connection with this response; the module reports no close, so
            # say it here, as the model's executors do after ResponseEnd.
            self._events.append((job.token, ConnectionClosed(by_peer=True)))
            keep = False
        self._retire(job, keep=keep, terminate=False)

    def _retire(self, job: _Job, keep: bool, terminate: bool) -> None:
        job.over = True
        job.timer.stop()
        job.report.stop()
        job.waiting = None
        self._close_script(job)
        self._commands.drop(job)
        self._jobs.pop(job.token, None)
        if job.httpid is not None and self._by_id.get(job.httpid) is job:
            del self._by_id[job.httpid]
        if keep and job.instance is not None:
            self._pool.append(job.instance)
        else:
            self._release(job, terminate)
        self._admit()

    def _release(self, job: _Job, terminate: bool) -> None:
        if job.file and terminate:
            self._housekeeping(b"AT+MHTTPTERM")  # the execute form: the download has no instance
        elif job.httpid is not None:
            self._delete(job.httpid, terminate)
        if job.ssl_id is not None:
            self._ssl_free.append(job.ssl_id)

    def _delete(self, httpid: int, terminate: bool) -> None:
        if terminate:
            self._housekeeping(_at("MHTTPTERM", httpid))
        self._housekeeping(_at("MHTTPDEL", httpid))

    def _housekeeping(self, line: bytes) -> None:
        self._commands.add(Exchange(line, lambda answer: None, span=self.command_timeout, owner=self), self._now)

    # ---- the module's output ----------------------------------------------------------------

    def _dispatch(self, frame: Frame) -> None:
        if self._to_commands(frame):
            return
        if isinstance(frame, Info) and frame.name == URC:
            self._on_urc(frame)
        elif isinstance(frame, Info) and frame.name == DLFILE:
            self._on_progress(frame)
        elif isinstance(frame, FramingError):
            self._on_bad_frame(frame)
        elif not self._commands.offer(frame, self._now):
            self._unsolicited.append(frame_bytes(frame, self.dialect))

    def _on_urc(self, info: Info) -> None:
        download = next((j for j in self._jobs.values() if j.file), None)
        if download is not None and info.variant in ("header", "err"):
            job: Optional[_Job] = download  # AT+MHTTPDLFILE reports under an id of its own
        else:
            match = _ID.fullmatch(info.get("httpid") or "")
            job = self._by_id.get(int(match.group(1))) if match else None
        if job is not None and not job.over:
            self._guarded(job, self._job_urc, info)
        else:
            log.warning("dropped +MHTTPURC %r for no request in flight (instance %r)",
                        (info.variant or "")[:16], (info.get("httpid") or "")[:16])

    def _on_progress(self, info: Info) -> None:
        job = next((j for j in self._jobs.values() if j.file), None)
        if job is not None:
            self._guarded(job, lambda j, i: self._events_of(j, j.reception.on_progress(i)), info)
        else:
            log.warning("dropped %s for no download in flight", DLFILE)

    def _job_urc(self, job: _Job, info: Info) -> None:
        variant = info.variant
        if variant == "ind":
            self._on_ind(job)
        elif variant == "header":
            self._events_of(job, job.reception.on_head(info.payload))
        elif variant == "content" and not job.file:
            self._events_of(job, job.reception.on_content(info))
        elif variant == "err":
            code = info.get("error_code") or ""
            raise _Fail(self._errors.async_kind(code), f"+MHTTPURC: \"err\" {code[:16]}", terminate=False)
        else:
            raise _Fail(ErrorKind.RESPONSE_INVALID, f"unexpected +MHTTPURC: {variant!r}")

    def _on_ind(self, job: _Job) -> None:
        if job.ind:
            return  # already seen (an "ind" without its line end is taken before it is framed)
        job.ind = True
        if job.waiting == _WAIT_IND:
            job.waiting = None
            job.timer.stop()
            self._step(job, None)

    def _peek_ind(self) -> None:
        """An "ind" without its CRLF stays in the framer until the next byte, which the module
        sends only after the content it waits for: take it from the unframed tail."""
        waiting = [j for j in self._jobs.values() if j.waiting == _WAIT_IND]
        buffered = self.framer.buffered
        if not waiting or not 0 < buffered <= len(self._tail):
            return
        match = _IND_TAIL.search(self._tail[-buffered:])
        for job in waiting:
            if match and int(match.group(1)) == job.httpid:
                self._on_ind(job)

    def _events_of(self, job: _Job, events: list[Event]) -> None:
        self._events.extend((job.token, e) for e in events)
        if job.waiting:
            job.timer.start(self._response_span(job.request), self._now)
        if job.reception.done:
            self._complete(job)

    def _guarded(self, job: _Job, handler: Callable[[_Job, Info], None], info: Info) -> None:
        try:
            handler(job, info)
        except _Fail as fail:
            self._fail(job, fail.kind, fail.detail, fail.terminate)
            if fail.kind is ErrorKind.RESPONSE_INVALID:
                log.warning("dropped %s %r the request could not use; it fails", info.name, (info.variant or "")[:16])
        except (ValueError, LookupError) as exc:
            log.warning("dropped %s %r with a field out of range; the request fails", info.name, (info.variant or "")[:16])
            self._fail(job, ErrorKind.RESPONSE_INVALID, f"{info.name} {info.variant or ''}: {exc}")

    def _on_bad_frame(self, frame: FramingError) -> None:
        match = _URC_ID.search(frame.raw)
        job = self._by_id.get(int(match.group(2))) if match else None
        if job is None and frame.raw.lstrip().startswith(DLFILE.encode()):
            job = next((j for j in self._jobs.values() if j.file), None)
        # the reason names the frame and what was wrong with it; the frame's bytes (which may
        # carry response headers) are not logged
        log.warning("dropped a module frame the host side cannot use: %s", frame.reason[:160])
        if job is not None:
            self._fail(job, ErrorKind.RESPONSE_INVALID, f"malformed report: {frame.reason}")

    # ---- scripts ----------------------------------------------------------------------------

    def _instance_script(self, job: _Job) -> _Script:
        """A request on an instance: TLS, MHTTPCREATE, MHTTPCFG, headers, content, MHTTPREQUEST."""
        request = job.request
        target = _target(request.url)
        headers = self._header_lines(request, job.method, target)
        body, stream = self._body(request)
        declared = self._declared_length(request) if stream is not None else None
        if declared is not None:  # a streamed body of a stated size: Content-Length mode, as asked
            stream = _counted(stream, declared)
            body, sized, stream = None, stream, None
        else:
            sized = None
        if stream is not None and job.method not in _CHUNKED_METHODS:
            raise _Fail(ErrorKind.UNSUPPORTED, f"a streamed body goes in chunked mode, which {job.method} has not", terminate=False)
        if headers or body is not None or stream is not None or sized is not None:
            self._need_data_mode("request headers and bodies")
        method = self._limits.methods.get(job.method)
        if method is None:
            raise _Fail(ErrorKind.UNSUPPORTED, f"method {job.method}", terminate=False)
        instance = yield from self._instance(job, target)
        job.instance, job.httpid = instance, instance.httpid
        self._by_id[instance.httpid] = job
        yield from self._configure(instance, request, chunked=stream is not None)
        for index, line in enumerate(headers):
            eof = self._code("header_eof", "last" if index == len(headers) - 1 else "more")
            yield _Cmd(_at("MHTTPHEADER", instance.httpid, eof, len(line)), line)
        if body is not None:
            yield from self._content(instance.httpid, [body])
        if sized is not None:
            yield from self._content(instance.httpid, sized)
        yield _Cmd(_at("MHTTPREQUEST", instance.httpid, int(method), 0, target.path))
        job.sent = True
        if stream is not None:
            yield _WAIT_IND  # "ind": connected, the request head has gone out
            yield from self._content(instance.httpid, stream)
            self._sent(job)
        else:
            self._taken(job)
        yield _WAIT_END

    def _file_script(self, job: _Job) -> _Script:
        """A download to a module file: AT+MHTTPDLFILE (a GET with the default headers)."""
        request = job.request
        target = _target(request.url)
        extra = [n for n, _ in request.headers if n.lower() not in FRAMING_HEADERS]
        if job.method != "GET" or request.body or extra or target.credentials:
            raise _Fail(ErrorKind.UNSUPPORTED, "AT+MHTTPDLFILE sends a GET with the default headers only", terminate=False)
        if "MHTTPDLFILE" in (self.profile.get("commands_missing") or ()):
            raise _Fail(ErrorKind.UNSUPPORTED, f"{self.profile.name} has no AT+MHTTPDLFILE", terminate=False)
        ssl_id = (yield from self._tls(job, target)) if target.tls else None
        span = request.byte_range.header_value() if request.byte_range else None
        eof = self._code("dlfile_eof", "append") if request.append else None  # omitted: the default, overwrite
        line = _at("MHTTPDLFILE", target.url, request.save_to, self.progress_step, span, eof, ssl_id)
        yield from self._with_room(_Cmd(line, tolerate=True))
        job.sent = True
        self._taken(job)
        yield _WAIT_END

    def _taken(self, job: _Job) -> None:
        """The module has taken the whole request (its command answered OK) but reports nothing
        when it has connected and sent it: RequestSent follows SENT_GRACE later unless the module
        has reported a failure (a refused connection comes at once) or the response by then."""
        if job.request.report_sent:
            job.report.start(SENT_GRACE, self._now)

    def _sent(self, job: _Job) -> None:
        """The whole request has gone out: say so to a request that asks (Neoway AT+HTTPACTION
        answers OK at this point), unless the response has already begun."""
        job.report.stop()
        if job.request.report_sent and job.reception.head is None and not job.over:
            self._events.append((job.token, RequestSent()))

    def _instance(self, job: _Job, target: Target) -> Generator[_Op, Optional[Answer], _Instance]:
        """A kept instance for the same server and TLS settings, or a new one."""
        key = (target.origin, self._tls_key(job.request) if target.tls else None)
        for kept in self._pool:
            if kept.key == key:
                self._pool.remove(kept)
                job.ssl_id = kept.ssl_id
                return kept
        ssl_id = (yield from self._tls(job, target)) if target.tls else None
        yield from self._with_room(_Cmd(_at("MHTTPCREATE", target.origin), tolerate=True, creates=True))
        if job.httpid is None:
            raise _Fail(ErrorKind.RESPONSE_INVALID, "AT+MHTTPCREATE answered no free instance id", terminate=False)
        instance = _Instance(job.httpid, key, ssl_id, self._limits.defaults())
        if ssl_id is not None:
            yield _Cmd(_at("MHTTPCFG", "ssl", instance.httpid, self._code("ssl_enable", True), ssl_id))
        return instance

    def _with_room(self, cmd: _Cmd) -> Generator[_Op, Optional[Answer], Answer]:
        """`cmd` (tolerated), which needs a free instance slot (MHTTPCREATE, MHTTPDLFILE): on "no
        free instance" the oldest kept instance is deleted and `cmd` sent again."""
        while True:
            answer = yield cmd
            assert answer is not None and answer.final is not None
            if answer.ok:
                return answer
            kind = self._sync_kind(answer.final)
            if kind is not ErrorKind.NO_FREE_INSTANCE or not self._pool:
                raise _Fail(kind, f"{cmd.line[:60]!r}: {answer.final}", terminate=False)
            yield from self._evict()

    def _evict(self) -> Generator[_Op, Optional[Answer], None]:
        """Delete the oldest kept instance to make room."""
        kept = self._pool.pop(0)
        if kept.ssl_id is not None:
            self._ssl_free.append(kept.ssl_id)
        yield _Cmd(_at("MHTTPDEL", kept.httpid), tolerate=True)

    def _configure(self, instance: _Instance, request: Request, chunked: bool) -> Generator[_Op, Optional[Answer], None]:
        timeouts = self._limits.timeouts(request)
        if timeouts != instance.timeouts:
            yield _Cmd(_at("MHTTPCFG", "timeout", instance.httpid, *timeouts))
            instance.timeouts = timeouts
        if chunked != instance.chunked:
            yield _Cmd(_at("MHTTPCFG", "chunked", instance.httpid, self._code("chunked_mode", chunked)))
            instance.chunked = chunked

    def _content(self, httpid: int, chunks: Iterable[memoryview]) -> Generator[_Op, Optional[Answer], None]:
        """The body in data mode, pieces of at most the data-mode size, the last with eof 0."""
        for piece, last in _slices(chunks, self._limits.content_max):
            yield _Cmd(_at("MHTTPCONTENT", httpid, self._code("content_eof", "last" if last else "more"), len(piece)), piece)

    def _tls(self, job: _Job, target: Target) -> Generator[_Op, Optional[Answer], int]:
        """An SSL context set up for the request: certificates, authentication, version."""
        tls = job.request.tls or TlsSettings()
        want = self._tls_key(job.request)
        ssl_id = job.ssl_id = self._ssl_pick(want)
        if self._ssl_config.get(ssl_id) == want:
            return ssl_id
        self._ssl_config.pop(ssl_id, None)
        names = []
        for role, value in zip(_CERT_ROLES, (tls.ca, tls.client_cert, tls.client_key)):
            names.append((yield from self._cert(value, role)))
        if any(names):
            while names and names[-1] is None:
                names.pop()
            yield _Cmd(_at("MSSLCFG", "cert", ssl_id, *(n or "" for n in names)))
        yield _Cmd(_at("MSSLCFG", "auth", ssl_id, self._code("cert_verify", VerifyMode(tls.verify))))
        if tls.version:
            code = self._version_code(tls)
            if code is None:
                raise _Fail(ErrorKind.UNSUPPORTED, f"TLS version {tls.version}", terminate=False)
            yield _Cmd(_at("MSSLCFG", "version", ssl_id, int(code)))
        self._ssl_config[ssl_id] = want
        return ssl_id

    def _version_code(self, tls: TlsSettings) -> Optional[str]:
        """MSSLCFG "version" for `tls.version`: a pin as such; a lowest version offered
        (version_is_minimum) is "all versions" unless it is the newest the enum has -- OneMO can
        pin a version or offer all, not state a floor, so the floor is not enforced there."""
        code = self._limits.ssl_versions.get((tls.version or "").replace(" ", "").lower().replace("v", ""))
        enum = self.dialect.enums.get("ssl_version", {})
        pins = [key for key, text in enum.items() if text.startswith(("SSL ", "TLS "))]
        everything = next((key for key in enum if key not in pins), None)
        if tls.version_is_minimum and code is not None and pins and code != max(pins, key=int) and everything:
            return everything
        return code

    def _ssl_pick(self, want: tuple) -> int:
        """A free SSL context: one set up the same way, else a clean one, else any."""
        if not self._ssl_free:
            raise _Fail(ErrorKind.NO_FREE_INSTANCE, "no free SSL context", terminate=False)
        same = [i for i in self._ssl_free if self._ssl_config.get(i) == want]
        clean = [i for i in self._ssl_free if i not in self._ssl_config]
        ssl_id = (same or clean or self._ssl_free)[0]
        self._ssl_free.remove(ssl_id)
        return ssl_id

    def _cert(self, value: Union[str, bytes, None], role: str) -> Generator[_Op, Optional[Answer], Optional[str]]:
        """The module's name for a certificate or key: a PEM is written in data mode (once per
        session) under a name that says its role and content (atb_ca_<sha256 prefix>.pem, atb_cli_...,
        atb_key_<...>.key) -- a key with AT+MSSLKEYWR, the others with AT+MSSLCERTWR; anything
        else is a name the module already knows."""
        if value is None:
            return None
        data = value.encode("latin-1") if isinstance(value, str) else bytes(value)
        if b"-----BEGIN" not in data:
            return str(value)
        command = "MSSLKEYWR" if role == "key" else "MSSLCERTWR"
        name = f"atb_{role}_{hashlib.sha256(data).hexdigest()[:16]}.{'key' if role == 'key' else 'pem'}"
        if name not in self._certs:
            self._need_data_mode("certificates given as PEM")
            if len(data) > self._limits.cert_max:
                raise _Fail(ErrorKind.INVALID_PARAMETER, f"a PEM of {len(data)} bytes; the module takes {self._limits.cert_max}", terminate=False)
            yield _Cmd(_at(command, name, 0, len(data)), data)
            self._certs.add(name)
        return name

    def _need_data_mode(self, what: str) -> None:
        """Data goes after ">" (any byte, no quoting rules); MN models have no data mode (fn 5)."""
        if not self.profile.get("data_mode", True):
            raise _Fail(ErrorKind.UNSUPPORTED, f"{what} need data mode, which {self.profile.name} has not", terminate=False)

    @staticmethod
    def _tls_key(request: Request) -> tuple:
        tls = request.tls or TlsSettings()
        return (tls.ca, tls.client_cert, tls.client_key, VerifyMode(tls.verify), tls.version, tls.version_is_minimum)

    # ---- request parts -------------------------------------------------------------------------

    def _header_lines(self, request: Request, method: str, target: Target) -> list[bytes]:
        """One bare "Name: value" per header (one AT+MHTTPHEADER call each: the module ends the line,
        and a CRLF of ours would read as an early end of the header block), checked by h11."""
        headers = [(n, v) for n, v in request.headers if n.lower() not in FRAMING_HEADERS]  # the module frames the body itself
        if target.credentials and request.header("authorization") is None:
            headers.append(basic_authorization(target.credentials))
        if request.byte_range is not None:
            headers.append(("Range", request.byte_range.header_value()))
        try:
            host = [] if request.header("host") is not None else [("Host", "module")]
            h11.Request(method=method, target=target.path, headers=host + headers)
            lines = [f"{name}: {value}".encode("latin-1") for name, value in headers]
        except (h11.LocalProtocolError, UnicodeEncodeError) as exc:
            raise _Fail(ErrorKind.INVALID_PARAMETER, f"request header: {exc}", terminate=False) from None
        if any(len(line) > self._limits.header_max for line in lines):
            raise _Fail(ErrorKind.INVALID_PARAMETER, f"a header line is longer than {self._limits.header_max}", terminate=False)
        return lines

    def _declared_length(self, request: Request) -> Optional[int]:
        """The Content-Length a request with a streamed body states, if the module can collect
        that much before MHTTPREQUEST (Content-Length mode); else None (chunked mode)."""
        value = request.header("content-length")
        if value is None or not value.strip().isdigit():
            return None
        length = int(value.strip())
        return length if 0 < length <= self._limits.content_total else None

    @staticmethod
    def _body(request: Request) -> tuple[Optional[memoryview], Optional[Iterator[memoryview]]]:
        """(bytes for Content-Length mode, or a stream for chunked mode); an empty stream is no body."""
        body = request.body
        if body is None:
            return None, None
        if _is_bytes(body):
            view = memoryview(body).cast("B")
            return (view if len(view) else None), None
        pieces = _pull(body)
        first = next(pieces, None)  # one piece ahead: an empty stream is no body at all
        if first is None:
            return None, None
        return None, itertools.chain((first,), pieces)

    # ---- small tables ----------------------------------------------------------------------------

    def _sync_kind(self, final: Final) -> ErrorKind:
        return self._errors.final_kind(final)

    def _code(self, enum: str, meaning: object) -> int:
        """The code of onemo.yaml's enum `enum` that means `meaning` (an int parameter)."""
        return int(self._limits.codes[enum].token(meaning))  # type: ignore[arg-type]

    def _span(self, line: bytes) -> float:
        match = _NAME.match(line)
        name = match.group(1).decode().upper() if match else ""
        spec = self.dialect.command(name)
        if spec is not None and spec.timeout:
            return float(spec.timeout)
        return float(self.dialect.timeouts.get(name, self.command_timeout))

    def _response_span(self, request: Request) -> float:
        t = request.timeouts
        connect = t.connect if t.connect is not None else float(self._limits.timeout_specs[0].range[1])  # type: ignore[index]
        response = t.response if t.response is not None else RESPONSE_WAIT
        return connect + response + WAIT_MARGIN

    def _arm(self, now: float) -> None:
        self._commands.arm(now)
        for job in self._jobs.values():
            job.timer.arm(now)
            job.report.arm(now)
