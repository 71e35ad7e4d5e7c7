"""How the OneMO host side runs its requests: start-up first, then each request as a script
(scripts.py) on an instance of its own -- a download to a module file alone, since its URCs name
no instance -- one command outstanding at a time; a request ends with a Failure or its response,
after which its instance is kept for the next request to the same server or stopped and deleted.
The host side (side.py) routes the module's URCs to the running requests.
"""
from __future__ import annotations

import re
from typing import Optional

from bridge.at.dialect import Dialect, load
from bridge.at.frames import Final, Info
from bridge.model import ConnectionClosed, ErrorKind, Failure, RequestSent
from bridge.onemo.host import scripts
from bridge.onemo.host.context import WAIT_END, WAIT_IND, Cmd, Instance, Job, Op, SslContexts
from bridge.onemo.host.errors import ErrorTable
from bridge.onemo.host.plan import at
from bridge.onemo.host.reception import closes
from bridge.onemo.host.tables import Limits
from bridge.roles.host import HostPlumbing
from bridge.roles.host_commands import Answer, Exchange, never

DIALECT = "onemo"
COMMAND_TIMEOUT = 10.0  # the manual states no answer time; a module answers a command at once
RESPONSE_WAIT = 60.0  # the host's own wait for a server that Timeouts.response leaves unbounded
WAIT_MARGIN = 5.0  # beyond the module's own timeouts, so that its "err" report comes first
PROGRESS_STEP = 64 * 1024  # AT+MHTTPDLFILE <progind>
# A OneMO module answers AT+MHTTPREQUEST OK before it connects and reports no "sent": a request
# that asks for RequestSent gets it this long after that OK if no failure (a refused connection,
# reported at once) nor the response has come -- the bridge's choice, not the manual's.
SENT_GRACE = 1.0
CREATE = "+MHTTPCREATE"

_ID = re.compile(r"\s*([0-9]{1,9})\s*")  # ASCII digits only, bounded: str.isdigit() takes "²"
_SPANS_KEPT = 64  # command lines whose answer time is kept (the same request's lines come again)
_NAME = re.compile(rb"^\s*AT\+?([A-Za-z0-9_&]+)", re.I)


