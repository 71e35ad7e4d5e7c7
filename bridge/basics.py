"""The 3GPP / V.25ter basics firmware sends before anything else (declared in common.yaml):
AT, ATE, AT+CMEE, ATI, AT+CGMR, AT+CGSN, AT+CSQ, AT+CPIN?, AT+CREG?, AT+CEREG?, AT+CGATT?,
AT+CGDCONT, AT+CGPADDR."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from .frames import Command
from .model import ErrorKind

if TYPE_CHECKING:
    from .moduleside import ModuleSide


def answer_basic(side: "ModuleSide", command: Command) -> bool:
    """Answer `command` if it is a basic one; False if it is not."""
    handler = _HANDLERS.get(command.name)
    if handler is None:
        return False
    handler(side, command)
    return True


def _values(command: Command) -> list[str]:
    return [p.text for p in command.params]


def _at(side: "ModuleSide", command: Command) -> None:
    side.ok() if command.form == "execute" else side.error()


def _echo(side: "ModuleSide", command: Command) -> None:
    value = _values(command)[:1] or ["0"]
    if command.form not in ("set", "execute") or value[0] not in ("0", "1"):
        side.error()
        return
    side.echo = value[0] == "1"
    side.ok()


def _cmee(side: "ModuleSide", command: Command) -> None:
    if command.form == "read":
        side.line(f"+CMEE: {side.cmee}")
    elif command.form == "test":
        side.line("+CMEE: (0-2)")
    elif command.form == "set" and _values(command)[:1] in (["0"], ["1"], ["2"]):
        side.cmee = int(_values(command)[0])
    else:
        side.fail(ErrorKind.INVALID_PARAMETER)
        return
    side.ok()


def _identity(side: "ModuleSide", command: Command) -> None:
    ident = side.identity
    if command.form != "execute":
        side.fail(ErrorKind.INVALID_PARAMETER)
        return
    if command.name == "I":
        side.write(f"\r\n{ident.manufacturer}\r\n{ident.model}\r\nRevision: {ident.revision}\r\n".encode())
    elif command.name == "CGMR":
        side.line(ident.revision)
    else:
        side.line(ident.imei)
    side.ok()


def _csq(side: "ModuleSide", command: Command) -> None:
    if command.form == "test":
        side.line("+CSQ: (0-31,99),(0-7,99)")
    elif command.form == "execute":
        side.line("+CSQ: %d,%d" % side.identity.csq)
    else:
        side.fail(ErrorKind.INVALID_PARAMETER)
        return
    side.ok()


def _cpin(side: "ModuleSide", command: Command) -> None:
    if command.form != "read":
        side.fail(ErrorKind.NOT_ALLOWED)
        return
    side.line("+CPIN: READY")
    side.ok()


def _registration(side: "ModuleSide", command: Command) -> None:
    if command.form == "read":
        side.line(f"+{command.name}: 0,{1 if side.identity.registered else 0}")
    elif command.form == "test":
        side.line(f"+{command.name}: (0-2)")
    elif command.form != "set" or _values(command)[:1] not in (["0"], ["1"], ["2"]):
        side.fail(ErrorKind.INVALID_PARAMETER)
        return
    side.ok()


def _cgatt(side: "ModuleSide", command: Command) -> None:
    if command.form == "read":
        side.line(f"+CGATT: {1 if side.identity.attached else 0}")
    elif command.form == "test":
        side.line("+CGATT: (0,1)")
    elif command.form == "set" and _values(command)[:1] in (["0"], ["1"]):
        side.identity.attached = _values(command)[0] == "1"
    else:
        side.fail(ErrorKind.INVALID_PARAMETER)
        return
    side.ok()


def _cgdcont(side: "ModuleSide", command: Command) -> None:
    values = _values(command)
    if command.form == "read":
        for cid, (pdp_type, apn) in sorted(side.identity.pdp.items()):
            side.line(f'+CGDCONT: {cid},"{pdp_type}","{apn}"')
    elif command.form == "test":
        side.line('+CGDCONT: (1-15),"IP",,,(0-2),(0-4)')
    elif command.form == "set" and values and values[0].isdigit() and 1 <= int(values[0]) <= 15:
        if len(values) == 1:
            side.identity.pdp.pop(int(values[0]), None)
        else:
            side.identity.pdp[int(values[0])] = (values[1] or "IP", values[2] if len(values) > 2 else "")
    else:
        side.fail(ErrorKind.INVALID_PARAMETER)
        return
    side.ok()


def _cgpaddr(side: "ModuleSide", command: Command) -> None:
    cids = _values(command) or [str(c) for c in sorted(side.identity.pdp)]
    if not all(c.isdigit() for c in cids):
        side.fail(ErrorKind.INVALID_PARAMETER)
        return
    for cid in cids:
        address = side.identity.ip if side.identity.attached and int(cid) in side.identity.pdp else "0.0.0.0"
        side.line(f'+CGPADDR: {cid},"{address}"')
    side.ok()


_HANDLERS: dict[str, Callable[["ModuleSide", Command], None]] = {
    "": _at, "E": _echo, "CMEE": _cmee, "I": _identity, "CGMR": _identity, "CGSN": _identity,
    "CSQ": _csq, "CPIN": _cpin, "CREG": _registration, "CEREG": _registration, "CGATT": _cgatt,
    "CGDCONT": _cgdcont, "CGPADDR": _cgpaddr,
}
