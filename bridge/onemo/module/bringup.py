"""OneMO bring-up commands firmware sends before its first request (dialects/onemo.yaml MCCID,
MIPCALL; the OneMO general AT manual 4.6 and 4.17):

- AT+MCCID: +MCCID: <ICCID> (and AT+ICCID: +ICCID: <ICCID>, which ML307 drivers send too);
- AT+MDNSCFG="ip"[,<dns1>[,<dns2>]] / ="priority"[,<0|1>]: DNS servers and family priority, kept here;
- AT+MIPCALL=<operation>,<cid>: OK, then +MIPCALL: <cid>,1,"<ip>" once the context is up (a
  context already up gets OK only); AT+MIPCALL=0,<cid> takes it down;
- AT+MIPCALL?: +MIPCALL: <cid>,<state>[,"<ip>"] for each defined context (AT+CGDCONT);
- AT+CGAUTH=<cid>[,<auth_prot>[,<userid>[,<password>]]]: the context's authentication (4.13).

An emulator answers from its Identity (Identity.pdp_active, shared with AT+CGACT); the context
that autoconn brings up at power-on (cid 1, MUECONFIG "autoconn" default 1) is up while the module
is attached.  In a bridge
(side.module_call set) each is translated into a model.ModuleOp the module behind carries out
with its own commands, and the answer is written in OneMO's form; a failure gets OneMO's own
error answer.
"""
from __future__ import annotations

from typing import Callable, Optional, Protocol

from bridge.at.dialect import CommandSpec
from bridge.at.frames import Command
from bridge.model import ErrorKind, ModuleAnswer, ModuleCall, ModuleOp
from bridge.onemo.module.reply import CommandReply
from bridge.onemo.params import CommandError, parse_params
from bridge.roles.identity import Identity

AUTOCONN_CID = 1  # the context a OneMO module connects by itself at power-on (MUECONFIG "autoconn" 1)


class Side(CommandReply, Protocol):
    identity: Identity
    module_call: Optional[Callable[[ModuleCall, Callable[[ModuleAnswer], None]], None]]


