"""The Neoway host side (client role), sans-I/O: requests of the shared model become AT+HTTPPARA /
AT+HTTPSETUP / AT+HTTPACTION (or the HTTPS family) commands, and the module's +HTTPRECV output
becomes the model's events.  The same interface as :class:`bridge.onemo.host.side.OnemoHostSide`.

Bytes from the module go in with :meth:`NeowayHostSide.receive_data`, bytes for the module come
out of :meth:`NeowayHostSide.data_to_send`, time goes in with :meth:`NeowayHostSide.on_time`.
Nothing here reads a port or a clock and nothing sleeps.  Calls without `now` (submit,
passthrough, cancel) start their timers at the next call that brings one.

The module has one HTTP context, so requests run one after another, in the order submitted; one
command is outstanding at a time (bridge/roles/host_commands.py, shared with the OneMO host side, as is
bridge/roles/host.py).  A request runs as a script of commands (scripts.py), chosen by
host_plan.py; its response is parsed by h11 (host_reception.py).
What the manual states as tables is read from dialects/neoway.yaml.  Module input never raises:
what does not add up fails the request with a Failure; a module that goes silent times out.

Decisions where the manual leaves room:

- A request without `keep_alive` leaves its link to the module (keepalive 0: it closes it and
  says +HTTPCLOSED) and AT+HTTPCLOSE is sent only when a request failed, or before the next
  request if the module has not reported the close by then -- AT+HTTPCLOSE clears the HTTPPARA
  settings, so unchanged settings are not sent again only while it is not needed.  A kept link is
  used again by the next request to the same server with the same TLS settings, and set up again
  once if AT+HTTPACTION finds it gone.
- After a failed request, its AT+HTTPCLOSE waits for its answer as long as the module may still
  be receiving (its own HTTPACTION time), and the next request's commands follow it, their
  timers starting when each is written.  A +HTTPCLOSED with no response byte, once the module's
  own response time has run, is RESPONSE_TIMEOUT (a stalled server), not a closed connection.
- A length-framed piece or raw response that stops short (or an unsolicited one) is given up at
  the dialect's deadline (the request's silence, or the module's HTTPACTION time when none
  runs): ResponseFramer.abandon_payload() resynchronises, the request fails, and the commands
  after it are served.  A module frame that cannot be used is logged (warning) and dropped.
- A failed AT+HTTPSETUP / AT+HTTPSSETUP to a host name is told apart by the module's DNS query
  AT+CDNSGIP (scripts.py): DNS_FAILED if the module cannot resolve the name; a module
  without the command (N720, or an error answer) or silent for its 15 s leaves the connect failure.
- A failed AT+HTTPSSETUP is told apart by a plain AT+HTTPSETUP to the same host and port
  (scripts.py): TLS_FAILED if that connects, else the connect failure.
- `save_to` downloads with AT+FILEHTTPACTION=0,<offset>,<size>,<file> (the optional file name
  of the Chinese v2.0 manual).  With a closed byte range the size is the range's; without one
  it is the most the command takes (524288 in the YAML) and, when the module reports that many
  bytes, the request ends with Failure(UNSUPPORTED) since the resource may be longer (a resource
  of exactly that size is refused too).  AT+HTTPGET is not used: it writes to a file the
  firmware chooses and reports no length.  The events are Progress(length, size) from
  +FILEHTTPSTAT and ResponseEnd -- the module reports no response head.
- A response timeout of the request shorter than the module's own (HTTPACTION 30 s) is kept
  here, to the second (RESPONSE_TIMEOUT); a longer one stretches the waits.  An AT+HTTPSETUP
  that is never answered is a CONNECT_TIMEOUT.
- A streamed body (an iterable, not bytes) is collected -- it must fit the 2048 bytes anyway --
  and sent in mode 99 framed chunked, as the network executor frames one, unless the request
  gives its own Content-Length.
- For a bridge (BridgeEngine hands this object to the module side's adapt_to_executor): the
  attributes one_request_at_a_time, streams_request_body, request_body_max and files_on_module
  say what this module cannot do, and :meth:`NeowayHostSide.refusal` tells, before anything is
  queued, whether a request would be refused.
- Certificates (TlsSettings.ca/client_cert/client_key) are file names in the module's file
  system, or PEM text: that is written to the module first with AT+FSWF (N58 manual 28.1) under
  a name of its role and content (scripts.pem_name), once per session.  TLS settings
  are set with AT+HTTPSCFG only when they change; TlsSettings.version None means the highest
  version the YAML lists, and TlsSettings.sni is not sent (no HTTPSCFG option in the YAML).
"""
from __future__ import annotations