class RequestRunner(HostPlumbing[Job]):
    """The request-running half of :class:`~bridge.onemo.host.side.OnemoHostSide` (and what
    :class:`~bridge.onemo.host.context.Context` asks of it)."""

    def __init__(self, dialect: Optional[Dialect], model: Optional[str], command_timeout: float, progress_step: int) -> None:
        super().__init__(dialect if dialect is not None else load(DIALECT))
        self.profile = self.dialect.model(model)
        self.command_timeout = command_timeout
        self.progress_step = progress_step
        self.ready: Optional[bool] = None
        self.limits = Limits.read(self.dialect, self.profile)
        self.pool: list[Instance] = []
        self.by_id: dict[int, Job] = {}
        self.ssl = SslContexts(list(self.limits.ssl_ids))
        self._errors = ErrorTable(self.dialect)
        self._jobs: dict[int, Job] = {}
        self._spans: dict[bytes, float] = {}  # command line -> how long its answer may take

    # ---- start-up ---------------------------------------------------------------------------

    def _startup(self) -> None:
        self._commands.add(Exchange(b"ATE0", self._probed, span=self.command_timeout, owner=self), None)

    def _probed(self, answer: Answer) -> None:
        if answer.final is None:
            self._started(False)
            return
        lines = [b"AT+CMEE=1"] + [at("MHTTPDEL", i) for i in range(self.limits.instances)]
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
            job.script = scripts.file_script(self, job) if job.file else scripts.instance_script(self, job)
            self._step(job, None)

    def _carry_out(self, job: Job, op: Op) -> None:
        if isinstance(op, Cmd):
            self._send(job, op)
        else:
            self._wait(job, op)

    def _send(self, job: Job, cmd: Cmd) -> None:
        wants = (lambda f: isinstance(f, Info) and f.name == CREATE) if cmd.creates else never
        exchange = Exchange(cmd.line, lambda answer: self._answered(job, cmd, answer), span=self._span(cmd.line),
                            data=cmd.data, owner=job, wants=wants)
        self._commands.add(exchange, self._now)

    def _answered(self, job: Job, cmd: Cmd, answer: Answer) -> None:
        if cmd.creates and answer.ok:
            job.httpid = self._created_id(answer)
            if job.over and job.httpid is not None:
                self._delete(job.httpid, terminate=False)  # created after the request ended
        if job.over:
            return
        if answer.final is None:
            self._fail(job, ErrorKind.RESPONSE_TIMEOUT, f"no answer to {cmd.line[:60]!r}", terminate=job.sent)
        elif not answer.ok and not cmd.tolerate:
            self._fail(job, self.sync_kind(answer.final), f"{cmd.line[:60]!r}: {answer.final}", terminate=job.sent)
        else:
            self._step(job, answer)

    def _wait(self, job: Job, what: str) -> None:
        if what == WAIT_IND and job.ind:
            self._step(job, None)
            return
        job.waiting = what
        job.timer.start(self._response_span(job), self._now)

    def _created_id(self, answer: Answer) -> Optional[int]:
        info = answer.info(CREATE)
        value = info.get("httpid") if info is not None else None
        match = _ID.fullmatch(value) if value is not None else None
        if match is None:
            return None
        httpid = int(match.group(1))
        return httpid if httpid < self.limits.instances and httpid not in self.by_id else None

    def taken(self, job: Job) -> None:
        """The module has taken the whole request (its command answered OK) but reports nothing
        when it has connected and sent it: RequestSent follows SENT_GRACE later unless the module
        has reported a failure (a refused connection comes at once) or the response by then."""
        if job.request.report_sent:
            job.report.start(SENT_GRACE, self._now)

    def sent(self, job: Job) -> None:
        """The whole request has gone out: say so to a request that asks (Neoway AT+HTTPACTION
        answers OK at this point), unless the response has already begun."""
        job.report.stop()
        if job.request.report_sent and job.reception.head is None and not job.over:
            self._events.append((job.token, RequestSent()))

    # ---- ending requests ----------------------------------------------------------------------

    def _fail(self, job: Job, kind: ErrorKind, detail: str = "", terminate: bool = True) -> None:
        if job.over:
            return
        self._events.append((job.token, Failure(kind, detail)))
        self._retire(job, keep=False, terminate=terminate and job.sent and not job.reception.done)

    def _complete(self, job: Job) -> None:
        # The instance is kept for the next request to the same server with the same TLS settings
        # (its headers and content the module clears itself at a request's end), whether or not the
        # connection is: a new instance would cost MHTTPCREATE, its settings and MHTTPDEL again.
        # Kept only when the script had sent everything (a server may answer before the upload ends).
        keep = job.instance is not None and job.waiting == WAIT_END
        if job.request.keep_alive and closes(job.reception.head):
            # The server ends the connection with this response; the module reports no close, so
            # say it here, as the model's executors do after ResponseEnd.
            self._events.append((job.token, ConnectionClosed(by_peer=True)))
            keep = False
        self._retire(job, keep=keep, terminate=False)

    def _retire(self, job: Job, keep: bool, terminate: bool) -> None:
        job.over = True
        job.timer.stop()
        job.report.stop()
        job.waiting = None
        self._close_script(job)
        self._commands.drop(job)
        self._jobs.pop(job.token, None)
        if job.httpid is not None and self.by_id.get(job.httpid) is job:
            del self.by_id[job.httpid]
        if keep and job.instance is not None:
            self.pool.append(job.instance)
        else:
            self._release(job, terminate)
        self._admit()

    def _release(self, job: Job, terminate: bool) -> None:
        if job.file and terminate:
            self._housekeeping(b"AT+MHTTPTERM")  # the execute form: the download has no instance
        elif job.httpid is not None:
            self._delete(job.httpid, terminate)
        if job.ssl_id is not None:
            self.ssl.free.append(job.ssl_id)

    def _delete(self, httpid: int, terminate: bool) -> None:
        if terminate:
            self._housekeeping(at("MHTTPTERM", httpid))
        self._housekeeping(at("MHTTPDEL", httpid))

    def _housekeeping(self, line: bytes) -> None:
        self._commands.add(Exchange(line, lambda answer: None, span=self.command_timeout, owner=self), self._now)

    # ---- small tables ----------------------------------------------------------------------------

    def sync_kind(self, final: Final) -> ErrorKind:
        return self._errors.final_kind(final)

    def _span(self, line: bytes) -> float:
        span = self._spans.get(line)
        if span is None:
            if len(self._spans) >= _SPANS_KEPT:
                self._spans.clear()
            span = self._spans[line] = self._span_of(line)
        return span

    def _span_of(self, line: bytes) -> float:
        match = _NAME.match(line)
        name = match.group(1).decode().upper() if match else ""
        spec = self.dialect.command(name)
        if spec is not None and spec.timeout:
            return float(spec.timeout)
        return float(self.dialect.timeouts.get(name, self.command_timeout))

    def _response_span(self, job: Job) -> float:
        t = job.request.timeouts
        connect = t.connect if t.connect is not None else float(self.limits.timeout_specs[0].range[1])  # type: ignore[index]
        response = t.response if t.response is not None else RESPONSE_WAIT
        return connect + response + WAIT_MARGIN

    def _arm(self, now: float) -> None:
        self._commands.arm(now)
        for job in self._jobs.values():
            job.timer.arm(now)
            job.report.arm(now)
