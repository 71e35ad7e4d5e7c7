"""The 3GPP / V.250 basics firmware sends before anything else, answered from the module's
Identity (bridge/roles/identity.py).  What each command takes (ranges, value tables) and its literal
test answer come from dialects/common.yaml; only the behaviour is here:

AT, ATE, AT+CMEE, ATI, AT+CGMI/GMI, AT+CGMM/GMM, AT+CGMR/GMR, AT+CGSN/GSN, AT+CIMI, AT+CSQ, AT+CPIN?,
AT+CFUN, AT+COPS, AT+CREG, AT+CGREG, AT+CEREG, AT+CGATT, AT+CGACT, AT+CGDCONT, AT+CGPADDR, AT+CCLK?.

Registration follows AT+CFUN and AT+COPS; a change is reported as +CREG:/+CGREG:/+CEREG: URCs
to firmware that asked for them (AT+CEREG=<n>, n > 0), in 27.007's formats.
"""
from __future__ import annotations

import time
from typing import Callable, Iterator, Optional, Protocol

from bridge.at.dialect import Dialect, FormSpec, ModelProfile, ParamSpec
from bridge.at.frames import Command, parse_int
from bridge.model import ErrorKind
from bridge.roles.identity import Identity
from bridge.roles.reply import Reply

_MAX_DIGITS = 9  # longest numeric parameter read as a number (no 27.007 basic takes more)
_REGISTRATION = ("CREG", "CGREG", "CEREG")


class Side(Reply, Protocol):
    """What the basics use of a module side: its answers, its identity and two settings of its own."""

    dialect: Dialect
    profile: ModelProfile
    identity: Identity
    echo: bool
    cmee: int


def answer_basic(side: Side, command: Command) -> bool:
    """Answer `command` if it is a basic one; False if it is not."""
    handler = _HANDLERS.get(command.name)
    if handler is None:
        return False
    handler(side, command)
    return True


def set_registration(side: Side, registered: bool) -> None:
    """Register to / leave the network: PS attach follows, and each registration command whose
    report level is above 0 gets its unsolicited line (after the command's own answer)."""
    ident = side.identity
    if ident.registered == registered:
        return
    ident.registered = ident.attached = registered
    for name in _REGISTRATION:
        level = ident.reg_report.get(name, 0)
        if level > 0:
            side.line(f"+{name}: {_registration_fields(ident, level)}")


# ---- parameters, read against common.yaml -------------------------------------------------


def _values(command: Command) -> list[str]:
    return [p.text for p in command.params]


def _form(side: Side, command: Command) -> Optional[FormSpec]:
    spec = side.dialect.command(command.name or "AT")
    return spec.forms.get(command.form) if spec else None


def number(text: str, param: Optional[ParamSpec] = None) -> Optional[int]:
    """`text` as a number within `param`'s range and value table; None if it is not one.  Only
    ASCII digits, at most a few of them: "²" or 5000 digits are refused, not converted."""
    value = parse_int(text.strip(), _MAX_DIGITS)
    if value is None or value < 0:
        return None
    if param is not None:
        if param.range and not param.range[0] <= value <= param.range[1]:
            return None
        if param.values and str(value) not in param.values:
            return None
    return value


def _numbers(side: Side, command: Command) -> Optional[list[Optional[int]]]:
    """The set form's int parameters by position (None where omitted, text kept out); None
    when one is malformed, out of range or a required one is missing."""
    form = _form(side, command)
    if form is None:
        return None
    values = _values(command)
    out: list[Optional[int]] = []
    for index, param in enumerate(form.params):
        given = values[index].strip() if index < len(values) else ""
        if not given:
            if not param.optional:
                return None
            out.append(None)
        elif param.type == "int":
            value = number(given, param)
            if value is None:
                return None
            out.append(value)
        else:
            out.append(None)
    return out


def _test(side: Side, command: Command) -> None:
    """The exact answer common.yaml gives the command's form (`answer:`; empty: just OK)."""
    form = _form(side, command)
    if form is None:
        return _refuse(side, command)
    for text in filter(None, (form.answer or "").split("\n")):
        side.line(text)
    side.ok()


