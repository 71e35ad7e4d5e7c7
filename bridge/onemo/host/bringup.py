"""Bring-up operations (model.ModuleOp) carried out on a OneMO module behind the bridge, with the
command templates of dialects/onemo.yaml (MIPCALL "bring_up"): the link state from AT+MIPCALL?,
the link up with AT+MIPCALL=1,<cid> (OK, then +MIPCALL: <cid>,1,"<ip>"), down with
AT+MIPCALL=0,<cid>, the ICCID from AT+MCCID, APN and authentication with AT+CGDCONT / AT+CGAUTH.
"""
from __future__ import annotations

from typing import Callable, Optional

from bridge.at.dialect import Dialect
from bridge.at.encode import quotable
from bridge.at.frames import Final, Frame, Info, parse_int
from bridge.roles.host_commands import Answer, Exchange
from bridge.model import ErrorKind, ModuleAnswer, ModuleCall, ModuleOp

MIPCALL = "+MIPCALL"
MCCID = "+MCCID"
DEFAULT_CID = "1"  # the context firmware of the other dialect means (Neoway has one data link)


def _named(name: str) -> Callable[[Frame], bool]:
    return lambda frame: isinstance(frame, Info) and frame.name == name


class HostBringUp:
    """Runs on the host side's command queue: `queue` takes an exchange, `span` says how long a
    command line may take, `sync_kind` reads a final result, `answer` delivers the outcome."""

    def __init__(self, dialect: Dialect, queue: Callable[[Exchange], None], span: Callable[[bytes], float],
                 sync_kind: Callable[[Final], ErrorKind], answer: Callable[[int, ModuleAnswer], None]) -> None:
        self._queue, self._span, self._sync_kind, self._answer = queue, span, sync_kind, answer
        spec = dialect.command("MIPCALL")
        self.templates: dict[str, str] = dict(spec.raw.get("bring_up") or {}) if spec is not None else {}
        self._link_state = dialect.means("link_state")  # +MIPCALL <state>

    def run(self, token: int, call: ModuleCall) -> None:
        template = self.templates.get(call.op.value)
        if template is None:
            self._answer(token, ModuleAnswer(False, error=ErrorKind.UNSUPPORTED))
            return
        try:
            line = self._line(template, call)
        except (ValueError, IndexError):
            self._answer(token, ModuleAnswer(False, error=ErrorKind.INVALID_PARAMETER))
            return
        if call.op is ModuleOp.LINK_STATE:
            self._ask(line, lambda answer: self._answer(token, self._state(answer)), wants=_named(MIPCALL))
        elif call.op is ModuleOp.LINK_UP:
            self._link_up(token, line, self._cid(call))
        elif call.op is ModuleOp.ICCID:
            self._ask(line, lambda answer: self._answer(token, self._iccid(answer)), wants=_named(MCCID))
        else:  # LINK_DOWN, SET_APN, SET_AUTH: OK is all
            self._ask(line, lambda answer: self._answer(token, self._plain(answer)))

    # -- commands --------------------------------------------------------------------------------

    def _line(self, template: str, call: ModuleCall) -> bytes:
        args = call.args
        fields = {"cid": self._cid(call)}
        if call.op is ModuleOp.SET_APN:
            fields["apn"] = quotable(args[0])
        elif call.op is ModuleOp.SET_AUTH:
            fields.update(auth=str(int(args[0])), user=quotable(args[1] if len(args) > 1 else ""),
                          password=quotable(args[2] if len(args) > 2 else ""))
        return template.format(**fields).encode("latin-1")

    @staticmethod
    def _cid(call: ModuleCall) -> str:
        cid = parse_int(call.args[0].strip(), 2) if call.op in (ModuleOp.LINK_UP, ModuleOp.LINK_DOWN) and call.args else None
        return str(cid) if cid is not None and cid >= 0 else DEFAULT_CID

    def _ask(self, line: bytes, done: Callable[[Answer], None], wants: Callable[[Frame], bool] = lambda f: False,
             ends: Optional[Callable[[Info], bool]] = None) -> None:
        exchange = Exchange(line, done, span=self._span(line), owner=self, wants=wants)
        if ends is not None:
            exchange.ends, exchange.after_ok = ends, True
        self._queue(exchange)

    def _link_up(self, token: int, line: bytes, cid: str) -> None:
        """Up already (4.17: then the module answers OK only, no +MIPCALL): its address; else
        AT+MIPCALL=1,<cid> and the +MIPCALL: line after OK."""

        def checked(answer: Answer) -> None:
            state = self._state(answer, cid)
            if state.ok and state.values[0] == "1":
                self._answer(token, ModuleAnswer(True, state.values[1:]))
            else:
                self._ask(line, lambda up: self._answer(token, self._up(up, cid)), wants=_named(MIPCALL),
                          ends=lambda info: info.name == MIPCALL)

        self._ask(self.templates["link_state"].encode("latin-1"), checked, wants=_named(MIPCALL))

    # -- answers ---------------------------------------------------------------------------------

    def _failed(self, answer: Answer) -> ModuleAnswer:
        if answer.final is None:
            return ModuleAnswer(False, error=ErrorKind.RESPONSE_TIMEOUT)
        return ModuleAnswer(False, error=self._sync_kind(answer.final))

    def _plain(self, answer: Answer) -> ModuleAnswer:
        return ModuleAnswer(True) if answer.ok else self._failed(answer)

    def _state(self, answer: Answer, cid: str = DEFAULT_CID) -> ModuleAnswer:
        """(state, ip) of context `cid` from AT+MIPCALL? ("0" when it is not listed)."""
        if not answer.ok:
            return self._failed(answer)
        lines = [f for f in answer.frames if isinstance(f, Info) and f.name == MIPCALL]
        mine = next((f for f in lines if (f.get("cid") or "").strip() == cid), None)
        if mine is None:
            return ModuleAnswer(True, ("0", ""))
        state = (mine.get("state") or "0").strip()
        return ModuleAnswer(True, (state, (mine.get("ip") or "").strip().strip('"')))

    def _up(self, answer: Answer, cid: str) -> ModuleAnswer:
        if answer.final is not None and not answer.ok:
            return self._failed(answer)
        line = answer.line
        if line is None or self._link_state.meaning((line.get("state") or "").strip()) is not True:
            return ModuleAnswer(False, error=ErrorKind.NO_DATA_LINK)
        return ModuleAnswer(True, ((line.get("ip") or "").strip().strip('"'),))

    def _iccid(self, answer: Answer) -> ModuleAnswer:
        info = answer.info(MCCID)
        iccid = (info.get("iccid") or "").strip().strip('"') if info is not None else ""
        if not answer.ok or not iccid:
            return self._failed(answer) if not answer.ok else ModuleAnswer(False, error=ErrorKind.UNKNOWN)
        return ModuleAnswer(True, (iccid,))
