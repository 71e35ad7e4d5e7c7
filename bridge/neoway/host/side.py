"""The Neoway host side (client role), sans-I/O: requests of the shared model become AT+HTTPPARA /
AT+HTTPSETUP / AT+HTTPACTION (or the HTTPS family) commands, and the module's +HTTPRECV output
becomes the model's events; the same interface as :class:`bridge.onemo.host.side.OnemoHostSide`.
Requests run in run.py, as scripts (scripts.py) of what plan.py chose; responses are parsed in
reception.py.  Decisions where the manual leaves room: docs/design.md, "Neoway host side".
"""
from __future__ import annotations

import logging
import re
from typing import Callable, Optional, Union

from bridge.at.dialect import Dialect, load
from bridge.secrets import mask_text
from bridge.at.frames import Frame, FramingError, HttpBody, HttpEnd, HttpHead, Info
from bridge.model import (BodyChunk, ErrorKind, Event, ExecutorCapabilities, Failure, ModuleCall, Progress, Request,
                          ResponseEnd)
from bridge.neoway.host import bringup as host_bringup
from bridge.neoway.host import scripts
from bridge.roles.host_commands import Answer, Exchange, Timer
from bridge.roles.host import Fail
from bridge.at.encode import frame_bytes
from bridge.neoway.host.context import COMMAND_FLOOR, Cmd
from bridge.neoway.host.plan import Download, action_for, download_for, target_of
from bridge.at.payloads import RunBudget
from bridge.neoway.host.reception import BadResponse, TakeRun
from bridge.neoway.host.run import Job, RequestRunner
from bridge.neoway.host.tables import FAMILIES, Family
from bridge.neoway.host.tls import tls_options

DIALECT = "neoway"
FILE_STAT = "+FILEHTTPSTAT"
_RawFrame = Union[HttpHead, HttpBody, HttpEnd]
_LENGTH = re.compile(r"[0-9]{1,10}")  # ASCII only: str.isdigit() takes "²", which int() refuses
_PIECES = Info("+HTTPRECV")  # what the stale-line fence is told a run of pieces is
log = logging.getLogger(__name__)


class _Call:
    """A bring-up operation (ModuleCall) running as a host_bringup script."""

    def __init__(self, token: int, script: host_bringup.Script) -> None:
        self.token = token
        self.script = script
        self.timer = Timer()  # the pause between two polls