def _refuse(side: Side, command: Command) -> None:
    side.fail(ErrorKind.INVALID_PARAMETER)


# ---- the commands ---------------------------------------------------------------------------


def _at(side: Side, command: Command) -> None:
    side.ok() if command.form == "execute" else side.error()


def _echo(side: Side, command: Command) -> None:
    onoff = side.dialect.means("onoff")
    value = _values(command)[:1] or [onoff.token(False)]  # bare ATE is ATE0
    if command.form not in ("set", "execute") or value[0] not in onoff:
        side.error()
        return
    side.echo = onoff.meaning(value[0]) is True
    side.ok()


def _cmee(side: Side, command: Command) -> None:
    if command.form == "read":
        side.line(f"+CMEE: {side.cmee}")
    elif command.form == "test":
        return _test(side, command)
    elif command.form == "set" and (given := _numbers(side, command)):
        side.cmee = given[0]  # type: ignore[assignment]
    else:
        return _refuse(side, command)
    side.ok()


def _identification(side: Side, command: Command) -> None:
    if command.form == "test":
        return _test(side, command)
    if command.form != "execute":
        return _refuse(side, command)
    ident = side.identity
    if command.name == "I":
        side.write(f"\r\n{ident.manufacturer}\r\n{ident.model}\r\nRevision: {ident.revision}\r\n".encode())
    else:
        _identity_line(side, command.name, _IDENTIFIERS[command.name](ident))
    side.ok()


_IDENTIFIERS: dict[str, Callable[[Identity], str]] = {
    "CGMI": lambda i: i.manufacturer, "GMI": lambda i: i.manufacturer,
    "CGMM": lambda i: i.model, "GMM": lambda i: i.model,
    "CGMR": lambda i: i.revision, "GMR": lambda i: i.revision,
    "CGSN": lambda i: i.serial or i.imei, "GSN": lambda i: i.serial or i.imei, "CIMI": lambda i: i.imsi,
}


def _identity_line(side: Side, name: str, value: str) -> None:
    """A plain line, as 27.007 writes it, unless the model profile lists the command under
    `identity_prefixed` (its module writes "+CGSN: <value>")."""
    prefixed = name in (side.profile.get("identity_prefixed") or ())
    side.line(f"+{name}: {value}" if prefixed else value)


IDENTIFICATION = frozenset(_IDENTIFIERS)
# Through a bridge these (and ATI's manufacturer and model lines) come from the firmware's model
# profile, not from the module: firmware picks its driver or refuses to start by them.
MODEL_IDENTIFICATION = frozenset({"CGMM", "GMM", "CGMI", "GMI"})


def _identity_values(lines: list[bytes], prefix: bytes) -> Iterator[tuple[int, bytes]]:
    """(index, value) of each line of another module's answer that holds a value, plain or after `prefix`."""
    for index, line in enumerate(lines):
        value = line[len(prefix):].strip() if line.startswith(prefix) else line.strip()
        if value and (line.startswith(prefix) or not line.startswith((b"+", b"OK", b"ERROR"))):
            yield index, value


def identity_value(answer: bytes, name: str) -> Optional[bytes]:
    """The value of another module's answer to AT+<name> (plain or "+<name>: " prefixed), or None
    when it gave none (an error)."""
    return next((value for _, value in _identity_values(answer.split(b"\r\n"), f"+{name}:".encode())), None)


def identity_answer(answer: bytes, name: str, prefixed: bool) -> bytes:
    """Another module's answer to AT+<name> (an identification command) in this dialect's form:
    the value as a plain line, or as "+<name>: <value>" when `prefixed`.  Other lines as they are."""
    prefix = f"+{name}:".encode()
    lines = answer.split(b"\r\n")
    for index, value in _identity_values(lines, prefix):
        lines[index] = prefix + b" " + value if prefixed else value
    return b"\r\n".join(lines)


