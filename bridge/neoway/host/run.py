"""How the Neoway host side runs its requests, one at a time (the module has one HTTP context): each
becomes a script of commands (scripts.py) for what plan.py chose, is answered or waits for the
module's reports, and ends with a Failure or its response, after which the link is closed unless
the request keeps it.  The host side (side.py) routes the module's reports to the running request.
"""
from __future__ import annotations

from typing import Optional

from bridge.at.dialect import Dialect
from bridge.model import Connected, ErrorKind, Failure, Request, RequestSent
from bridge.roles.host import Fail, HostPlumbing
from bridge.roles.host_commands import Answer, Exchange, Timer
from bridge.neoway.host import scripts
from bridge.neoway.host.context import CONNECTED, Cmd, Link, Op, Spans
from bridge.neoway.host.errors import ErrorTable
from bridge.neoway.host.plan import Action, Download, Target, action_for, download_for, method_of, target_of
from bridge.neoway.host.reception import Reception
from bridge.neoway.host.tables import Family, Limits
from bridge.neoway.host.tls import tls_options


class Job:
    """One request on its way through the module."""

    def __init__(self, token: int, request: Request) -> None:
        self.token = token
        self.request = request
        self.method = method_of(request)
        self.target: Optional[Target] = None
        self.action: Optional[Action] = None
        self.file: Optional[Download] = None
        self.script: Optional[scripts.Script] = None
        self.reception = Reception(self.method)
        self.timer = Timer()
        self.receiving = False  # AT+HTTPACTION went out: +HTTPRECV output is this request's
        self.answered = False  # AT+HTTPACTION / AT+FILEHTTPACTION answered OK
        self.answered_at: Optional[float] = None
        self.waiting = False  # the script waits for the response
        self.silence = 0.0  # while waiting: the longest the module may be silent between two reports
        self.over = False



class RequestRunner(HostPlumbing[Job]):
    """The request-running half of :class:`~bridge.neoway.host.side.NeowayHostSide`."""

    # set by the host side from the module's model (what scripts.Context needs beyond the below)
    data_link: str
    families: tuple[Family, ...]
    dns_query: bool

    def __init__(self, dialect: Dialect, command_floor: float) -> None:
        super().__init__(dialect)
        self.limits = Limits.read(dialect)
        self.errors = ErrorTable(dialect)
        self.spans = Spans(self.limits, command_floor)
        self.link = Link()
        self.ready: Optional[bool] = None
        self._job: Optional[Job] = None

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

    def _script(self, job: Job) -> scripts.Script:
        """The request's commands; raises Fail for what the module cannot be asked."""
        request = job.request
        target = job.target = target_of(request.url, self.limits)
        tls = tls_options(self.limits, request.tls) if target.tls else ()
        if request.connect_only:
            return scripts.connect(self, request, target, tls)
        if request.save_to is not None:
            job.file = download_for(request, target, self.limits)
            return scripts.download(self, request, target, job.file, tls, self.limits.file_get)
        job.action = action_for(request, target, self.limits)
        job.reception = Reception(job.action.method, self._closed_kind(target.family))
        return scripts.exchange(self, request, target, job.action, tls, lambda: self._restart_reception(job))

    def _closed_kind(self, family: Family) -> ErrorKind:
        """The YAML's kind of the closing URC ("+HTTPCLOSED: HTTP Link Closed") before a response is whole."""
        return self.errors.first_kind("+HTTPCLOSED") or ErrorKind.CONNECTION_CLOSED

    def _restart_reception(self, job: Job) -> None:
        job.reception = Reception(job.reception.method, job.reception.closed_kind)
        job.receiving = False

    def _carry_out(self, job: Job, op: Op) -> None:
        if isinstance(op, Cmd):
            self._send(job, op)
        elif op == CONNECTED:
            self._events.append((job.token, Connected()))
            self._complete(job)
        else:
            self._wait(job)

    def _send(self, job: Job, cmd: Cmd) -> None:
        span = cmd.span if cmd.span is not None else self.spans.command(cmd.line)
        exchange = Exchange(cmd.line, lambda answer: self._answered(job, cmd, answer), span, cmd.data, job,
                            self._owned, cmd.ends, after_ok=cmd.after_ok)
        if cmd.receives:
            job.receiving = True
            self.framer.expect_http(job.method)  # a module that ignores recvmode 1: HEAD has no body
        self._commands.add(exchange, self._now)

    def _answered(self, job: Job, cmd: Cmd, answer: Answer) -> None:
        if job.over:
            return
        what = cmd.line[:60].decode("latin-1")
        if answer.timed_out and not cmd.tolerate_silence:
            setup = job.target is not None and cmd.line == f"AT+{job.target.family.command('HTTPSETUP')}".encode()
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

    def _wait(self, job: Job) -> None:
        job.answered = job.waiting = True
        job.answered_at = self._now
        assert job.target is not None
        family = job.target.family
        span = job.silence = self.spans.silence(job.request, family)
        if job.file is not None:
            span += self.spans.setup(job.request, family)  # the module connects for the transfer
        job.timer.start(span, self._now)

    # ---- ending requests ------------------------------------------------------------------------

    def _fail(self, job: Job, kind: ErrorKind, detail: str = "", terminate: bool = True) -> None:
        """End the request with Failure(kind, detail) (what the module may still do for it ends
        with the link, which :meth:`_after` closes)."""
        if job.over:
            return
        self._events.append((job.token, Failure(kind, detail)))
        self._retire(job, failed=True)

    def _complete(self, job: Job) -> None:
        self._retire(job, failed=False)

    def _retire(self, job: Job, failed: bool) -> None:
        job.over = True
        job.timer.stop()
        self._close_script(job)
        self._commands.drop(job)
        self._job = None
        self._after(job, failed)
        self._admit()

    def _after(self, job: Job, failed: bool) -> None:
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
