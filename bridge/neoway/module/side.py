"""The Neoway module side (server role): chapter 9 of the N58 AT manual, HTTP/HTTPS.

Commands are checked against dialects/neoway.yaml and become requests for the executor; the
request's events become +HTTPRECV output and the other reports.  This class takes the commands
in (one at a time: those behind an unanswered one wait), routes them, and starts and watches the
jobs that run the requests (jobs.py, files.py).  The commands themselves: http.py (HTTPPARA,
HTTPSETUP, HTTPACTION, HTTPCLOSE), file_commands.py (HTTPGET, HTTPGETSTAT, FILEHTTPACTION, FSWF),
tlscfg.py (HTTPSCFG), bringup.py (XIIC, CCID, NETAPN, ...), dns.py (CDNSGIP).
What it decides where the manual leaves room, alone and in a bridge: docs/design.md.
"""
from __future__ import annotations

import functools
import logging
from collections import deque
from typing import Callable, Optional, Union

from bridge.roles.basics import MODEL_IDENTIFICATION
from bridge.at.dialect import CommandSpec, Dialect
from bridge.at.frames import Command, FramingError
from bridge.model import ByteRange, ErrorKind, Event, Failure, Method, Request, Timeouts
from bridge.roles.module import Identity, ModuleSide
from bridge.device.fs import ModuleFileSystem
from bridge.neoway.module.channel import Channel
from bridge.neoway.module.bringup import BringUp
from bridge.neoway.module.datalink import MYNETACT, DataLink
from bridge.neoway.module.dns import DnsReports
from bridge.neoway.module.file_commands import FileCommands
from bridge.neoway.module.http import HttpCommands
from bridge.neoway.module.jobs import Exchange, Job, Probe
from bridge.neoway.params import ParamError, checked
from bridge.neoway.module.reports import Reports
from bridge.neoway.module.tlscfg import TlsCommands

HELD_MAX = 256          # commands held while one is unanswered; beyond, input is dropped

Handler = Callable[[Channel, CommandSpec, Command, float], None]
_CGATT = "CGATT"
log = logging.getLogger(__name__)