def _serial_number(side: Side, command: Command) -> None:
    """AT+CGSN / AT+GSN: the IMEI; the set form <snt> as "+CGSN: <sn>" ("+GSN: <sn>")."""
    if command.form != "set":
        return _identification(side, command)
    given = _numbers(side, command)
    if not given:
        return _refuse(side, command)
    imei = side.identity.imei
    serial = side.identity.serial or imei  # <snt> 0: the serial number (ML307C: not the IMEI)
    identities = {"serial_number": serial, "imei": imei, "imeisv": imei[:14] + "01", "software_version": "01"}
    side.line(f"+{command.name}: " + identities[str(side.dialect.means("cgsn_snt").meaning(str(given[0] or 0)))])
    side.ok()


def _csq(side: Side, command: Command) -> None:
    if command.form == "test":
        return _test(side, command)
    if command.form != "execute":
        return _refuse(side, command)
    rssi, ber = side.identity.csq if side.identity.fun == 1 else (99, 99)
    side.line(f"+CSQ: {rssi},{ber}")
    side.ok()


def _cpin(side: Side, command: Command) -> None:
    if command.form != "read":
        return side.fail(ErrorKind.NOT_ALLOWED)
    _test(side, command)  # READY: the exact answer common.yaml gives


def _cfun(side: Side, command: Command) -> None:
    if command.form == "read":
        side.line(f"+CFUN: {side.identity.fun}")
    elif command.form == "test":
        return _test(side, command)
    elif command.form == "set" and (given := _numbers(side, command)):
        side.identity.fun = given[0]  # type: ignore[assignment]
        side.ok()
        return set_registration(side, given[0] == 1 and side.identity.cops_mode != 2)
    else:
        return _refuse(side, command)
    side.ok()


def _operator(ident: Identity, fmt: int) -> str:
    return (ident.operator, ident.operator_short, ident.plmn)[fmt]


def _cops(side: Side, command: Command) -> None:
    ident = side.identity
    if command.form == "read":
        tail = f',{ident.cops_format},"{_operator(ident, ident.cops_format)}",{ident.act}' if ident.registered else ""
        side.line(f"+COPS: {ident.cops_mode}{tail}")
    elif command.form == "test":
        modes, formats = (f"({p.range[0]}-{p.range[1]})" for p in side.dialect.commands["COPS"].forms["set"].params[:2] if p.range)
        side.line(f'+COPS: (2,"{ident.operator}","{ident.operator_short}","{ident.plmn}",{ident.act}),,{modes},{formats}')
    elif command.form == "set":
        return _cops_set(side, command)
    else:
        return _refuse(side, command)
    side.ok()


def _cops_set(side: Side, command: Command) -> None:
    ident = side.identity
    given = _numbers(side, command)
    values = _values(command)
    oper = values[2] if len(values) > 2 else ""
    if not given or (given[0] == 3 and given[1] is None) or (given[0] in (1, 4) and not oper):
        return _refuse(side, command)
    mode, fmt = given[0], given[1]
    if fmt is not None:
        ident.cops_format = fmt
    if mode in (1, 4) and oper != _operator(ident, ident.cops_format) and mode == 1:
        return side.fail(ErrorKind.NOT_ALLOWED)  # 27.007: the network is not there (+CME ERROR: 30/32)
    if mode != 3:
        ident.cops_mode = mode
    side.ok()
    if mode != 3:
        set_registration(side, mode != 2 and ident.fun == 1)


def _registration_fields(ident: Identity, level: int) -> str:
    """<stat>[,<lac/tac>,<ci>,<AcT>]: the location when the report level asks for it (n >= 2)
    and the module is registered."""
    stat = 1 if ident.registered else 0
    if level >= 2 and ident.registered:
        return f'{stat},"{ident.tac}","{ident.cell_id}",{ident.act}'
    return str(stat)


def _registration(side: Side, command: Command) -> None:
    reports = side.identity.reg_report
    if command.form == "read":
        level = reports.get(command.name, 0)
        side.line(f"+{command.name}: {level},{_registration_fields(side.identity, level)}")
    elif command.form == "test":
        return _test(side, command)
    elif command.form == "set" and (given := _numbers(side, command)):
        reports[command.name] = given[0]  # type: ignore[assignment]
    else:
        return _refuse(side, command)
    side.ok()