class BringUpCommands:
    def __init__(self, side: Side) -> None:
        self.side = side
        self.dns: dict[str, str] = {}  # MDNSCFG values, from the dialect file's defaults on first use
        self.auth: dict[int, tuple[str, str, str]] = {}  # AT+CGAUTH by cid: (protocol, user, password)

    @property
    def up(self) -> set[int]:
        """Contexts connected (while attached): the Identity's, which AT+CGACT shares."""
        return self.side.identity.pdp_active

    # -- AT+MCCID ----------------------------------------------------------------------------

    def mccid(self, command: Command, spec: CommandSpec, now: float) -> None:
        """AT+MCCID and AT+ICCID: +<name>: <ICCID>."""
        prefix = "+" + spec.name
        if self.side.module_call is not None:
            self._call(ModuleCall(ModuleOp.ICCID), lambda answer: self._iccid(prefix, answer.values[0] if answer.values else ""))
        else:
            self._iccid(prefix, self.side.identity.iccid)

    def _iccid(self, prefix: str, iccid: str) -> None:
        if not iccid:
            raise CommandError(ErrorKind.UNKNOWN, "no ICCID (no SIM)")
        self.side.line(f"{prefix}: {iccid}")
        self.side.ok()

    # -- AT+MDNSCFG ----------------------------------------------------------------------------

    def mdnscfg(self, command: Command, spec: CommandSpec, now: float) -> None:
        setting = str(parse_params(command.params[:1], spec.forms["set"].params, self.side.profile)["setting"])
        params = spec.settings.get(setting)
        if params is None:
            raise CommandError(ErrorKind.INVALID_PARAMETER, f"no MDNSCFG setting {setting!r}")
        if not self.dns:
            self.dns = {k: str(v) for k, v in (spec.raw.get("defaults") or {}).items()}
        values = parse_params(command.params[1:], params, self.side.profile)
        given = {p.name: str(values[p.name]) for p in params if values[p.name] is not None}
        if given:
            self.dns.update(given)
        else:
            fields = [f'"{self.dns.get(p.name, "")}"' if p.type == "string" else self.dns.get(p.name, "0") for p in params]
            self.side.line(f'+MDNSCFG: "{setting}",' + ",".join(fields))
        self.side.ok()

    # -- AT+CGAUTH ----------------------------------------------------------------------------

    def cgauth(self, command: Command, spec: CommandSpec, now: float) -> None:
        values = parse_params(command.params, spec.forms["set"].params, self.side.profile)
        setting = (str(values["auth_prot"] or 0), str(values["userid"] or ""), str(values["password"] or ""))
        if self.side.module_call is not None:
            self._call(ModuleCall(ModuleOp.SET_AUTH, setting), lambda answer: self.side.ok())
            return
        self.auth[int(values["cid"])] = setting
        self.side.ok()

    # -- AT+MIPCALL ----------------------------------------------------------------------------

    def mipcall(self, command: Command, spec: CommandSpec, now: float) -> None:
        if command.form == "read":
            self._read()
            return
        values = parse_params(command.params, spec.forms["set"].params, self.side.profile)
        operation, cid = values["operation"], values["cid"]
        if cid is None:
            raise CommandError(ErrorKind.INVALID_PARAMETER, "<cid> may not be omitted (4.17 note)")
        if self.side.dialect.means("link_state").meaning(str(operation)) is True:
            self._connect(int(cid))
        else:
            self._disconnect(int(cid))

    def _read(self) -> None:
        if self.side.module_call is not None:
            self._call(ModuleCall(ModuleOp.LINK_STATE), self._state_answered)
            return
        for cid in sorted(self.side.identity.pdp):
            self.side.line(self._state_line(cid, self._is_up(cid), self.side.identity.ip))
        self.side.ok()

    def _state_answered(self, answer: ModuleAnswer) -> None:
        state = answer.values[0] if answer.values else "0"
        ip = answer.values[1] if len(answer.values) > 1 else ""
        self.side.line(self._state_line(AUTOCONN_CID, state == "1", ip))
        self.side.ok()

    def _connect(self, cid: int) -> None:
        if self.side.module_call is not None:
            self._call(ModuleCall(ModuleOp.LINK_UP, (str(cid),)), lambda answer: self._connected(cid, answer))
            return
        ident = self.side.identity
        if cid not in ident.pdp:
            raise CommandError(ErrorKind.NOT_ALLOWED, f"context {cid} is not defined (AT+CGDCONT)")
        if not ident.attached:
            raise CommandError(ErrorKind.NO_DATA_LINK, "not attached to the packet domain")
        already = self._is_up(cid)
        self.up.add(cid)
        self.side.ok()
        if not already:  # 4.17: a context already connected gets OK only
            self.side.line(self._state_line(cid, True, ident.ip))

    def _connected(self, cid: int, answer: ModuleAnswer) -> None:
        self.side.ok()
        self.side.line(self._state_line(cid, True, answer.values[0] if answer.values else ""))

    def _disconnect(self, cid: int) -> None:
        if self.side.module_call is not None:
            self._call(ModuleCall(ModuleOp.LINK_DOWN, (str(cid),)), lambda answer: self.side.ok())
            return
        self.up.discard(cid)
        self.side.ok()

    def _is_up(self, cid: int) -> bool:
        return cid in self.up and self.side.identity.attached

    def _state_line(self, cid: int, up: bool, ip: str) -> str:
        state = self.side.dialect.means("link_state").token(up)
        return f'+MIPCALL: {cid},{state},"{ip}"' if up and ip else f"+MIPCALL: {cid},{state}"

    # -- the bridge ----------------------------------------------------------------------------

    def _call(self, call: ModuleCall, use: Callable[[ModuleAnswer], None]) -> None:
        """Ask the module behind; `use` writes the OneMO answer, a failure OneMO's error answer."""
        assert self.side.module_call is not None

        def answered(answer: ModuleAnswer) -> None:
            if not answer.ok:
                self.side.fail(answer.error or ErrorKind.UNKNOWN)
                return
            self.side.guard(use, answer)

        self.side.module_call(call, answered)
