"""Bring-up operations of the model (bridge.model.ModuleOp) carried out on a Neoway module, for a
bridge whose firmware speaks another dialect (OneMO AT+MIPCALL, AT+MCCID, ...).

The commands are the `module_ops` templates of dialects/neoway.yaml (AT+XIIC, AT+CCID, AT+NETAPN,
AT+XGAUTH).  An operation runs as a script: it yields a command line (bytes) and is resumed with
the Answer, or yields a delay in seconds and is resumed after it; it returns the ModuleAnswer.
LINK_UP sends AT+XIIC=1, then polls AT+XIIC? every `every` seconds until the link is up, at
most for AT+XIIC's timeout (a count of polls, so no clock is read here).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Generator, Optional, Union

from bridge.at.dialect import Dialect
from bridge.at.encode import quotable
from bridge.roles.host_commands import Answer
from bridge.model import ErrorKind, ModuleAnswer, ModuleCall, ModuleOp

Step = Union[bytes, float]
Script = Generator[Step, Optional[Answer], ModuleAnswer]


@dataclass(frozen=True)
class Template:
    send: str
    poll: Optional[str] = None
    every: float = 1.0
    answer: Optional[str] = None  # the information line that carries the value
    timeout: Optional[float] = None  # the command's (YAML); link_up polls for at most this long
    up: Optional[str] = None  # link_up: the +XIIC <state> of a link that is up (enum link_state)


def templates(dialect: Dialect, unavailable: frozenset[str] = frozenset()) -> dict[ModuleOp, Template]:
    """The `module_ops` of every command the module has, by operation."""
    found: dict[ModuleOp, Template] = {}
    for name, spec in dialect.commands.items():
        ops: dict[str, Any] = spec.raw.get("module_ops") or {}
        if name in unavailable:
            continue
        for op, node in ops.items():
            template = Template(send=str(node["send"]), poll=node.get("poll"), every=float(node.get("every", 1.0)),
                                answer=node.get("answer"))
            if ModuleOp(op) is ModuleOp.LINK_UP:
                template = replace(template, timeout=spec.required_timeout(), up=dialect.means("link_state").token(True))
            found[ModuleOp(op)] = template
    return found


def script(call: ModuleCall, ops: dict[ModuleOp, Template]) -> Script:
    """The commands that carry out `call`; UNSUPPORTED when the module has none for it."""
    template = ops.get(call.op)
    if template is None:
        return ModuleAnswer(False, error=ErrorKind.UNSUPPORTED)
    if call.op is ModuleOp.LINK_STATE:
        return (yield from _state(template.send))
    if call.op is ModuleOp.LINK_UP:
        return (yield from _link_up(template))
    if call.op is ModuleOp.ICCID:
        answer = yield template.send.encode()
        info = answer.info(template.answer) if answer is not None and template.answer else None
        value = (info.get("iccid") or "").strip() if info is not None else ""
        return ModuleAnswer(True, (value,)) if answer is not None and answer.ok and value else _failed(answer)
    try:
        line = _filled(template.send, call)
    except ValueError:
        return ModuleAnswer(False, error=ErrorKind.INVALID_PARAMETER)
    answer = yield line
    return ModuleAnswer(True) if answer is not None and answer.ok else _failed(answer)


def _state(query: str) -> Script:
    answer = yield query.encode()
    info = answer.info("+XIIC") if answer is not None else None
    if info is None or not answer.ok:
        return _failed(answer)
    return ModuleAnswer(True, ((info.get("state") or "").strip(), (info.get("ip") or "").strip()))


def _link_up(template: Template) -> Script:
    answer = yield template.send.encode()
    if answer is None or not answer.ok:
        return _failed(answer, ErrorKind.NO_DATA_LINK)
    assert template.timeout is not None and template.up is not None
    polls = max(1, math.ceil(template.timeout / template.every))
    for attempt in range(polls):
        state = yield from _state(template.poll or template.send)
        if state.ok and state.values[0] == template.up:
            return ModuleAnswer(True, (state.values[1],))
        if attempt + 1 < polls:
            yield template.every
    return ModuleAnswer(False, error=ErrorKind.NO_DATA_LINK)


def _filled(template: str, call: ModuleCall) -> bytes:
    """The template with the call's arguments; a '"' in one would end its quoted string early."""
    for arg in call.args:
        quotable(arg)  # Unwritable is a ValueError
    names = {ModuleOp.SET_APN: ("apn",), ModuleOp.SET_AUTH: ("auth", "user", "password")}.get(call.op, ())
    values = dict(zip(names, call.args))
    if call.op is ModuleOp.SET_AUTH:
        values = {"auth": "0", "user": "", "password": "", **values}
    return template.format(**values).encode()


def _failed(answer: Optional[Answer], kind: ErrorKind = ErrorKind.UNKNOWN) -> ModuleAnswer:
    if answer is None or answer.timed_out:
        return ModuleAnswer(False, error=ErrorKind.RESPONSE_TIMEOUT)
    return ModuleAnswer(False, error=kind)