import logging
import re
from typing import Callable, Optional, Union

from bridge.at.dialect import Dialect, load
from bridge.secrets import mask_text
from bridge.at.frames import Frame, FramingError, HttpBody, HttpEnd, HttpHead, Info
from bridge.model import Connected, ErrorKind, Event, Failure, ModuleCall, Progress, Request, RequestSent, ResponseEnd
from bridge.neoway.host import bringup as host_bringup
from bridge.neoway.host import scripts
from bridge.roles.host_commands import Answer, Exchange, Timer
from bridge.roles.host import HostPlumbing
from bridge.neoway.host.errors import ErrorTable, Fail
from bridge.at.encode import frame_bytes
from bridge.neoway.host.plan import FAMILIES, Action, Family, FilePlan, Limits, Target, method_of, plan_action, plan_file, target_of
from bridge.neoway.host.reception import Reception
from bridge.neoway.host.scripts import COMMAND_FLOOR, Cmd, Link, Spans

DIALECT = "neoway"
FILE_STAT = "+FILEHTTPSTAT"
FILE_OK = "1"  # enum file_stat: succeeded
_FILE_STATS = ("0", "1")  # enum file_stat keys: a second field that is neither is an <errcode>
_RawFrame = Union[HttpHead, HttpBody, HttpEnd]
_LENGTH = re.compile(r"[0-9]{1,10}")  # ASCII only: str.isdigit() takes "²", which int() refuses
log = logging.getLogger(__name__)


class _Job:
    def __init__(self, token: int, request: Request) -> None:
        self.token = token
        self.request = request
        self.method = method_of(request)
        self.target: Optional[Target] = None
        self.action: Optional[Action] = None
        self.file: Optional[FilePlan] = None
        self.script: Optional[scripts.Script] = None
        self.reception = Reception(self.method)
        self.timer = Timer()
        self.receiving = False  # AT+HTTPACTION went out: +HTTPRECV output is this request's
        self.answered = False  # AT+HTTPACTION / AT+FILEHTTPACTION answered OK
        self.answered_at: Optional[float] = None
        self.waiting = False  # the script waits for the response
        self.over = False


class _Call:
    """A bring-up operation (ModuleCall) running as a host_bringup script."""

    def __init__(self, token: int, script: host_bringup.Script) -> None:
        self.token = token
        self.script = script
        self.timer = Timer()  # the pause between two polls