class NeowayHostSide(RequestRunner):
    """Drives a Neoway N58/N720 module: :class:`~bridge.model.Request` in, events out (sans-I/O).

    Start-up (ATE0, AT+CMEE=1, HTTPCLOSE/HTTPSCLOSE, the data link, recvmode 1) is queued at construction;
    :attr:`ready` is None until it has run, then True (or False when the module did not answer
    ATE0).  Requests wait for it, then run one at a time in the base class,
    :class:`~bridge.neoway.host.run.RequestRunner`; this class routes the module's output to them.
    """

    def __init__(self, dialect: Optional[Dialect] = None, model: Optional[str] = None, *,
                 command_floor: float = COMMAND_FLOOR) -> None:
        super().__init__(dialect if dialect is not None else load(DIALECT), command_floor)
        self.profile = self.dialect.model(model)
        self._file_stat = self.dialect.means("file_stat")  # a second field not in it is an <errcode>
        missing = self.profile.get("commands_missing") or []
        self.data_link = scripts.MYNETACT if "XIIC" in missing else "XIIC"
        self.families = tuple(f for f in FAMILIES if not f.secure or self.profile.get("ssl", True))
        self.dns_query = self._has(scripts.DNS_QUERY)
        self._ops = host_bringup.templates(self.dialect, frozenset(n for n in self.dialect.commands if not self._has(n)))
        self._calls: list[_Call] = []
        self._ours = self._own_reports()
        self._recv = {f.urc("+HTTPRECV"): f for f in FAMILIES}
        self._recv_of = {f.secure: f.urc("+HTTPRECV") for f in FAMILIES}  # a request's pieces, by its target's TLS
        self._closed = {f.urc("+HTTPCLOSED"): f for f in FAMILIES}
        # answers to our AT+HTTPCLOSE and (late) AT+CDNSGIP: nothing for a request in them
        self._close_reports = frozenset(f.urc("+HTTPCLOSE") for f in FAMILIES)  # "+HTTPCLOSE: HTTP Link Closed"
        self._late_answers = frozenset({scripts.DNS_REPORT})
        self._raw = False  # the framer is inside a raw (recvmode 0) HTTP response
        self._body_for: Optional[int] = None  # receive_body's request: its clean reads' body bytes ...
        self._held: Optional[bytes] = None  # ... held here instead of becoming a BodyChunk
        self._held_at: tuple[int, Optional[int]] = (0, None)  # the BodyChunk's offset and total
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
        self.receive_body(None, data, now)

    def receive_body(self, token: Optional[int], data: bytes, now: float) -> Optional[bytes]:
        """:meth:`receive_data` for a bridge's body pump: when the bytes are nothing but more of the
        body of request `token` (whole +HTTPRECV pieces, maybe the start of another) and nothing
        else comes of them -- no event, answer or line, the body not complete -- the body bytes
        are returned, the BodyChunk they would have been left to the caller; else None, and they
        went as :meth:`receive_data` takes them."""
        before, self._now = self._now, now  # self._clock(now), read by read without its object
        self._body_for, self._held = token, None
        try:
            self._arm(now)
            if not self._pump(data):
                self._frame(data)
            if self._raw:
                for frame in self.framer.release():  # a live reader does not wait for full blocks
                    self._dispatch(frame)
            self._watch_payload()
        finally:
            self._now = before
        held, self._held = self._held, None
        if held is not None and (self._events or self._answers or self._unsolicited or self._module_answers):
            self._events.insert(0, (token, BodyChunk(held, *self._held_at)))  # the body came first
            return None
        return held

    def _pump(self, data: bytes) -> bool:
        """The body pump ahead of framing: while a request's response body is being received and
        nothing else waits on the module's bytes (no command, no raw line, no raw response), the
        pieces at the framer's cursor are taken as one run straight away, as :meth:`_on_recv` takes
        those after a first piece; what follows them is framed as usual.  False: `data` is not
        taken (frame it).  The body bytes of a clean read for :meth:`receive_body` are held in
        `_held` instead of becoming a BodyChunk."""
        job, commands, framer = self._job, self._commands, self.framer
        if (job is None or job.over or not job.receiving or job.target is None or self._raw or commands.current
                is not None or commands.raw_token is not None or framer.buffered != self._left_unframed):
            return False
        reception = job.reception
        if reception.head is None or reception.done:
            return False
        commands.heard(self._now)
        buffered = framer.buffered + len(data)
        run, name = RunBudget(reception.left_after(0)), self._recv_of[job.target.tls]
        body = framer.receive_run(data, name, None, run)
        held = False
        if run.taken:
            commands.predates(_PIECES, buffered - framer.buffered)  # the stale-line fence counts them as framed
            self._stuck.stop()
            held = job.token == self._body_for and not self._events and reception.pass_on(body)
            if held:
                if job.waiting:
                    job.timer.start(job.silence, self._now)
            else:
                self._feed(job, lambda: reception.on_piece(body))
        # the piece the read ends in (its prefix is not counted, as in _frame); else frame what is left
        started = framer.start_payload(name, None)
        self._left_unframed = framer.buffered
        if not started:
            self._frame(b"")
        if held:
            self._held, self._held_at = body, (reception.received - len(body), reception.total)
        return True

    def _watch_payload(self) -> None:
        """A payload being read while no request waits for one -- none runs, or its request is
        over -- gets the module's own response time, counted from then: more bytes of it do not
        push the deadline back (a request's payload is watched by the request's timer)."""
        job = self._job
        if not self.framer.in_payload or (job is not None and job.timer.span is not None):
            self._stuck.stop()
        elif self._stuck.span is None:
            self._stuck.start(max(self.spans.busy(f) for f in self.families), self._now)

    def next_deadline(self) -> Optional[float]:
        """When :meth:`on_time` must be called next (0.0: at once), or None."""
        job = self._job
        due = self._commands.wake()
        for wake in (job.timer.wake() if job else None, self._stuck.wake(), *[call.timer.wake() for call in self._calls]):
            if wake is not None and (due is None or wake < due):
                due = wake
        return due

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
        self._raw = False
        super()._abandon()

    # ---- requests ---------------------------------------------------------------------------

    def submit(self, request: Request) -> int:
        """Queue `request`; its events come out of :meth:`take_events` under the returned token."""
        token = next(self._tokens)
        self._pending.append(Job(token, request))
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

    @property
    def capabilities(self) -> ExecutorCapabilities:
        return ExecutorCapabilities(
            one_request_at_a_time=True,  # one HTTP context: requests run one after another
            streams_request_body=False,  # AT+HTTPACTION takes the body whole, after '>'
            request_body_max=self.limits.data_max,  # with the head, in mode 99
            shares_file_system=False,  # a module with files of its own
            files_on_module=True,  # save_to and certificate names are the module's (a PEM is written there with AT+FSWF)
            keep_alive_in_headers=True,  # a request's head goes to the server as given (mode 99)
            refusal=self.refusal)

    def refusal(self, request: Request) -> Optional[Failure]:
        """The Failure `request` would end with before any command is sent (too large, a URL, TLS
        setting or certificate the module cannot take), or None.  Nothing is queued; a body that
        is an iterator is not consumed (lists and tuples are checked)."""
        try:
            target = target_of(request.url, self.limits)
            if target.tls:
                tls_options(self.limits, request.tls)
            if request.save_to is not None:
                download_for(request, target, self.limits)
            elif request.body is None or isinstance(request.body, (bytes, bytearray, memoryview, list, tuple)):
                action_for(request, target, self.limits)
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
            self.link.close_reported = self.errors.line_kind(info) is ErrorKind.CANCELLED  # the link closed, no ERROR
        elif name not in self._late_answers:
            self._on_error_line(info)

    def _receiving(self, family: Family) -> Optional[Job]:
        job = self._job
        if job is None or job.over or not job.receiving or job.target is None or job.target.tls != family.secure:
            return None
        return job

    def _on_recv(self, info: Info, family: Family) -> None:
        job = self._receiving(family)
        if info.payload is None:  # bare "+HTTPRECV:": the module ignored recvmode 1; the framer reads raw HTTP
            self._raw = True
            if job is None:  # (the framer frames on at once if what follows is no HTTP response)
                log.warning("Neoway module output dropped: a bare %s line with no request receiving, and the "
                            "response after it", info.name)
            return
        self._stuck.stop()  # this piece is whole: a next one no request waits for gets a deadline of its own
        if job is not None:
            data, take_run = info.payload, self._run_after(info)
            self._feed(job, lambda: job.reception.on_piece(data, take_run))
        else:
            log.warning("Neoway module output dropped: %s piece of %d bytes with no request receiving", info.name,
                        len(info.payload))

    def _run_after(self, info: Info) -> TakeRun:
        """The body pump: the pieces like `info` buffered right after it, taken while the run
        accepts them (their bytes count as framed for the command queue's stale-line fence)."""
        def take(run: RunBudget, first: bytes) -> bytes:
            buffered = self.framer.buffered
            joined = self.framer.take_payload_run(info.name, None, run, first)
            if run.taken:
                self._commands.predates(info, buffered - self.framer.buffered)
            return joined
        return take

    def _on_raw(self, frame: _RawFrame) -> None:
        self._commands.on_activity(self._now)
        if isinstance(frame, HttpEnd):
            self._raw = False
            self._stuck.stop()
        job = self._job
        if job is not None and not job.over and job.receiving:
            self._feed(job, lambda: job.reception.on_frame(frame))

    def _retire(self, job: Job, failed: bool) -> None:
        """A raw response or payload still being read when its request ends is no one's from now:
        its deadline starts (see :meth:`_watch_payload`)."""
        super()._retire(job, failed)
        self._watch_payload()

    def _on_closed(self, family: Family) -> None:
        self.link.closed(family, cleared=False)
        job = self._receiving(family)
        if job is not None and job.answered and not job.reception.started and self._module_gave_up(job, family):
            self._fail(job, ErrorKind.RESPONSE_TIMEOUT, "the module closed the link after its response time with nothing received")
        elif job is not None and (job.answered or job.reception.started):  # not a kept link's late report
            self._feed(job, job.reception.on_closed)

    def _module_gave_up(self, job: Job, family: Family) -> bool:
        """Whether the module's own response time (HTTPACTION's) has run since the request went out
        (less the command floor: the UART's and the host's latency)."""
        own = self.spans.timeouts.get(family.command("HTTPACTION"), 0.0)
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

    def _feed(self, job: Job, step: Callable[[], list[Event]]) -> None:
        try:
            events = step()
        except BadResponse as bad:  # the events of the bytes before the fault go first
            self._events.extend((job.token, event) for event in bad.before)
            self._fail(job, bad.kind, bad.detail)
            return
        except Fail as fail:
            self._fail(job, fail.kind, fail.detail)
            return
        except (ValueError, LookupError) as exc:
            self._fail(job, ErrorKind.RESPONSE_INVALID, repr(exc))
            return
        self._events.extend((job.token, event) for event in events)
        if job.waiting:
            job.timer.start(job.silence, self._now)
        if job.reception.done:
            self._complete(job)

    # ---- +FILEHTTPSTAT ------------------------------------------------------------------------

    def _on_file_stat(self, info: Info) -> None:
        job = self._job
        if job is None or job.over or job.file is None or not job.answered:
            return
        second, length = info.get("stat_or_errcode") or "", info.get("length")
        if length is None and second.strip() not in self._file_stat:  # <stat>,<errcode>
            kind = self.errors.line_kind(info) or self.errors.code_kind(second) or ErrorKind.UNKNOWN
            self._fail(job, kind, info.raw.decode("latin-1"))
        elif self._file_stat.meaning(second.strip()) != "succeeded":
            self._fail(job, self.errors.line_kind(info) or ErrorKind.UNKNOWN, info.raw.decode("latin-1"))
        else:
            digits = (length or "").strip()
            if digits and not _LENGTH.fullmatch(digits):
                self._fail(job, ErrorKind.RESPONSE_INVALID, "+FILEHTTPSTAT: the length is no number")
                return
            self._downloaded(job, job.file, int(digits) if digits else None)

    def _downloaded(self, job: Job, plan: Download, length: Optional[int]) -> None:
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
