"""The module side of a dialect (server role), sans-I/O: host bytes in, module bytes out.

This base class frames the host's bytes, echoes, answers the 3GPP basics (common.yaml), formats
final results and errors (AT+CMEE), runs data mode and timers, and hands requests to an executor
through *actions* that the I/O loop carries out.  A dialect subclasses it and implements
:meth:`ModuleSide.handle_command` (and :meth:`ModuleSide.handle_event` for its requests).

Time comes in as `now` (seconds, monotonic); nothing here reads a clock, a port or a socket.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional, Union

from bridge.at.dialect import Dialect
from bridge.at.frames import Command, DataInput, Frame, FramingError
from bridge.at import NEED_DATA, CommandFramer
from bridge.model import DeclaresCapabilities, ErrorKind, Event, ExecutorCapabilities, ModuleAnswer, ModuleCall, Request
from bridge.roles.basics import IDENTIFICATION, MODEL_IDENTIFICATION, answer_basic, identity_answer, identity_value
from bridge.roles.identity import Identity

if TYPE_CHECKING:
    from bridge.device.hosts import HostsResolver


@dataclass(frozen=True)
class StartRequest:
    token: int
    request: Request


@dataclass(frozen=True)
class CancelRequest:
    token: int


Action = Union[StartRequest, CancelRequest]
_ALWAYS_LOCAL = ("E", "CMEE")  # echo and error format are the host's own, also in a bridge
DataCallback = Callable[[bytes, str, float], None]  # data, how it ended (length, ctrl_z, esc, timeout), now


@dataclass
class _Timer:
    deadline: float
    callback: Callable[[float], None]


class ModuleSide:
    def __init__(self, dialect: Dialect, model: Optional[str] = None, identity: Optional[Identity] = None):
        self.dialect = dialect
        self.profile = dialect.model(model)
        self.identity = identity or Identity(model=self.profile.name,
                                             manufacturer=self.profile.get("manufacturer") or Identity.manufacturer,
                                             serial=self.profile.get("serial_number") or "")
        self.framer = CommandFramer(dialect, auto_data_mode=False)
        self.echo = True
        self.cmee = 1
        self._out = bytearray()
        self._actions: list[Action] = []
        self._timers: dict[str, _Timer] = {}
        self._tokens = itertools.count(1)
        self._on_data: Optional[DataCallback] = None
        # In a bridge: where commands that are not the dialect's own go (the real module);
        # their answers come back through write().  None: answer them here (emulator).
        self.forward: Optional[Callable[[Command], None]] = None
        # In a bridge: ask the real module a command line; the callback gets its raw answer.
        self.query: Optional[Callable[[bytes, Callable[[bytes], None]], None]] = None
        # A bridge: carries out a bring-up operation (model.ModuleOp) on the module behind, with that
        # module's own commands, and calls back with its answer.  None: an emulator answers itself.
        self.module_call: Optional[Callable[[ModuleCall, Callable[[ModuleAnswer], None]], None]] = None
        # An emulator: the hosts map its executor resolves with, for a dialect's own DNS query
        # (Neoway AT+CDNSGIP).  None (a bridge, or not given): such a query is answered ERROR.
        self.resolver: Optional[HostsResolver] = None
        # What the executor of this side's requests can do: the network executor's (the emulator)
        # until adapt_to_executor says otherwise.
        self.executor_capabilities = ExecutorCapabilities()

    # -- the I/O loop's interface ----------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> None:
        framer = self.framer
        frame = framer.whole_frame(data)  # a command line alone in a read, framed at once
        if frame is not None:
            self._frame_in(frame, now)
            return
        framer.receive_data(data)
        while not framer.drained:
            frame = framer.next_frame()
            if frame is NEED_DATA:
                return
            self._frame_in(frame, now)  # type: ignore[arg-type]

    def body_stream(self, token: int) -> Optional[Callable[[bytes, float], bool]]:
        """A bridge's body pump into request `token`'s transfer; None: this side has none."""
        return None

    def _frame_in(self, frame: Frame, now: float) -> None:
        if isinstance(frame, DataInput):
            self._data_arrived(frame, now)
        elif isinstance(frame, Command):
            self._command(frame, now)
        elif isinstance(frame, FramingError):
            self._framing_error(frame, now)

    def data_to_send(self) -> bytes:
        if not self._out:
            return b""
        out = bytes(self._out)
        self._out.clear()
        return out

    def take_actions(self) -> list[Action]:
        actions, self._actions = self._actions, []
        return actions

    def next_deadline(self) -> Optional[float]:
        timers = self._timers
        if len(timers) <= 1:
            return next(iter(timers.values())).deadline if timers else None
        return min(t.deadline for t in timers.values())

    def on_time(self, now: float) -> None:
        for name, timer in sorted(self._timers.items(), key=lambda kv: kv[1].deadline):
            if timer.deadline <= now and self._timers.get(name) is timer:
                del self._timers[name]
                timer.callback(now)

    def handle_event(self, token: int, event: Event, now: float) -> None:
        """An event of the request started under `token`."""

    def adapt_to_executor(self, executor: DeclaresCapabilities) -> None:
        """A bridge: this side's requests go to `executor` (the host side of the module's dialect),
        which may not do everything the network executor does."""
        self.executor_capabilities = executor.capabilities

    # -- for dialects ---------------------------------------------------------------------

    def handle_command(self, command: Command, now: float) -> bool:
        """Answer a dialect command; return False if it is not one of the dialect's."""
        return False

    def write(self, data: bytes) -> None:
        self._out += data

    def line(self, text: Union[str, bytes]) -> None:
        """An information response or URC line, framed as modules do: CR LF text CR LF."""
        self._out += b"\r\n" + (text.encode() if isinstance(text, str) else text) + b"\r\n"

    def ok(self) -> None:
        self.line(self.dialect.final["ok"])

    def error(self) -> None:
        self.line(self.dialect.final["error"])

    def fail(self, kind: ErrorKind) -> None:
        """The final result this dialect gives for `kind` on a command (sync channel)."""
        self.fail_token(self.dialect.report_token("sync", kind))

    def fail_token(self, token: str) -> None:
        if not token.isdigit():
            self.line(token)
            return
        if self.cmee == 0:
            self.error()
            return
        spec = self.dialect.sync_errors.get(token)
        value = spec.text if self.cmee == 2 and spec and spec.text else token
        self.line(f"{self.dialect.final['cme']}: {value}")

    def prompt_for_data(self, length: Optional[int], on_data: DataCallback, now: float,
                        timeout: Optional[float], max_len: int = 4096) -> None:
        """Write the prompt and read data: `length` bytes, or up to Ctrl-Z when None.  `on_data`
        gets the data and how it ended; on the input timeout, what had arrived."""
        self.framer.expect_data(length, max_len, after_prompt=True)
        self._on_data = on_data
        self._out += b"\r\n" + self.dialect.prompt.encode()
        if timeout:
            self.set_timer("input", now + timeout, self._input_timed_out)

    def set_timer(self, name: str, deadline: float, callback: Callable[[float], None]) -> None:
        self._timers[name] = _Timer(deadline, callback)

    def cancel_timer(self, name: str) -> None:
        self._timers.pop(name, None)

    def start(self, request: Request) -> int:
        token = next(self._tokens)
        self._actions.append(StartRequest(token, request))
        return token

    def cancel(self, token: int) -> None:
        self._actions.append(CancelRequest(token))

    # -- internals -----------------------------------------------------------------------

    def _command(self, command: Command, now: float) -> None:
        if self.echo:
            self._out += command.raw + b"\r"
        if command.name in _ALWAYS_LOCAL and self._basic(command):
            return
        if self.handle_command(command, now):
            return
        if self.forward is not None:
            self._forward(command)
        elif not self._basic(command):
            self.error()

    def _forward(self, command: Command) -> None:
        """To the module behind.  Identification comes in this dialect's form (plain, or
        "+CGMM: <value>" where the model profile lists the command under identity_prefixed):
        the MODEL and its manufacturer (AT+CGMM/GMM/CGMI/GMI, ATI's model lines) are the profile's
        the firmware was written for (`--host-model`), because firmware gates on them (esp-ml307
        picks its driver by AT+CGMM); the IMEI, IMSI and revision are the module's own."""
        if self.query is None or command.form != "execute" or command.name not in IDENTIFICATION | {"I"}:
            assert self.forward is not None
            self.forward(command)
        elif command.name in MODEL_IDENTIFICATION:
            self._basic(command)
        elif command.name == "I":  # the profile's manufacturer and model, the module's revision
            self.query(b"AT+CGMR", lambda answer: self._identify(command, identity_value(answer, "CGMR")))
        else:
            prefixed = command.name in (self.profile.get("identity_prefixed") or ())
            self.query(command.raw, lambda answer: self.write(identity_answer(answer, command.name, prefixed)))

    def _identify(self, command: Command, revision: Optional[bytes]) -> None:
        if revision is not None:
            self.identity.revision = revision.decode(errors="replace")
        self._basic(command)

    def _framing_error(self, frame: FramingError, now: float) -> None:
        if self.echo and frame.raw:
            self._out += frame.raw + b"\r"
        self.error()

    def _data_arrived(self, frame: DataInput, now: float) -> None:
        self.cancel_timer("input")
        callback, self._on_data = self._on_data, None
        if callback is not None:
            callback(frame.data, frame.ended_by, now)

    def _input_timed_out(self, now: float) -> None:
        data = self.framer.end_data()
        callback, self._on_data = self._on_data, None
        if callback is not None:
            callback(data, "timeout", now)

    def _basic(self, command: Command) -> bool:
        return answer_basic(self, command)