def _cgatt(side: Side, command: Command) -> None:
    states = side.dialect.means("cgatt_state")
    if command.form == "read":
        side.line(f"+CGATT: {states.token(side.identity.attached)}")
    elif command.form == "test":
        return _test(side, command)
    elif command.form == "set" and (given := _numbers(side, command)):
        attach = states.meaning(str(given[0])) is True
        if attach and not side.identity.registered:
            return side.fail(ErrorKind.NOT_ALLOWED)  # no network to attach to (after AT+CFUN=0/4, AT+COPS=2)
        side.identity.attached = attach
    else:
        return _refuse(side, command)
    side.ok()


def _cgact(side: Side, command: Command) -> None:
    ident, states = side.identity, side.dialect.means("cgact_state")
    if command.form == "read":
        for cid in sorted(ident.pdp):
            side.line(f"+CGACT: {cid},{states.token(ident.attached and cid in ident.pdp_active)}")
    elif command.form == "test":
        return _test(side, command)
    elif command.form == "set" and (given := _numbers(side, command)):
        cids = [given[1]] if given[1] is not None else sorted(ident.pdp)
        activate = states.meaning(str(given[0])) is True
        if any(cid not in ident.pdp for cid in cids) or (activate and not ident.attached):
            return side.fail(ErrorKind.NOT_ALLOWED)  # an undefined context; no packet domain to activate in
        (ident.pdp_active.update if activate else ident.pdp_active.difference_update)(cids)
    else:
        return _refuse(side, command)
    side.ok()


def _cgdcont(side: Side, command: Command) -> None:
    values = _values(command)
    if command.form == "read":
        for cid, (pdp_type, apn) in sorted(side.identity.pdp.items()):
            side.line(f'+CGDCONT: {cid},"{pdp_type}","{apn}"')
    elif command.form == "test":
        return _test(side, command)
    elif command.form == "set" and (given := _numbers(side, command)):
        cid = given[0]
        if len(values) == 1:
            side.identity.pdp.pop(cid, None)  # type: ignore[arg-type]
        else:
            pdp_type = values[1] or _form(side, command).params[1].default  # type: ignore[union-attr]
            side.identity.pdp[cid] = (pdp_type, values[2] if len(values) > 2 else "")  # type: ignore[index]
    else:
        return _refuse(side, command)
    side.ok()


def _cgpaddr(side: Side, command: Command) -> None:
    ident = side.identity
    if command.form == "test":
        side.line("+CGPADDR: (%s)" % ",".join(str(c) for c in sorted(ident.pdp)))
        return side.ok()
    cids = [number(c) for c in _values(command)] or list(sorted(ident.pdp))
    if command.form not in ("set", "execute") or None in cids:
        return _refuse(side, command)
    for cid in cids:
        address = ident.ip if ident.attached and cid in ident.pdp else "0.0.0.0"
        side.line(f'+CGPADDR: {cid},"{address}"')
    side.ok()


def _cclk(side: Side, command: Command) -> None:
    """AT+CCLK? (27.007 8.15): the network's local time, "yy/MM/dd,hh:mm:ss+zz" (zz in quarter hours)."""
    if command.form == "test":
        return side.ok()
    if command.form != "read":
        return _refuse(side, command)
    ident = side.identity
    local = time.gmtime(ident.clock() + ident.time_zone * 900)
    zone = f"{'-' if ident.time_zone < 0 else '+'}{abs(ident.time_zone):02d}"
    side.line(f'+CCLK: "{time.strftime("%y/%m/%d,%H:%M:%S", local)}{zone}"')
    side.ok()


_HANDLERS: dict[str, Callable[[Side, Command], None]] = {
    "": _at, "E": _echo, "CMEE": _cmee, "I": _identification, "CSQ": _csq, "CPIN": _cpin,
    **{name: _identification for name in _IDENTIFIERS}, "CGSN": _serial_number, "GSN": _serial_number,
    "CFUN": _cfun, "COPS": _cops, **{name: _registration for name in _REGISTRATION},
    "CGATT": _cgatt, "CGACT": _cgact, "CGDCONT": _cgdcont, "CGPADDR": _cgpaddr, "CCLK": _cclk,
}
