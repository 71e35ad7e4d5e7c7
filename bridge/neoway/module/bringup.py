"""Bring-up commands N58 firmware sends before HTTP, outside chapter 9 (N58 AT manual v2.0,
chapters 4 and 6): AT+XIIC (data link), AT+CCID (ICCID), AT+NETAPN (APN), AT+XGAUTH (PDP
authentication), AT+DNSSERVER (DNS servers).  Their forms are declared in dialects/neoway.yaml.

In the emulator they are answered from the module's own state.  In a bridge (the side's
`module_call` set) each becomes a bring-up operation of the model (ModuleOp) that the module
behind carries out with its own commands; where it has no twin (ModuleAnswer UNSUPPORTED) the
firmware gets what its own module would have said, from this side's state (the tables in
compat-neoway.md).  AT+DNSSERVER has no twin at all: it is answered here.

- The data link: AT+XIIC=1 brings it up, AT+XIIC=0 takes it down; an HTTP(S) link that was up
  goes down with it, reported "+HTTPCLOSED: HTTP Link Closed" (an exchange in flight is
  cancelled and reports itself).  Bridged, AT+XIIC? reports the module's state, and this side's
  link follows what it reported: HTTPSETUP is never refused while AT+XIIC? said 1.
- AT+NETAPN and AT+XGAUTH are remembered (AT+NETAPN? reads them back, as the module does).
"""
from __future__ import annotations

import ipaddress
from typing import Callable, Protocol, Union

from bridge.at.dialect import CommandSpec, Dialect
from bridge.at.frames import Command
from bridge.model import ErrorKind, ModuleAnswer, ModuleCall, ModuleOp
from bridge.roles.module import Identity
from bridge.neoway.module.channel import Channel
from bridge.neoway.module.datalink import NO_ADDRESS, XIIC_SPACES, DataLink
from bridge.neoway.params import ParamError, checked

_MODEL_UP = "1"  # ModuleOp.LINK_STATE's <state> for a link that is up (bridge.model)
_MODEL_CID = "1"  # the context ModuleOp.LINK_UP / LINK_DOWN are asked for: Neoway has one data link
_MODEL_PAP = "1"  # ModuleOp.SET_AUTH's PAP (bridge.model), AT+XGAUTH's default


class Side(Protocol):
    dialect: Dialect
    identity: Identity
    link: DataLink
    channels: dict[bool, Channel]
    module_call: object
    query: object

    def line(self, text: Union[str, bytes]) -> None: ...
    def ok(self) -> None: ...
    def fail(self, kind: ErrorKind) -> None: ...
    def cancel(self, token: int) -> None: ...
    def close_line(self, secure: bool) -> str: ...
    def hold_until_answered(self) -> None: ...
    def answered(self, now: float) -> None: ...
    def write(self, data: bytes) -> None: ...


