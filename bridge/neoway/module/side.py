"""The Neoway module side (server role): chapter 9 of the N58 AT manual, HTTP/HTTPS.

Commands are checked against dialects/neoway.yaml and become requests for the executor; the
request's events become +HTTPRECV output and the other reports (see jobs.py and files.py).
What it decides where the manual leaves room, alone and in a bridge: docs/design.md.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import ssl
from collections import deque
from typing import Callable, Optional, Union

from bridge.roles.basics import MODEL_IDENTIFICATION
from bridge.at.dialect import CommandSpec, Dialect
from bridge.at.frames import Command, FramingError
from bridge.model import ByteRange, ErrorKind, Event, Failure, Method, Request, Timeouts, TlsSettings, VerifyMode
from bridge.roles.module import Identity, ModuleSide
from bridge.device.fs import ModuleFileSystem, PathEscapeError
from bridge.neoway.module.channel import Channel, Settings, TlsConfig
from bridge.neoway.module.bringup import BringUp
from bridge.neoway.module.datalink import MYNETACT, DataLink
from bridge.neoway.module.dns import DnsReports
from bridge.neoway.module.files import Download, FileTransfer, file_chunks
from bridge.neoway.module.jobs import Exchange, Job, Probe
from bridge.neoway.params import ParamError, checked, in_enum
from bridge.neoway.module.plans import ActionPlan, FilePlan, plan_action, plan_file
from bridge.neoway.module.probe import probe_request
from bridge.neoway.module.rawrequest import parse_raw_request
from bridge.neoway.module.recv import RecvWriter
from bridge.neoway.module.reports import Reports
from bridge.neoway.module.tlscfg import set_option
from bridge.neoway.module.url import parse_port, parse_target

DOWNLOAD_FILES = {False: "/http/download.bin", True: "/https/download.bin"}
FILE_GET_DEFAULT = "/http/filehttp.bin"
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
        self.tls = TlsConfig()
        self.setup_timeout = dialect.commands["HTTPSETUP"].required_timeout()      # connect + handshake
        self.response_timeout = dialect.commands["HTTPACTION"].required_timeout()  # silence from the server
        self.input_timeout = dialect.commands["HTTPACTION"].required_timeout()     # data after '>'
        # The longest a request's executor may stay silent: connect, then silence from the server
        # (the executor's own bounds, from the same timeouts); past it the module side ends it.
        self.silence_bound = self.setup_timeout + self.response_timeout
        self._routes = self._build_routes()
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
                self._watch(job, now)
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

    @property
    def bridged(self) -> bool:
        """The executor is a module behind a bridge, not the network."""
        return self.forward is not None

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
            self._answer_close(channel)
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
        handlers: dict[str, Handler] = {
            "HTTPPARA": self._para, "HTTPSETUP": self._setup, "HTTPACTION": self._action, "HTTPCLOSE": self._close,
            "HTTPGET": self._get, "HTTPGETSTAT": self._getstat, "FILEHTTPACTION": self._file_action,
        }
        routes = {}
        for secure in (False, True):  # each HTTP command and its HTTPS twin (neoway.yaml `families`)
            for name, handler in handlers.items():
                routes[self.dialect.families.command(name, secure)] = (secure, handler)
        routes["HTTPSCFG"] = (True, self._httpscfg)
        routes["CDNSGIP"] = (False, self._cdnsgip)
        routes["FSWF"] = (False, self._fswf)
        bringup = self.bringup
        for name, handler in (("XIIC", bringup.xiic), ("CCID", bringup.ccid), ("NETAPN", bringup.netapn),
                              ("XGAUTH", bringup.xgauth), ("DNSSERVER", bringup.dnsserver),
                              ("RECVMODE", bringup.recvmode)):
            routes[name] = (False, handler)
        missing = [name for name in routes if name not in self.dialect.commands]
        assert not missing, f"neoway.yaml does not declare {missing}"
        return routes

    def _available(self, name: str) -> bool:
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
        self._busy = True  # hold the host's next commands until the module has answered

        def done(answer: bytes) -> None:
            states = self.dialect.means("cgatt_state")
            if answer.rstrip().endswith(b"OK") and len(command.params) == 1 and command.params[0].text.strip() in states:
                self.identity.attached = states.meaning(command.params[0].text.strip()) is True
            self.write(answer)
            self.answered(now)

        assert self.query is not None
        self.query(command.raw, done)

    # ---- HTTPPARA / HTTPSPARA ----------------------------------------------------------------

    def _para(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        para, value = checked(command, spec)
        assert value is not None
        settings, enums = channel.settings, self.dialect.enums
        if para == "url":
            settings.target = parse_target(value)
        elif para == "port":
            settings.port = parse_port(value)
        elif para == "keepalive":
            settings.keepalive = self.dialect.means("keepalive").meaning(in_enum(value.strip(), enums["keepalive"], para)) is True
        elif para == "recvmode":
            settings.recvmode = in_enum(value.strip(), enums["recvmode"], para)
        self.ok()

    # ---- HTTPSETUP / HTTPSSETUP ---------------------------------------------------------------

    def _setup(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        checked(command, spec)
        url = channel.url()
        refusal = self._link_refusal(channel, url)
        if refusal is not None:
            self.fail(refusal)
            return
        assert url is not None
        if channel.secure and self.bridged:  # the emulator's executor finds out when it connects
            try:
                self._carried(self.tls.settings(self.dialect))
            except (OSError, ValueError):
                self.fail(ErrorKind.TLS_FAILED)
                return
        self._run(Probe(self, channel), probe_request(url, self._tls(channel), self.setup_timeout), now)
        self._busy = True

    def _link_refusal(self, channel: Channel, url: Optional[str]) -> Optional[ErrorKind]:
        if url is None:
            return ErrorKind.NOT_ALLOWED
        if not self.link.up:
            return ErrorKind.NO_DATA_LINK
        if channel.link_up:
            return ErrorKind.NO_FREE_INSTANCE
        if channel.job is not None:
            return ErrorKind.BUSY
        return None

    # ---- HTTPACTION / HTTPSACTION -------------------------------------------------------------

    def _action(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        mode, first, second = checked(command, spec)
        data_mode = spec.forms["set"].data_mode
        plan = plan_action(mode, first, second, data_mode.max_len if data_mode else 0, self.dialect.enums["post_type"],
                           self.dialect.means("action_mode"))
        if channel.job is not None:
            self.fail(ErrorKind.BUSY)
            return
        if not (self.link.up and channel.link_up):
            kind = ErrorKind.NOT_ALLOWED if self.link.up else ErrorKind.NO_DATA_LINK
            self.fail_token(self.reports.instead_of_ok(kind, channel.secure))
            return
        self._busy = True
        if plan.data_length is None:
            self._exchange(channel, self._action_request(channel, plan, b""), now)
            return
        on_data = functools.partial(self._action_data, channel, plan)
        self.prompt_for_data(plan.data_length, on_data, now, self.input_timeout, plan.data_length)

    def _action_data(self, channel: Channel, plan: ActionPlan, data: bytes, how: str, now: float) -> None:
        if how != "length":
            self.fail_token(self.reports.instead_of_ok(ErrorKind.INPUT_TIMEOUT, channel.secure))
            self.answered(now)
            return
        try:
            request = self._action_request(channel, plan, data)
        except ParamError:
            self.fail(ErrorKind.INVALID_PARAMETER)
            self.answered(now)
            return
        self._exchange(channel, request, now)

    def _action_request(self, channel: Channel, plan: ActionPlan, data: bytes) -> Request:
        if plan.raw:
            raw = parse_raw_request(data)
            request = self._request(channel, raw.method, raw.headers, raw.body or None, path=raw.target)
            request.keep_alive = raw.keep_alive
            return request
        headers = [("Content-Type", plan.content_type)] if plan.content_type else []
        if self.bridged and channel.settings.keepalive:
            # The module behind keeps its connection only when the request asks for it (OneMO:
            # a "Connection: keep-alive" header); the network executor keeps it without.
            headers.append(("Connection", "keep-alive"))
        body = data if plan.method is Method.POST else None
        return self._request(channel, plan.method, headers, body, byte_range=plan.byte_range)

    def _exchange(self, channel: Channel, request: Request, now: float) -> None:
        prefix = self.reports.name("+HTTPRECV", channel.secure)
        writer = RecvWriter(prefix, channel.settings.recvmode, request.method.value, self.piece_max)
        request.report_sent = True  # OK once it has gone out: other commands are served meanwhile
        channel.job = self._run(Exchange(self, channel, request, writer), request, now)

    def _request(self, channel: Channel, method: Method, headers: Optional[list[tuple[str, str]]] = None,
                 body: Optional[bytes] = None, byte_range: Optional[ByteRange] = None,
                 path: Optional[str] = None, save_to: Optional[str] = None) -> Request:
        url = channel.url(path)
        assert url is not None
        return Request(
            method, url, headers=list(headers or []), body=body, tls=self._tls(channel),
            timeouts=Timeouts(connect=self.setup_timeout, response=self.response_timeout),
            byte_range=byte_range, keep_alive=channel.settings.keepalive and save_to is None, save_to=save_to,
        )

    # ---- HTTPCLOSE / HTTPSCLOSE ---------------------------------------------------------------

    def _close(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        checked(command, spec)
        if channel.job is not None:  # a response is still arriving: answer when it has
            channel.close_waiting = True
            self._busy = True
            self._watch(channel.job, now)
            return
        self._answer_close(channel)

    def _answer_close(self, channel: Channel) -> None:
        was_up = channel.link_up
        channel.link_up = False
        channel.settings = Settings()
        self.ok()
        if was_up:
            self.line(self.reports.urc(ErrorKind.CANCELLED, channel.secure)[0])

    # ---- HTTPGET / HTTPSGET, HTTPGETSTAT? ------------------------------------------------------

    def _get(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        decompress, _check_type, check_value = checked(command, spec)
        if len(command.params) == 2 or (len(command.params) == 3 and not check_value):
            raise ParamError("<check_type> and <check_value> go together")
        refusal = self._get_refusal(channel)
        if refusal is not None:
            self.fail(refusal)
            return
        path = DOWNLOAD_FILES[channel.secure]
        md5 = check_value if len(command.params) == 3 else None
        if self.bridged:  # the body comes through the bridge into this side's file: MD5 on real bytes
            request = self._request(channel, Method.GET)
            request.keep_alive = False
        else:
            request = self._request(channel, Method.GET, save_to=path)
        download = Download(self, channel, path, decompress or self.dialect.means("decompress_type").token("none"), md5, stream=self.bridged)
        channel.download = self._run(download, request, now)
        channel.get_state = (self.dialect.means("get_state").token("unknown"), None)
        self.ok()

    def _get_refusal(self, channel: Channel) -> Optional[ErrorKind]:
        if channel.url() is None:
            return ErrorKind.NOT_ALLOWED
        if not self.link.up:
            return ErrorKind.NO_DATA_LINK
        return ErrorKind.BUSY if channel.download is not None else None

    def _getstat(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        checked(command, spec)  # only the read form is declared
        state, code = channel.get_state
        self.line(f"{self.reports.name('+HTTPGETSTAT', channel.secure)}: {state}" + (f",{code}" if code else ""))
        self.ok()

    # ---- HTTPSCFG -------------------------------------------------------------------------------

    def _httpscfg(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        if command.form == "read":
            self.line("+HTTPSCFG: " + ",".join(self.tls.fields()))
        elif command.form == "test":
            self.line(spec.forms["test"].answer or "")  # the manual's example prints its format line
        else:
            option, value = checked(command, spec)
            assert option is not None and value is not None
            set_option(self.tls, option, value.strip(), self.dialect.enums, self.fs)
        self.ok()

    def _tls(self, channel: Channel) -> Optional[TlsSettings]:
        if not channel.secure:
            return None
        settings = self.tls.settings(self.dialect)
        if self.bridged:
            try:
                return self._carried(settings)
            except (OSError, ValueError):  # HTTPSSETUP said ERROR; the module behind fails the handshake
                return settings
        return settings

    def _carried(self, settings: TlsSettings) -> TlsSettings:
        """The settings with the contents of their files (PEM) in place of the names: the module
        behind a bridge has a file system of its own (a OneMO host side writes a PEM with
        AT+MSSLCERTWR / AT+MSSLKEYWR).  A name this side's file system does not hold stays a name:
        the module behind is assumed to hold it.  Raises OSError or ValueError (including
        PathEscapeError) when a file that is there cannot be read or used."""
        ca = settings.ca if settings.verify is not VerifyMode.NONE else None
        return dataclasses.replace(
            settings,
            ca=self._pem(ca, certificate=True) if ca else None,
            client_cert=self._pem(settings.client_cert, certificate=True) if settings.client_cert else None,
            client_key=self._pem(settings.client_key, certificate=False) if settings.client_key else None,
        )

    def _pem(self, name: str, certificate: bool) -> str:
        if not self.fs.exists(name):
            return name  # not ours: a name the module behind knows
        data = self.fs.read_bytes(name)
        if b"-----BEGIN" in data:
            return data.decode("ascii")
        if certificate:  # DER: one certificate
            return ssl.DER_cert_to_PEM_cert(data)
        raise ValueError(f"{name}: a key must be PEM")

    # ---- FILEHTTPACTION / FILEHTTPSACTION -------------------------------------------------------

    def _file_action(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        try:
            mode, first, second, name = checked(command, spec)
            size_max = spec.forms["set"].params[2].range[1]  # type: ignore[index]
            plan = plan_file(mode, first, second, name, size_max, self.dialect.enums["post_type"], self.dialect.means("file_mode"))
            path = self._module_path(plan.name or FILE_GET_DEFAULT)
            refusal = self._file_refusal(channel, plan, path)
        except ParamError:
            refusal = ErrorKind.INVALID_PARAMETER
        if refusal is not None:
            self.fail_token(self.reports.cme(refusal))
            return
        request = self._file_request(channel, plan, path)
        channel.job = self._run(FileTransfer(self, channel, plan.mode, plan.length), request, now)
        self.ok()

    def _file_refusal(self, channel: Channel, plan: FilePlan, path: str) -> Optional[ErrorKind]:
        if plan.method is Method.POST:
            try:
                if self.fs.size(path) < plan.length:
                    return ErrorKind.INVALID_PARAMETER  # the file is shorter than <length>
            except OSError:
                return ErrorKind.FILE_OPEN_FAILED
        if not self.link.up:
            return ErrorKind.NO_DATA_LINK
        if not channel.link_up or channel.url() is None:
            return ErrorKind.NOT_ALLOWED
        return ErrorKind.BUSY if channel.job is not None else None

    def _file_request(self, channel: Channel, plan: FilePlan, path: str) -> Request:
        if plan.method is not Method.POST:
            return self._request(channel, Method.GET, byte_range=plan.byte_range, save_to=path)
        assert plan.content_type is not None
        headers = [("Content-Type", plan.content_type), ("Content-Length", str(plan.length))]
        request = self._request(channel, Method.POST, headers)
        request.body = file_chunks(self.fs, path, plan.length)
        request.keep_alive = False  # a transfer leaves the link as it was: its own connection
        return request

    def _module_path(self, name: str) -> str:
        """<dir&filename> is relative to the root of the file system (9.19): rooted here, so that
        a module behind a bridge, whose relative names go elsewhere (OneMO: /etc/http_file/),
        stores it there too."""
        try:
            self.fs.resolve(name)
        except PathEscapeError as exc:
            raise ParamError(str(exc)) from None
        return "/" + name.lstrip("/")

    # ---- FSWF (28.1): a file of this side's file system -------------------------------------------

    def _fswf(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        name, mode, size, wait = checked(command, spec)
        assert name is not None and size is not None and wait is not None
        path, append = self._module_path(name), self.dialect.means("fswf_mode").meaning(mode or "") == "append"
        if int(size) == 0:
            self._write_file(path, b"", append)
            return
        self._busy = True

        def arrived(data: bytes, how: str, now: float) -> None:
            if how == "length":
                self._write_file(path, data, append)
            else:
                self.line("+FSWF: Timeout!")  # 28.1
            self.answered(now)

        timeout = int(wait) / 1000 if int(wait) else self.input_timeout
        self.prompt_for_data(int(size), arrived, now, timeout, int(size))

    def _write_file(self, path: str, data: bytes, append: bool) -> None:
        try:
            self.fs.write_file(path, data, append=append)
        except OSError:
            self.fail(ErrorKind.FILE_WRITE_FAILED)
            return
        self.ok()

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

    # ---- helpers ----------------------------------------------------------------------------------

    def _run(self, job: Job, request: Request, now: float) -> Job:
        for token, old in list(self._jobs.items()):  # a kept-alive exchange's link is superseded
            if old.lingers and old.channel is job.channel:
                del self._jobs[token]
        job.token = self.start(request)
        self._jobs[job.token] = job
        if self._holds_commands(job):
            self._watch(job, now)
        return job

    @staticmethod
    def _holds_commands(job: Job) -> bool:
        """Whether the firmware's commands may wait on `job`: HTTPSETUP's and HTTPACTION's (its
        OK, a recvmode-0 response), and any with an HTTPCLOSE waiting on it.  A file transfer
        or download alone holds nothing, and may upload or run for longer than the bound."""
        if job.lingers:
            return False
        return isinstance(job, (Probe, Exchange)) or (job.channel.close_waiting and job.channel.job is job)

    def _watch(self, job: Job, now: float) -> None:
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