class NeowayModuleSide(ModuleSide):
    piece_max = 4096  # largest "+HTTPRECV: <len>,<data>" piece in recvmode 1

    def __init__(self, dialect: Dialect, model: Optional[str] = None, fs: Optional[ModuleFileSystem] = None,
                 identity: Optional[Identity] = None, link_up: bool = False) -> None:
        """`link_up`: the data link is up from power-on (as if AT+XIIC=1 had been sent); a fresh
        N58 has it down (dialect-facts), and every public N58 client brings it up itself."""
        super().__init__(dialect, model, identity)
        self.fs = fs if fs is not None else ModuleFileSystem()
        self.reports = Reports(dialect)
        self.link = DataLink(self.identity)
        self.link.requested = link_up
        self.bringup = BringUp(self)
        self.channels = {False: Channel(False), True: Channel(True)}
        self.tls = TlsCommands(self)
        self.http = HttpCommands(self)
        self.files = FileCommands(self)
        self.setup_timeout = dialect.commands["HTTPSETUP"].required_timeout()      # connect + handshake
        self.response_timeout = dialect.commands["HTTPACTION"].required_timeout()  # silence from the server
        self.input_timeout = dialect.commands["HTTPACTION"].required_timeout()     # data after '>'
        # The longest a request's executor may stay silent: connect, then silence from the server
        # (the executor's own bounds, from the same timeouts); past it the module side ends it.
        self.silence_bound = self.setup_timeout + self.response_timeout
        self._routes = self._build_routes()
        self._availability: dict[str, bool] = {}  # command name -> whether the model has it
        self._jobs: dict[int, Job] = {}
        self._busy = False
        self._held: deque[Union[Command, FramingError]] = deque()
        self._raw_job: Optional[Job] = None   # the recvmode-0 response being written, if any
        self._deferred = bytearray()          # bytes from elsewhere, held until it has ended
        self.dns = DnsReports(dialect)

    # ---- the ModuleSide interface ----------------------------------------------------------

    def handle_command(self, command: Command, now: float) -> bool:
        route = self._routes.get(command.name)
        if route is None:
            return self._other_command(command, now)
        secure, handler = route
        spec = self.dialect.command(command.name)
        if spec is None or not self._available(command.name) or (secure and not self.profile.get("ssl", True)):
            self.fail(ErrorKind.UNSUPPORTED)
            return True
        try:
            handler(self.channels[secure], spec, command, now)
        except ParamError:
            self.fail(ErrorKind.INVALID_PARAMETER)
        return True

    def handle_event(self, token: int, event: Event, now: float) -> None:
        job = self._jobs.get(token)
        if job is None:
            return
        try:
            job.on_event(event, now)
            if self._jobs.get(token) is job and self._holds_commands(job):
                self.watch(job, now)
        except Exception:  # a bug must not stop the module: report the link as gone
            log.exception("neoway: event %r of request %d", event, token)
            job.lingers = False
            job.channel.link_up = False
            self.line(self.reports.urc(ErrorKind.UNKNOWN, job.channel.secure)[0])
            self.job_done(job, now)
            self.answered(now)

    def on_time(self, now: float) -> None:
        try:
            super().on_time(now)
        except Exception:
            log.exception("neoway: timer")
            self.error()
            self.answered(now)

    def write(self, data: bytes) -> None:
        """Bytes from elsewhere (a bridge: answers of forwarded commands, unrelated URCs):
        held while a recvmode-0 response streams, so that they do not land inside its body."""
        if self._raw_job is not None:
            self._deferred += data
        else:
            super().write(data)

    # ---- for the jobs (jobs.Side) ----------------------------------------------------------------

    def emit(self, data: bytes) -> None:
        """Response bytes of the job being reported."""
        super().write(data)

    def raw_started(self, job: Job) -> None:
        self._raw_job = job

    # ---- for bring-up (bringup.Side) -------------------------------------------------------------

    def close_line(self, secure: bool) -> str:
        """"+HTTPCLOSED: HTTP Link Closed" (or the HTTPS one): a link went down."""
        return self.reports.urc(ErrorKind.CONNECTION_CLOSED, secure)[0]

    def hold_until_answered(self) -> None:
        """The command being served is answered later (:meth:`answered`): hold the next ones."""
        self._busy = True

    def answered(self, now: float) -> None:
        """The command being served has its answer: serve the ones held behind it."""
        self._busy = False
        self._serve_held(now)

    def _serve_held(self, now: float) -> None:
        while self._held and not self._busy and self._raw_job is None:
            frame = self._held.popleft()
            if isinstance(frame, Command):
                self._command(frame, now)
            else:
                self._framing_error(frame, now)

    def job_done(self, job: Job, now: float) -> None:
        self.cancel_timer(f"silence {job.token}")
        if not job.lingers:
            self._jobs.pop(job.token, None)
        channel = job.channel
        if channel.job is job:
            channel.job = None
        if channel.download is job:
            channel.download = None
        if channel.close_waiting and channel.job is None:
            channel.close_waiting = False
            self.http.answer_close(channel)
            self.answered(now)
        if self._raw_job is job:  # its response has ended: what waited goes out now
            self._raw_job = None
            super().write(bytes(self._deferred))
            self._deferred.clear()
            self._serve_held(now)

    # ---- command intake: hold commands while one is unanswered -----------------------------

    def _command(self, command: Command, now: float) -> None:
        if self._busy or self._raw_job is not None:
            self._hold(command)
            return
        try:
            super()._command(command, now)
        except Exception:  # never let input stop the module
            log.exception("neoway: command %r", command.raw)
            self._busy = False
            self.error()

    def _framing_error(self, frame: FramingError, now: float) -> None:
        if self._busy or self._raw_job is not None:
            self._hold(frame)
        else:
            super()._framing_error(frame, now)

    def _hold(self, frame: Union[Command, FramingError]) -> None:
        if len(self._held) < HELD_MAX:
            self._held.append(frame)

    # ---- routing -------------------------------------------------------------------------

    def _build_routes(self) -> dict[str, tuple[bool, Handler]]:
        http, files = self.http, self.files
        handlers: dict[str, Handler] = {
            "HTTPPARA": http.para, "HTTPSETUP": http.setup, "HTTPACTION": http.action, "HTTPCLOSE": http.close,
            "HTTPGET": files.get, "HTTPGETSTAT": files.getstat, "FILEHTTPACTION": files.file_action,
        }
        routes = {}
        for secure in (False, True):  # each HTTP command and its HTTPS twin (neoway.yaml `families`)
            for name, handler in handlers.items():
                routes[self.dialect.families.command(name, secure)] = (secure, handler)
        routes["HTTPSCFG"] = (True, self.tls.httpscfg)
        routes["CDNSGIP"] = (False, self._cdnsgip)
        routes["FSWF"] = (False, files.fswf)
        bringup = self.bringup
        for name, handler in (("XIIC", bringup.xiic), ("CCID", bringup.ccid), ("NETAPN", bringup.netapn),
                              ("XGAUTH", bringup.xgauth), ("DNSSERVER", bringup.dnsserver),
                              ("RECVMODE", bringup.recvmode)):
            routes[name] = (False, handler)
        missing = [name for name in routes if name not in self.dialect.commands]
        assert not missing, f"neoway.yaml does not declare {missing}"
        return routes

    def _available(self, name: str) -> bool:
        known = self._availability.get(name)
        if known is None:
            known = self._availability[name] = self._available_on_model(name)
        return known

    def _available_on_model(self, name: str) -> bool:
        spec = self.dialect.command(name)
        if name in (self.profile.get("commands_missing") or []):
            return False
        return not (spec and spec.models and self.profile.name not in spec.models)

    def _other_command(self, command: Command, now: float) -> bool:
        if (self.query is not None and command.name in (self.profile.get("identity_prefixed") or ())
                and command.name not in MODEL_IDENTIFICATION):  # the model is the firmware's (ModuleSide._forward)
            self.bringup.identity_through(command, now)
            return True
        if command.name == _CGATT and command.form == "set" and self.query is not None:
            self._cgatt_through(command, now)
            return True
        if command.name != MYNETACT or "XIIC" not in (self.profile.get("commands_missing") or []):
            return False
        try:
            for text in self.link.mynetact(command):
                self.line(text)
            self.ok()
        except ParamError:
            self.fail(ErrorKind.INVALID_PARAMETER)
        return True

    def _cgatt_through(self, command: Command, now: float) -> None:
        """Bridged AT+CGATT=<state>: the module behind answers it, and the data link follows what
        it accepted (the emulator answers it here and the link follows the identity)."""
        self.hold_until_answered()  # the host's next commands wait until the module has answered

        def done(answer: bytes) -> None:
            states = self.dialect.means("cgatt_state")
            if answer.rstrip().endswith(b"OK") and len(command.params) == 1 and command.params[0].text.strip() in states:
                self.identity.attached = states.meaning(command.params[0].text.strip()) is True
            self.write(answer)
            self.answered(now)

        assert self.query is not None
        self.query(command.raw, done)

    # ---- CDNSGIP ----------------------------------------------------------------------------------

    def _cdnsgip(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        (name,) = checked(command, spec)
        if self.resolver is None:  # a bridge (or no hosts map given): no DNS query to answer from
            self.fail(ErrorKind.UNSUPPORTED)
            return
        assert name is not None
        report = self.dns.lookup(name, self.link.up, self.resolver)
        self.ok()
        self.line(report)

    # ---- the jobs: started, watched while they hold commands (jobs.Runner) ------------------------

    def request_for(self, channel: Channel, method: Method, headers: Optional[list[tuple[str, str]]] = None,
                    body: Optional[bytes] = None, byte_range: Optional[ByteRange] = None,
                    path: Optional[str] = None, save_to: Optional[str] = None) -> Request:
        """A request on `channel`'s url (or `path` on its server), with the context's TLS and timeouts."""
        url = channel.url(path)
        assert url is not None
        return Request(
            method, url, headers=list(headers or []), body=body, tls=self.tls.settings(channel),
            timeouts=Timeouts(connect=self.setup_timeout, response=self.response_timeout),
            byte_range=byte_range, keep_alive=channel.settings.keepalive and save_to is None, save_to=save_to,
        )

    def run(self, job: Job, request: Request, now: float) -> Job:
        for token, old in list(self._jobs.items()):  # a kept-alive exchange's link is superseded
            if old.lingers and old.channel is job.channel:
                del self._jobs[token]
        job.token = self.start(request)
        self._jobs[job.token] = job
        if self._holds_commands(job):
            self.watch(job, now)
        return job

    @staticmethod
    def _holds_commands(job: Job) -> bool:
        """Whether the firmware's commands may wait on `job`: HTTPSETUP's and HTTPACTION's (its
        OK, a recvmode-0 response), and any with an HTTPCLOSE waiting on it.  A file transfer
        or download alone holds nothing, and may upload or run for longer than the bound."""
        if job.lingers:
            return False
        return isinstance(job, (Probe, Exchange)) or (job.channel.close_waiting and job.channel.job is job)

    def watch(self, job: Job, now: float) -> None:
        """(Re)start the silence bound of a job that holds commands: see :meth:`_silent`."""
        self.set_timer(f"silence {job.token}", now + self.silence_bound, functools.partial(self._silent, job.token))

    def _silent(self, token: int, now: float) -> None:
        """The executor has said nothing about a request for longer than its own connect and
        response timeouts allow: its link is gone (a real N58 has no state that waits for ever),
        and so is what waited on it -- a recvmode-0 response, an HTTPCLOSE, the held commands."""
        job = self._jobs.get(token)
        if job is None or job.lingers:
            return
        log.info("neoway: no word on request %d for %.0f s; ending it", token, self.silence_bound)
        self.cancel(token)
        answered = isinstance(job, Exchange) and job.is_answered
        kind = ErrorKind.RESPONSE_TIMEOUT if answered else ErrorKind.CONNECT_TIMEOUT
        self.handle_event(token, Failure(kind, "no word from the executor"), now)