class BringUp:
    def __init__(self, side: Side) -> None:
        self.side = side
        self.apn = ("", "", "")                 # AT+NETAPN? of a fresh module: "","",""
        self.auth: dict[str, tuple[str, str, str]] = {}
        self.dns = [NO_ADDRESS, NO_ADDRESS]
        self._calls = 0                          # operations the module behind has not answered yet
        self.recv = self._recv_defaults()        # AT+RECVMODE <n>,<mode>: the N58's power-on state

    def _recv_defaults(self) -> tuple[str, str]:
        spec = self.side.dialect.command("RECVMODE")
        n, mode = (param.default or "" for param in spec.forms["set"].params) if spec else ("", "")
        return n, mode

    # ---- AT+XIIC --------------------------------------------------------------------------------

    def xiic(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        if command.form == "read":
            self._call(ModuleOp.LINK_STATE, (), now, self._state_read)
            return
        (action,) = checked(command, spec)
        if self.side.dialect.means("link_state").meaning(action or "") is True:
            self._call(ModuleOp.LINK_UP, (_MODEL_CID,), now, self._came_up)
        else:
            self._call(ModuleOp.LINK_DOWN, (_MODEL_CID,), now, self._went_down)

    def _state_read(self, answer: ModuleAnswer) -> None:
        link = self.side.link
        if answer.ok and answer.values:
            up = answer.values[0].strip() == _MODEL_UP
            link.requested = up
            if up:  # what AT+XIIC? says is what HTTPSETUP goes by
                self.side.identity.attached = True
                if len(answer.values) > 1 and answer.values[1].strip():
                    self.side.identity.ip = answer.values[1].strip()
        state = self.side.dialect.means("link_state").token(link.up)
        self.side.line(f"+XIIC:{XIIC_SPACES}{state},{link.address}")
        self.side.ok()

    def _came_up(self, answer: ModuleAnswer) -> None:
        if answer.values and answer.values[0].strip():
            self.side.identity.ip = answer.values[0].strip()
        self.side.link.requested = True
        self.side.ok()

    def _went_down(self, answer: ModuleAnswer) -> None:
        self.side.link.requested = False
        self.side.ok()
        for channel in self.side.channels.values():
            if channel.job is not None:  # it reports its own end (cancelled: the link closing)
                self.side.cancel(channel.job.token)
            elif channel.link_up:
                channel.link_up = False
                self.side.line(self.side.close_line(channel.secure))

    # ---- AT+CCID --------------------------------------------------------------------------------

    def ccid(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        checked(command, spec)
        self._call(ModuleOp.ICCID, (), now, self._iccid)

    def _iccid(self, answer: ModuleAnswer) -> None:
        iccid = answer.values[0] if answer.ok and answer.values else self.side.identity.iccid
        self.side.line(f"+CCID: {iccid}")
        self.side.ok()

    # ---- AT+NETAPN, AT+XGAUTH ---------------------------------------------------------------------

    def netapn(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        if command.form == "read":
            self.side.line("+NETAPN: " + ",".join(f'"{value}"' for value in self.apn))
            self.side.ok()
            return
        apn, user, password = (value or "" for value in checked(command, spec))
        self.apn = (apn, user, password)
        if user or password:  # the user and password go with it, as PAP (AT+XGAUTH's default)
            self._call(ModuleOp.SET_APN, (apn,), now, lambda answer: self._call(
                ModuleOp.SET_AUTH, (_MODEL_PAP, user, password), now, self._set))
        else:
            self._call(ModuleOp.SET_APN, (apn,), now, self._set)

    def xgauth(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        if command.form == "test":
            self.side.line(spec.forms["test"].answer or "")
            self.side.ok()
            return
        cid, auth, name, password = checked(command, spec)
        assert cid is not None and auth is not None
        if self.side.dialect.means("pdp_auth").meaning(auth) != "none" and (name is None or password is None):
            raise ParamError("AT+XGAUTH: <name> and <pwd> go with PAP and CHAP")
        self.auth[cid] = (auth, name or "", password or "")
        self._call(ModuleOp.SET_AUTH, (auth, name or "", password or ""), now, self._set)

    def _set(self, answer: ModuleAnswer) -> None:
        if answer.ok or answer.error is ErrorKind.UNSUPPORTED:  # no twin: what the N58 says
            self.side.ok()
        else:
            self.side.fail(answer.error or ErrorKind.UNKNOWN)

    # ---- AT+RECVMODE (TCP/UDP receive mode: no HTTP effect, remembered) ----------------------------

    def recvmode(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        if command.form in ("read", "test"):
            text = f"+RECVMODE: {self.recv[0]},{self.recv[1]}" if command.form == "read" else spec.forms["test"].answer
            self.side.line(text or "")
        else:
            n, mode = checked(command, spec)
            assert n is not None and mode is not None
            self.recv = (n, mode)
        self.side.ok()

    # ---- identity answers of the module behind, in the N58's "+NAME: value" form -------------------

    def identity_through(self, command: Command, now: float) -> None:
        """AT+CGSN etc. in a bridge: the module behind answers, and a bare value line (27.007's
        form) is given the prefix an N58 writes (neoway.yaml identity_prefixed)."""
        self.side.hold_until_answered()
        prefix = f"+{command.name}:"

        def done(answer: bytes) -> None:
            lines = answer.split(b"\r\n")
            for i, line in enumerate(lines):
                text = line.strip()
                if text and not text.startswith((b"+", b"OK", b"ERROR")) and text.isalnum():
                    lines[i] = prefix.encode() + b" " + text
            self.side.write(b"\r\n".join(lines))
            self.side.answered(now)

        self.side.query(command.raw, done)  # type: ignore[operator]

    # ---- AT+DNSSERVER ---------------------------------------------------------------------------

    def dnsserver(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        if command.form == "read":
            self.side.line(f"+DNSSERVER: dns1:{self.dns[0]},dns2:{self.dns[1]}")
            self.side.ok()
            return
        which, address = checked(command, spec)
        assert which is not None and address is not None
        try:
            self.dns[int(which) - 1] = str(ipaddress.IPv4Address(address.strip()))
        except ValueError:
            raise ParamError(f"AT+DNSSERVER: {address!r} is not an IPv4 address") from None
        self.side.ok()

    # ---- the module behind, or this side's own state ----------------------------------------------

    def _call(self, op: ModuleOp, args: tuple[str, ...], now: float, done: Callable[[ModuleAnswer], None]) -> None:
        """`done` with the answer of the module behind a bridge to `op`, or with UNSUPPORTED (the
        emulator: this side's state answers).  The host's next commands wait for it."""
        module_call = self.side.module_call
        if module_call is None:
            done(ModuleAnswer(False, error=ErrorKind.UNSUPPORTED))
            return
        self.side.hold_until_answered()
        self._calls += 1

        def back(answer: ModuleAnswer) -> None:
            try:
                self._answered(op, answer, done)  # may call the module again (AT+NETAPN with a user)
            finally:
                self._calls -= 1
                if not self._calls:
                    self.side.answered(now)

        module_call(ModuleCall(op, args), back)  # type: ignore[operator]

    def _answered(self, op: ModuleOp, answer: ModuleAnswer, done: Callable[[ModuleAnswer], None]) -> None:
        if answer.ok or answer.error is ErrorKind.UNSUPPORTED or op in (ModuleOp.LINK_STATE, ModuleOp.ICCID):
            done(answer)  # LINK_STATE / ICCID that failed: this side's own state answers
        elif op in (ModuleOp.LINK_UP, ModuleOp.LINK_DOWN):
            self.side.fail(answer.error or ErrorKind.NO_DATA_LINK)
        else:
            done(answer)
