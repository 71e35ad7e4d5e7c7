"""The OneMO module side (server role): AT+MHTTP* commands in, requests out, +MHTTPURC back.

Commands are checked against dialects/onemo.yaml before anything happens; nothing raises out of
this class.  In a bridge, the executor behind declares what it can do (executor_capabilities,
set by adapt_to_executor); what is refused then, and why: docs/design.md.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Callable, Optional

from bridge.at.dialect import CommandSpec, Dialect, ParamSpec
from bridge.at.frames import Command, FramingError
from bridge.model import ErrorKind, Event, Request, TlsSettings, VerifyMode
from bridge.roles.identity import Identity
from bridge.roles.module import ModuleSide
from bridge.device.fs import ModuleFileSystem
from bridge.onemo.module.config import ConfigCommand
from bridge.onemo.encoding import DecodeError, decode_input, line_charset
from bridge.onemo.module.bringup import BringUpCommands
from bridge.onemo.module.http import HttpCommands
from bridge.onemo.module.instance import Instance
from bridge.onemo.params import CommandError, bad, check_length, with_limits
from bridge.onemo.module.tls import SslCommands
from bridge.onemo.module.transfer import Transfer

log = logging.getLogger(__name__)

Handler = Callable[[Command, CommandSpec, float], None]


class OnemoModuleSide(ModuleSide):
    def __init__(self, dialect: Dialect, model: Optional[str] = None, fs: Optional[ModuleFileSystem] = None,
                 identity: Optional[Identity] = None, packet_size: Optional[int] = None) -> None:
        super().__init__(dialect, model, identity)
        # Response pieces (content frames, MHTTPDLFILE progress): one network packet, the profile's
        # packet_size unless given here.
        self.packet_size = int(packet_size or self.profile.get("packet_size") or 0)
        self.fs = fs if fs is not None else ModuleFileSystem()
        self.instances: dict[int, Instance] = {}
        self.downloads: dict[int, Transfer] = {}  # AT+MHTTPDLFILE, by the id its URCs carry
        self.backlog_max = dialect.payload_max  # bytes of paced output a request may have waiting
        self._transfers: dict[int, Transfer] = {}  # by request token
        self._held: Optional[bytes] = None  # written while nothing else waited: goes out as it is, before _out
        self._charset = "utf-8"  # how the framer decoded the command line being handled
        self.config = ConfigCommand(self, dialect.commands["MHTTPCFG"])
        self.ssl = SslCommands(self, self.fs)
        self.http = HttpCommands(self)
        self.bring_up = BringUpCommands(self)
        self._handlers: dict[str, Handler] = {
            "MHTTPCFG": lambda command, spec, now: self.config.run(command, now),
            "MHTTPCREATE": self.http.create,
            "MHTTPHEADER": self.http.pieces,
            "MHTTPCONTENT": self.http.pieces,
            "MHTTPREQUEST": self.http.request,
            "MHTTPREAD": self.http.read,
            "MHTTPDEL": self.http.delete,
            "MHTTPTERM": self.http.terminate,
            "MHTTPDLFILE": self.http.dlfile,
            "MSSLCERTWR": self.ssl.certwr,
            "MSSLCFG": self.ssl.cfg,
            "MSSLKEYWR": self.ssl.certwr,
            "MSSLCERTRD": self.ssl.certrd,
            "MSSLLIST": self.ssl.listing,
            "MSSLRM": self.ssl.remove,
            "MCCID": self.bring_up.mccid,
            "ICCID": self.bring_up.mccid,
            "MDNSCFG": self.bring_up.mdnscfg,
            "CGAUTH": self.bring_up.cgauth,
            "MIPCALL": self.bring_up.mipcall,
        }

    # -- the command boundary ----------------------------------------------------------

    def handle_command(self, command: Command, now: float) -> bool:
        handler = self._handlers.get(command.name)
        spec = self.dialect.command(command.name)
        if handler is None or spec is None or not self._model_has(spec):
            return False
        self.guard(self._dispatch, handler, command, spec, now)
        return True

    def _dispatch(self, handler: Handler, command: Command, spec: CommandSpec, now: float) -> None:
        self._charset = line_charset(command.raw)
        if command.form == "test":
            self._test(spec)
        elif command.form not in spec.forms:
            raise bad(f"AT+{spec.name} has no {command.form} form")
        else:
            handler(command, spec, now)

    def guard(self, function: Callable[..., None], *args: object) -> None:
        """Run `function`; a refusal or a bug becomes the command's error answer."""
        try:
            function(*args)
        except CommandError as exc:
            log.debug("refused: %s", exc)
            self.fail_token(exc.token) if exc.token else self.fail(exc.kind)
        except Exception:  # noqa: BLE001 - whatever the input, the module keeps serving
            log.exception("OneMO module side: internal error")
            self.fail(ErrorKind.UNKNOWN)

    def receive_data(self, data: bytes, now: float) -> None:
        while True:  # each failure has consumed its frame: go on with the frames after it
            try:
                super().receive_data(data, now)
                return
            except Exception:  # noqa: BLE001
                log.exception("OneMO module side: internal error while framing")
                self.error()
                data = b""

    def set_timer(self, name: str, deadline: float, callback: Callable[[float], None]) -> None:
        super().set_timer(name, deadline, lambda now: self.guard(callback, now))

    def _framing_error(self, frame: FramingError, now: float) -> None:
        # Data after ">" longer than allowed: answered now; the framer drops what follows up to
        # Ctrl-Z, or until the input timeout ends data mode without a second answer.
        if self._on_data is not None:
            self._on_data = None
            if self.framer.in_data_mode:
                super().set_timer("input", now + self.default_input_timeout(), self._drop_overflow)
            else:
                self.cancel_timer("input")
        super()._framing_error(frame, now)

    def _drop_overflow(self, now: float) -> None:
        if self._on_data is None and self.framer.in_data_mode:  # still the overflowed input, not a new prompt
            self.framer.end_data()

    def _model_has(self, spec: CommandSpec) -> bool:
        if spec.name in (self.profile.get("commands_missing") or ()):
            return False
        return not spec.models or self.profile.name in spec.models

    def _test(self, spec: CommandSpec) -> None:
        form = spec.forms.get("test")
        text = form.answer if form is not None else None
        if text:
            httpid = self.param_spec("MHTTPDEL", "httpid")
            if httpid is not None and httpid.range is not None:
                own = with_limits(httpid, self.profile).range
                text = text.replace("({}-{})".format(*httpid.range), "({}-{})".format(*own), 1)
            if spec.name == "MHTTPCFG":
                text = self.config.test_settings(text)
            self.line(text)
        self.ok()

    # -- data typed in a command or after ">" ------------------------------------------

    def inline_data(self, text: str, spec: ParamSpec, input_format: int, length: Optional[int]) -> bytes:
        """Data given inside the command, decoded; <length> > 0 must match the decoded length
        (HEX: half the digits typed; escaped: after decoding, as the manual's MSSLCERTWR example counts)."""
        try:
            data = decode_input(text, input_format, self._charset)
        except DecodeError as exc:
            raise bad(str(exc)) from None
        if length and len(data) != length:
            raise bad(f"<length> is {length}, the data {len(data)} bytes")
        check_length(data, spec, self.profile)
        return data

    def take_data(self, length: Optional[int], max_len: int, timeout: Optional[float], now: float,
                  use: Callable[[bytes], None], partial: bool = True) -> None:
        """Prompt and read raw data: `length` bytes, or up to Ctrl-Z when 0/None; ESC cancels.
        On the input timeout the length form uses what arrived (`partial`); the Ctrl-Z form fails."""
        if not self.profile.get("data_mode", True):
            raise bad("this model has no data mode: give the data in the command")

        def arrived(data: bytes, ended_by: str, _now: float) -> None:
            self.guard(self._data_ended, data, ended_by, bool(length and partial), use)

        self.prompt_for_data(length or None, arrived, now, timeout, max_len)

    @staticmethod
    def _data_ended(data: bytes, ended_by: str, partial: bool, use: Callable[[bytes], None]) -> None:
        if ended_by == "esc":
            raise CommandError(ErrorKind.CANCELLED, "cancelled with ESC")
        if ended_by == "timeout" and not (partial and data):
            raise CommandError(ErrorKind.INPUT_TIMEOUT, "the data did not arrive in time")
        use(data)

    def default_input_timeout(self) -> float:
        spec = self.param_spec("MHTTPCFG", "input_timeout")
        assert spec is not None and spec.default, "onemo.yaml: MHTTPCFG <input_timeout> has no default"
        return float(spec.default)

    # -- lookups --------------------------------------------------------------------------

    def param_spec(self, command: str, name: str) -> Optional[ParamSpec]:
        """The first parameter `name` of `command` (its set form, else one of its settings)."""
        spec = self.dialect.command(command)
        if spec is None:
            return None
        groups = [spec.forms["set"].params] if "set" in spec.forms else []
        for params in groups + list(spec.settings.values()):
            for param in params:
                if param.name == name:
                    return param
        return None

    def instance(self, httpid: int) -> Instance:
        found = self.instances.get(httpid)
        if found is None:
            raise CommandError(ErrorKind.INSTANCE_NOT_FOUND, f"instance {httpid} is not created")
        return found

    def created(self) -> list[Instance]:
        return [self.instances[key] for key in sorted(self.instances)]

    def instance_tls(self, instance: Instance) -> Optional[TlsSettings]:
        """TLS from MHTTPCFG "ssl": the SSL context named; an https server without it gets the
        default configuration (as the 3.5 note says of a redirect to https)."""
        enabled = instance.settings.on("ssl", "ssl_enable")
        ssl_id = instance.settings.get("ssl", "ssl_id")
        if enabled and ssl_id is not None:
            return self.ssl.contexts.tls(int(ssl_id))
        if enabled or instance.base.scheme == "https":
            return TlsSettings()
        return None

    # -- the executor's limits (executor_capabilities; in a bridge: the other dialect's module) ---

    def request_running(self) -> bool:
        """A request of an instance or of AT+MHTTPDLFILE has not ended."""
        return bool(self.downloads) or any(instance.busy for instance in self.instances.values())

    def check_free(self) -> None:
        """With an executor that runs one request at a time: refuse a second one (653)."""
        if self.executor_capabilities.one_request_at_a_time and self.request_running():
            raise CommandError(ErrorKind.BUSY, "the module runs one request at a time")

    def check_executor(self, request: Request) -> None:
        """Refuse, before OK, a request the executor says it cannot carry."""
        refusal = self.executor_capabilities.refusal
        failure = refusal(request) if refusal is not None else None
        if failure is not None:
            raise CommandError(failure.kind, failure.detail)

    def executor_tls(self, tls: Optional[TlsSettings]) -> Optional[TlsSettings]:
        """TLS as the executor takes it: when its files are its module's, certificates of self.fs go as
        their PEM text (the executor's module cannot read this file system); without
        verification none are sent (they would not be used)."""
        if tls is None or not self.executor_capabilities.files_on_module:
            return tls
        if VerifyMode(tls.verify) is VerifyMode.NONE:
            return dataclasses.replace(tls, ca=None, client_cert=None, client_key=None)
        return dataclasses.replace(tls, ca=self._pem(tls.ca), client_cert=self._pem(tls.client_cert),
                                   client_key=self._pem(tls.client_key))

    def _pem(self, path: Optional[str]) -> Optional[str]:
        if path is None:
            return None
        try:
            return self.fs.read_bytes(path).decode("latin-1")
        except (OSError, ValueError):
            return path  # not written: the executor finds no such certificate either

    # -- output: a body's URCs, joined once by the sink, go out without another copy ----------------

    def write(self, data: bytes) -> None:
        held = self._held
        if held is None and not self._out and type(data) is bytes:
            self._held = data
            return
        if held is not None:
            self._out[:0] = held  # written before what the base class added to _out since
            self._held = None
        self._out += data

    def data_to_send(self) -> bytes:
        held, self._held = self._held, None
        if held is None:
            return super().data_to_send()
        return held + super().data_to_send() if self._out else held

    def next_deadline(self) -> Optional[float]:
        return super().next_deadline() if self._timers else None

    # -- transfers (the Io of bridge.onemo.module.transfer) ---------------------------------------

    def handle_event(self, token: int, event: Event, now: float) -> None:
        transfer = self._transfers.get(token)
        if transfer is None:
            return  # a request already ended or terminated
        try:
            transfer.event(event, now)
        except Exception:  # noqa: BLE001
            log.exception("OneMO module side: internal error on %r", event)
            self.guard(transfer.abort, ErrorKind.UNKNOWN)

    def body_stream(self, token: int) -> Optional[Callable[[bytes, float], bool]]:
        """A bridge's body pump: what hands the body bytes of request `token` to its transfer as
        a BodyChunk of them would, and says whether nothing but its URCs came of them (False:
        the transfer ended or queued an action, the bridge routes).  None: no body goes to a
        transfer now (none runs under `token`, or it skips a redirect's body)."""
        transfer = self._transfers.get(token)
        if transfer is None or not transfer.takes_body:
            return None

        def deliver(data: bytes, now: float) -> bool:
            if self._transfers.get(token) is not transfer:
                return False  # dropped, as handle_event drops it
            queued = len(self._actions)
            try:
                transfer.body(data, now)
            except Exception:  # noqa: BLE001
                log.exception("OneMO module side: internal error on %d body bytes", len(data))
                self.guard(transfer.abort, ErrorKind.UNKNOWN)
                return False
            return not transfer.over and len(self._actions) == queued
        return deliver

    def launch(self, transfer: Transfer) -> None:
        if transfer.token is not None:
            self._transfers.pop(transfer.token, None)
        transfer.token = self.start(transfer.request)
        self._transfers[transfer.token] = transfer

    def halt(self, transfer: Transfer) -> None:
        if transfer.token is not None:
            self._transfers.pop(transfer.token, None)
            self.cancel(transfer.token)

    def finished(self, transfer: Transfer, ok: bool) -> None:
        if transfer.token is not None:
            self._transfers.pop(transfer.token, None)
        instance = self.instances.get(transfer.httpid)
        if instance is not None and instance.transfer is transfer:
            instance.transfer = None
            if ok:
                instance.request_done()
        if self.downloads.get(transfer.httpid) is transfer:
            del self.downloads[transfer.httpid]

    def async_code(self, kind: ErrorKind) -> str:
        return self.dialect.report_token("async", kind)

    def transfers(self) -> list[Transfer]:
        return list(self._transfers.values())