class NeowayHostSide(HostPlumbing[_Job]):
    """Drives a Neoway N58/N720 module: :class:`~bridge.model.Request` in, events out (sans-I/O).

    Start-up (ATE0, AT+CMEE=1, HTTPCLOSE/HTTPSCLOSE, the data link, recvmode 1) is queued at construction;
    :attr:`ready` is None until it has run, then True (or False when the module did not answer
    ATE0).  Requests wait for it, then run one at a time.
    """

    def __init__(self, dialect: Optional[Dialect] = None, model: Optional[str] = None, *,
                 command_floor: float = COMMAND_FLOOR) -> None:
        super().__init__(dialect if dialect is not None else load(DIALECT))
        self.profile = self.dialect.model(model)
        self.limits = Limits.read(self.dialect)
        self.errors = ErrorTable(self.dialect)
        self.spans = Spans(self.limits, command_floor)
        self.link = Link()
        missing = self.profile.get("commands_missing") or []
        self.data_link = scripts.MYNETACT if "XIIC" in missing else "XIIC"
        self.families = tuple(f for f in FAMILIES if not f.secure or self.profile.get("ssl", True))
        self.dns_query = self._has(scripts.DNS_QUERY)
        self._ops = host_bringup.templates(self.dialect, frozenset(n for n in self.dialect.commands if not self._has(n)))
        self._calls: list[_Call] = []
        self.ready: Optional[bool] = None
        self._job: Optional[_Job] = None
        self._ours = self._own_reports()
        self._recv = {f.urc("RECV"): f for f in FAMILIES}
        self._closed = {f.urc("CLOSED"): f for f in FAMILIES}
        # answers to our AT+HTTPCLOSE and (late) AT+CDNSGIP: nothing for a request in them
        self._close_reports = frozenset(f.urc("CLOSE") for f in FAMILIES)  # "+HTTPCLOSE: HTTP Link Closed"
        self._late_answers = frozenset({scripts.DNS_REPORT})
        self._raw = False  # the framer is inside a raw (recvmode 0) HTTP response
        self._stuck = Timer()  # the framer inside a payload no request waits for: its deadline
        self._startup = scripts.startup(self)
        self._run_startup(None)

    def _has(self, command: str) -> bool:
        """Whether the YAML gives the module's model `command`."""
        spec = self.dialect.commands.get(command)
        missing = self.profile.get("commands_missing") or []
        return spec is not None and command not in missing and (not spec.models or self.profile.name in spec.models)

    # ---- the I/O loop's interface ------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes the module wrote."""
        with self._clock(now):
            self._frame(data)
            if self._raw:
                for frame in self.framer.release():  # a live reader does not wait for full blocks
                    self._dispatch(frame)
            self._watch_payload()

    def _watch_payload(self) -> None:
        """A payload being read while no request waits for one gets the module's own response
        time (a request's payload is watched by the request's timer)."""
        job = self._job
        if not self.framer.in_payload or (job is not None and job.timer.span is not None):
            self._stuck.stop()
        else:
            self._stuck.start(max(self.spans.busy(f) for f in self.families), self._now)

    def next_deadline(self) -> Optional[float]:
        """When :meth:`on_time` must be called next (0.0: at once), or None."""
        wakes = [self._commands.wake(), self._job.timer.wake() if self._job else None, self._stuck.wake()]
        wakes += [call.timer.wake() for call in self._calls]
        return min((w for w in wakes if w is not None), default=None)

    def on_time(self, now: float) -> None:
        """Time has passed: fire what is due."""
        with self._clock(now):
            self._commands.on_time(now)
            for call in [c for c in self._calls if c.timer.due(now)]:
                call.timer.stop()
                self._call_step(call, None)
            job = self._job
            if job is not None and job.timer.due(now):
                self._fail(job, ErrorKind.RESPONSE_TIMEOUT, "the module reported nothing more in time")
                self._abandon()
            elif self._stuck.due(now):
                self._abandon()
            self._watch_payload()

    def _abandon(self) -> None:
        """Give up a payload or raw response that stopped coming; frame on after it."""
        self._stuck.stop()
        self._raw = False
        error = self.framer.abandon_payload()
        if error is None:
            return
        self._on_bad_frame(error)
        self._frame(b"")

    # ---- requests ---------------------------------------------------------------------------

    def submit(self, request: Request) -> int:
        """Queue `request`; its events come out of :meth:`take_events` under the returned token."""
        token = next(self._tokens)
        self._pending.append(_Job(token, request))
        self._admit()
        return token

    def cancel(self, token: int) -> None:
        """Stop a request; it ends with Failure(CANCELLED).  A running one closes the link."""
        self._cancel_pending(token)
        if self._job is not None and self._job.token == token:
            self._fail(self._job, ErrorKind.CANCELLED, "cancelled")

    @property
    def idle(self) -> bool:
        """No command queued or outstanding and no request running or waiting."""
        return self._commands.idle and self._job is None and not self._pending and not self._calls

    # ---- what a bridge's module side adapts to (BridgeEngine calls its adapt_to_executor) ------

    one_request_at_a_time = True  # one HTTP context: requests run one after another
    streams_request_body = False  # AT+HTTPACTION takes the body whole, after '>'
    files_on_module = True  # save_to and certificate names are files of the module (a PEM is written there with AT+FSWF)

    @property
    def request_body_max(self) -> int:
        """The most body bytes one AT+HTTPACTION carries (with the head, in mode 99)."""
        return self.limits.data_max

    def refusal(self, request: Request) -> Optional[Failure]:
        """The Failure `request` would end with before any command is sent (too large, a URL, TLS
        setting or certificate the module cannot take), or None.  Nothing is queued; a body that
        is an iterator is not consumed (lists and tuples are checked)."""
        try:
            target = target_of(request.url, self.limits)
            if target.tls:
                scripts.tls_options(self.limits, request.tls)
            if request.save_to is not None:
                plan_file(request, target, self.limits)
            elif request.body is None or isinstance(request.body, (bytes, bytearray, memoryview, list, tuple)):
                plan_action(request, target, self.limits)
        except Fail as fail:
            return Failure(fail.kind, fail.detail)
        return None

    # ---- pass-through (the rest in HostPlumbing) -------------------------------------------

    def _span(self, line: bytes) -> float:
        return self.spans.command(line)

    # ---- bring-up operations (model.ModuleOp): AT+XIIC, AT+CCID, AT+NETAPN, AT+XGAUTH ----------

    def _module_call(self, token: int, call: ModuleCall) -> None:
        running = _Call(token, host_bringup.script(call, self._ops))
        self._calls.append(running)
        if self.ready is not None:  # else it starts once the start-up has run
            self._call_step(running, None)

    def _call_step(self, call: _Call, answer: Optional[Answer]) -> None:
        try:
            step = call.script.send(answer)
        except StopIteration as stop:
            self._calls.remove(call)
            self._module_answer(call.token, stop.value)
            return
        if isinstance(step, bytes):
            exchange = Exchange(step, lambda got: self._call_step(call, got), self.spans.command(step), None, call,
                                self._owned)
            self._commands.add(exchange, self._now)
        else:
            call.timer.start(step, self._now)

    # ---- start-up ---------------------------------------------------------------------------

    def _run_startup(self, answer: Optional[Answer]) -> None:
        try:
            op = self._startup.send(answer)
        except StopIteration as stop:
            self.ready = bool(stop.value)
            for call in list(self._calls):
                self._call_step(call, None)
            self._admit()
            return
        assert isinstance(op, Cmd)
        exchange = Exchange(op.line, self._run_startup, op.span or self.spans.command(op.line), op.data, self, self._owned)
        self._commands.add(exchange, self._now)

    # ---- running requests ---------------------------------------------------------------------

    def _admit(self) -> None:
        while self.ready is not None and self._job is None and self._pending:
            job = self._pending.popleft()
            try:
                job.script = self._script(job)
            except Fail as fail:
                self._events.append((job.token, Failure(fail.kind, fail.detail)))
                continue
            self._job = job
            self._step(job, None)

    def _script(self, job: _Job) -> scripts.Script:
        """The request's commands; raises Fail for what the module cannot be asked."""
        request = job.request
        target = job.target = target_of(request.url, self.limits)
        tls = scripts.tls_options(self.limits, request.tls) if target.tls else ()
        if request.connect_only:
            return scripts.connect(self, request, target, tls)
        if request.save_to is not None:
            job.file = plan_file(request, target, self.limits)
            return scripts.download(self, request, target, job.file, tls, self.limits.file_get)
        job.action = plan_action(request, target, self.limits)
        job.reception = Reception(job.action.method, self._closed_kind(target.family))
        return scripts.exchange(self, request, target, job.action, tls, lambda: self._restart_reception(job))

    def _closed_kind(self, family: Family) -> ErrorKind:
        """The YAML's kind of the closing URC ("+HTTPCLOSED: HTTP Link Closed") before a response is whole."""
        prefix = family.urc("CLOSED") + ":"
        return next((s.kind for t, s in self.dialect.async_errors.items() if t.startswith(prefix)), ErrorKind.CONNECTION_CLOSED)

    def _restart_reception(self, job: _Job) -> None:
        job.reception = Reception(job.reception.method, job.reception.closed_kind)
        job.receiving = False

    def _step(self, job: _Job, answer: Optional[Answer]) -> None:
        assert job.script is not None
        try:
            op = job.script.send(answer)
        except StopIteration:
            return
        except Fail as fail:
            self._fail(job, fail.kind, fail.detail)
            return
        except (ValueError, TypeError, LookupError) as exc:  # a request the module cannot be asked for
            self._fail(job, ErrorKind.INVALID_PARAMETER, repr(exc))
            return
        if isinstance(op, Cmd):
            self._send(job, op)
        elif op == scripts.CONNECTED:
            self._events.append((job.token, Connected()))
            self._complete(job)
        else:
            self._wait(job)

    def _send(self, job: _Job, cmd: Cmd) -> None:
        span = cmd.span if cmd.span is not None else self.spans.command(cmd.line)
        exchange = Exchange(cmd.line, lambda answer: self._answered(job, cmd, answer), span, cmd.data, job,
                            self._owned, cmd.ends, after_ok=cmd.after_ok)
        if cmd.receives:
            job.receiving = True
            self.framer.expect_http(job.method)  # a module that ignores recvmode 1: HEAD has no body
        self._commands.add(exchange, self._now)

    def _answered(self, job: _Job, cmd: Cmd, answer: Answer) -> None:
        if job.over:
            return
        what = cmd.line[:60].decode("latin-1")
        if answer.timed_out and not cmd.tolerate_silence:
            setup = job.target is not None and cmd.line == f"AT+{job.target.family.command('SETUP')}".encode()
            kind = ErrorKind.CONNECT_TIMEOUT if setup else ErrorKind.RESPONSE_TIMEOUT  # HTTPSETUP connects
            self._fail(job, kind, f"no answer to {what}")
        elif not answer.ok and not cmd.tolerate:
            line = answer.line
            kind = (self.errors.line_kind(line) if line is not None else None) or (
                self.errors.final_kind(answer.final) if answer.final is not None else ErrorKind.UNKNOWN)
            self._fail(job, kind, f"{what}: {answer.final or line}")
        else:
            if cmd.receives and answer.ok and job.request.report_sent:
                self._events.append((job.token, RequestSent()))  # a Neoway module's OK: the request went out
            self._step(job, answer)

    def _wait(self, job: _Job) -> None:
        job.answered = job.waiting = True
        job.answered_at = self._now
        assert job.target is not None
        family = job.target.family
        span = self.spans.silence(job.request, family)
        if job.file is not None:
            span += self.spans.setup(job.request, family)  # the module connects for the transfer
        job.timer.start(span, self._now)

    # ---- ending requests ------------------------------------------------------------------------

    def _fail(self, job: _Job, kind: ErrorKind, detail: str = "") -> None:
        if job.over:
            return
        self._events.append((job.token, Failure(kind, detail)))
        self._retire(job, failed=True)

    def _complete(self, job: _Job) -> None:
        self._retire(job, failed=False)

    def _retire(self, job: _Job, failed: bool) -> None:
        job.over = True
        job.timer.stop()
        if job.script is not None:
            try:
                job.script.close()
            except ValueError:  # closing from inside the running script: it ends by itself
                pass
        self._commands.drop(job)
        self._job = None
        self._after(job, failed)
        self._admit()

    def _after(self, job: _Job, failed: bool) -> None:
        """Close the link unless the request keeps it (or never got near it)."""
        if job.target is None:
            return
        family = job.target.family
        kept = not failed and job.request.keep_alive and self.link.up
        if not failed and not kept and job.answered and job.file is None:
            self.link.closing = self.link.up  # keepalive 0: the module closes it (+HTTPCLOSED)
            return
        touched = job.receiving or job.answered or (self.link.up and self.link.key is not None and self.link.key[0] == family.secure)
        if kept or not touched:
            return
        streaming = (job.receiving or job.answered) and not job.reception.done and job.file is None
        cmd = scripts.close(self, family)
        span = self.spans.busy(family) if streaming else self.spans.command(cmd.line)
        exchange = Exchange(cmd.line, lambda answer: None, span, None, self, self._owned, patient=streaming)
        self._commands.add(exchange, self._now)

    # ---- the module's output ----------------------------------------------------------------

    def _dispatch(self, frame: Frame) -> None:
        if self._to_commands(frame):
            return
        if isinstance(frame, (HttpHead, HttpBody, HttpEnd)):
            self._on_raw(frame)
        elif isinstance(frame, FramingError):
            self._on_bad_frame(frame)
        elif self._commands.offer(frame, self._now):
            return
        elif isinstance(frame, Info) and frame.name in self._ours:
            self._on_report(frame)
        else:
            self._unsolicited.append(frame_bytes(frame, self.dialect))

    def _own_reports(self) -> frozenset[str]:
        """The dialect's own URCs (HTTP ones): consumed here, never passed on as unsolicited."""
        common = load("common").frames
        return frozenset(name for name, spec in self.dialect.frames.items() if spec.unsolicited and name not in common)

    def _on_report(self, info: Info) -> None:
        self._commands.on_activity(self._now)
        name = info.name
        if name in self._recv:
            self._on_recv(info, self._recv[name])
        elif name in self._closed:
            self._on_closed(self._closed[name])
        elif name == FILE_STAT:
            self._on_file_stat(info)
        elif name in self._close_reports:
            self.link.close_reported = "CLOSED" in (info.get("text") or "").upper()  # not "+HTTPCLOSE: ERROR"
        elif name not in self._late_answers:
            self._on_error_line(info)

    def _receiving(self, family: Family) -> Optional[_Job]:
        job = self._job
        if job is None or job.over or not job.receiving or job.target is None or job.target.tls != family.secure:
            return None
        return job

    def _on_recv(self, info: Info, family: Family) -> None:
        job = self._receiving(family)
        if info.payload is None:  # bare "+HTTPRECV:": the module ignored recvmode 1; the framer reads raw HTTP
            self._raw = True
            return
        if job is not None:
            data = info.payload
            self._feed(job, lambda: job.reception.on_piece(data))
        else:
            log.warning("Neoway module output dropped: %s piece of %d bytes with no request receiving", info.name,
                        len(info.payload))

    def _on_raw(self, frame: _RawFrame) -> None:
        self._commands.on_activity(self._now)
        if isinstance(frame, HttpEnd):
            self._raw = False
        job = self._job
        if job is not None and not job.over and job.receiving:
            self._feed(job, lambda: job.reception.on_frame(frame))

    def _on_closed(self, family: Family) -> None:
        self.link.closed(family, cleared=False)
        job = self._receiving(family)
        if job is not None and job.answered and not job.reception.started and self._module_gave_up(job, family):
            self._fail(job, ErrorKind.RESPONSE_TIMEOUT, "the module closed the link after its response time with nothing received")
        elif job is not None and (job.answered or job.reception.started):  # not a kept link's late report
            self._feed(job, job.reception.on_closed)

    def _module_gave_up(self, job: _Job, family: Family) -> bool:
        """Whether the module's own response time (HTTPACTION's) has run since the request went out
        (less the command floor: the UART's and the host's latency)."""
        own = self.spans.timeouts.get(family.command("ACTION"), 0.0)
        start = job.answered_at
        return bool(own) and start is not None and self._now is not None and self._now - start >= own - self.spans.floor

    def _on_error_line(self, info: Info) -> None:
        job = self._job
        kind = self.errors.line_kind(info)
        if job is not None and not job.over and kind is not None and (job.receiving or job.answered):
            self._fail(job, kind, info.raw.decode("latin-1"))

    def _on_bad_frame(self, frame: FramingError) -> None:
        was_raw, self._raw = self._raw, False
        job = self._job
        ours = frame.raw.lstrip().startswith((b"+HTTP", b"+FILEHTTP"))
        log.warning("Neoway module output dropped: %s", mask_text(frame.reason))
        if job is not None and (was_raw or ours) and (job.receiving or job.answered):
            self._fail(job, ErrorKind.RESPONSE_INVALID, f"malformed report: {frame.reason}")

    def _feed(self, job: _Job, step: Callable[[], list[Event]]) -> None:
        try:
            events = step()
        except Fail as fail:
            self._fail(job, fail.kind, fail.detail)
            return
        except (ValueError, LookupError) as exc:
            self._fail(job, ErrorKind.RESPONSE_INVALID, repr(exc))
            return
        self._events.extend((job.token, event) for event in events)
        if job.waiting:
            job.timer.start(self.spans.silence(job.request, job.target.family), self._now)  # type: ignore[union-attr]
        if job.reception.done:
            self._complete(job)

    # ---- +FILEHTTPSTAT ------------------------------------------------------------------------

    def _on_file_stat(self, info: Info) -> None:
        job = self._job
        if job is None or job.over or job.file is None or not job.answered:
            return
        second, length = info.get("stat_or_errcode") or "", info.get("length")
        if length is None and second.strip() not in _FILE_STATS:  # <stat>,<errcode>
            kind = self.errors.line_kind(info) or self.errors.code_kind(second) or ErrorKind.UNKNOWN
            self._fail(job, kind, info.raw.decode("latin-1"))
        elif second.strip() != FILE_OK:
            self._fail(job, self.errors.line_kind(info) or ErrorKind.UNKNOWN, info.raw.decode("latin-1"))
        else:
            digits = (length or "").strip()
            if digits and not _LENGTH.fullmatch(digits):
                self._fail(job, ErrorKind.RESPONSE_INVALID, "+FILEHTTPSTAT: the length is no number")
                return
            self._downloaded(job, job.file, int(digits) if digits else None)

    def _downloaded(self, job: _Job, plan: FilePlan, length: Optional[int]) -> None:
        done = length if length is not None else (plan.size if plan.known else 0)
        self._events.append((job.token, Progress(done, plan.size if plan.known else None)))
        if not plan.known and done >= plan.size:
            self._fail(job, ErrorKind.UNSUPPORTED, f"{plan.name} holds the first {done} bytes, the most one "
                       "AT+FILEHTTPACTION takes; the resource may be longer: download it in byte ranges")
            return
        self._events.append((job.token, ResponseEnd(done)))
        self._complete(job)

    # ---- timers ------------------------------------------------------------------------------

    def _arm(self, now: float) -> None:
        self._commands.arm(now)
        self._stuck.arm(now)
        for call in self._calls:
            call.timer.arm(now)
        if self._job is not None:
            self._job.timer.arm(now)
