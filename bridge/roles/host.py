"""What both host sides (bridge.onemo.host.side, bridge.neoway.host.side) do alike around their
command queue (bridge/roles/host_commands.py): take the clock in, frame the module's bytes, hand out the
bytes for the module and the events, run each request's script, pass through commands that are not
the dialect's own, and forward their answers and unsolicited lines as raw bytes.

A bridge's fast path (:meth:`HostPlumbing.passthrough_raw`) writes a pass-through line at once
when nothing else is outstanding, and cuts its answer out of the module's bytes whole when it is
plain (ResponseFramer.plain_answer_end): no Exchange, no frames, no re-encoding for it.  Anything
not plain makes it the Exchange :meth:`HostPlumbing.passthrough` would have made.
"""
from __future__ import annotations

import itertools
import logging
import re
from collections import deque
from typing import Any, ContextManager, Generator, Generic, Optional, Protocol, TypeVar

from bridge.at.dialect import Dialect
from bridge.at.frames import Echo, Final, Frame, FramingError, Info, Line, Prompt
from bridge.at import NEED_DATA, ResponseFramer
from bridge.at.encode import final_bytes, frame_bytes
from bridge.roles.host_commands import Answer, Commands, Exchange, Timer
from bridge.model import ErrorKind, Event, ExecutorCapabilities, Failure, ModuleAnswer, ModuleCall, Request

log = logging.getLogger(__name__)
_PREFIX = re.compile(rb"^\s*AT([+$^#%*][A-Za-z0-9_]+)", re.I)
_SPANS_KEPT = 256  # command names whose answer time is remembered for the fast path


class _Clock:
    """HostPlumbing._clock: `now` inside, the clock from before (None, or an outer one) after."""

    __slots__ = ("side", "now", "before")

    def __init__(self, side: "HostPlumbing", now: float) -> None:
        self.side, self.now, self.before = side, now, None

    def __enter__(self) -> None:
        side = self.side
        self.before, side._now = side._now, self.now
        side._arm(self.now)

    def __exit__(self, *exc: object) -> None:
        self.side._now = self.before


class HostSide(Protocol):
    """What the bridge engine and the library client need of a dialect's host side (bridge.onemo.host.side, bridge.neoway.host.side)."""

    ready: Optional[bool]

    @property
    def capabilities(self) -> ExecutorCapabilities:
        """What the module can do as a bridge's executor (the module side adapts to it)."""
        ...

    @property
    def idle(self) -> bool: ...

    def receive_data(self, data: bytes, now: float) -> None: ...

    def receive_body(self, token: Optional[int], data: bytes, now: float) -> Optional[bytes]:
        """:meth:`receive_data` for a bridge's body pump: the body bytes of request `token` when
        nothing else came of them (no event is made of them), else None."""
        ...

    def data_to_send(self) -> bytes: ...

    def next_deadline(self) -> Optional[float]: ...

    def on_time(self, now: float) -> None: ...

    def submit(self, request: Request) -> int: ...

    def cancel(self, token: int) -> None: ...

    def take_events(self) -> list[tuple[int, Event]]: ...

    def passthrough(self, command_line: bytes, data: Optional[bytes] = None) -> int: ...

    def passthrough_raw(self, command_line: bytes, now: float) -> Optional[int]: ...

    def raw_answer(self, data: bytes, now: float) -> Optional[int]: ...

    def take_passthrough(self) -> list[tuple[int, bytes]]: ...

    def take_unsolicited(self) -> list[bytes]: ...

    def clock(self, now: float) -> ContextManager[None]: ...

    def module_call(self, call: ModuleCall) -> int: ...

    def take_module_answers(self) -> list[tuple[int, ModuleAnswer]]: ...


class Fail(Exception):
    """Raised while a request runs (by its script or what the script calls): the request ends with
    Failure(kind, detail).  `terminate`: the module may still be working on the request."""

    def __init__(self, kind: ErrorKind, detail: str = "", terminate: bool = True) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.terminate = terminate


class _Request(Protocol):
    token: int
    script: Optional[Generator[Any, Optional[Answer], None]]


JobT = TypeVar("JobT", bound=_Request)


class HostPlumbing(Generic[JobT]):
    """The base of a host side, whose requests (JobT) wait their turn in `_pending`: a subclass
    says how long a command may take (:meth:`_span`), arms its own timers (:meth:`_arm`) and takes
    the frames that are not the command queue's (:meth:`_dispatch`)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.framer = ResponseFramer(dialect, prompts=False)
        self._commands = Commands(self.framer, adopt=self._raw_late)
        self._raw_spans: dict[str, float] = {}  # "+NAME" -> how long its answer may take
        self._tokens = itertools.count(1)
        self._pending: deque[JobT] = deque()
        self._events: list[tuple[int, Event]] = []
        self._answers: list[tuple[int, bytes]] = []
        self._unsolicited: list[bytes] = []
        self._module_answers: list[tuple[int, ModuleAnswer]] = []
        self._now: Optional[float] = None
        self._stuck = Timer()  # the framer inside a payload that no request's timer watches
        self._left_unframed = 0  # framer.buffered when the last framing stopped

    def receive_body(self, token: Optional[int], data: bytes, now: float) -> Optional[bytes]:
        """A side without a body pump of its own: the bytes go as receive_data takes them."""
        self.receive_data(data, now)  # type: ignore[attr-defined]
        return None

    def _span(self, line: bytes) -> float:
        """How long the module may take to answer the command `line`."""
        raise NotImplementedError

    def _arm(self, now: float) -> None:
        """Give the timers started without a clock their deadlines."""
        raise NotImplementedError

    def _dispatch(self, frame: Frame) -> None:
        raise NotImplementedError

    @property
    def idle(self) -> bool:
        """No command queued or outstanding and no request waiting (a subclass adds its own state)."""
        return self._commands.idle and not self._pending

    def _on_bad_frame(self, frame: FramingError) -> None:
        """A frame the framer could not make sense of: the request it belongs to, if any, fails."""
        raise NotImplementedError

    def _carry_out(self, job: JobT, op: Any) -> None:
        """Do what the request's script yielded: send a command, or wait for the module's reports."""
        raise NotImplementedError

    def _fail(self, job: JobT, kind: ErrorKind, detail: str = "", terminate: bool = True) -> None:
        """End the request with Failure(kind, detail); `terminate`: the module may still be working on it."""
        raise NotImplementedError

    def _abandon(self) -> None:
        """Give up the payload being read, if any (ResponseFramer.abandon_payload); framing goes on
        at the next line that starts a frame, and the frames complete now are dispatched."""
        self._stuck.stop()
        error = self.framer.abandon_payload()
        if error is not None:
            self._on_bad_frame(error)
            self._frame(b"")

    # ---- a request's script ----------------------------------------------------------------------

    def _step(self, job: JobT, answer: Optional[Answer]) -> None:
        """Resume the request's script with `answer` (None: at its start, or after a wait) and carry
        out what it yields next; what it raises ends the request."""
        assert job.script is not None
        try:
            op = job.script.send(answer)
        except StopIteration:
            return
        except Fail as fail:
            self._fail(job, fail.kind, fail.detail, fail.terminate)
            return
        except (ValueError, TypeError, LookupError) as exc:  # a request the module cannot be asked for
            self._fail(job, ErrorKind.INVALID_PARAMETER, repr(exc))
            return
        self._carry_out(job, op)

    @staticmethod
    def _close_script(job: JobT) -> None:
        """Stop the request's script where it waits."""
        if job.script is not None:
            try:
                job.script.close()
            except ValueError:  # closing from inside the running script: it ends by itself
                pass

    # ---- the I/O loop's interface ------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Bytes to write to the module now."""
        pending = self._commands.out
        if not pending:
            return b""
        out = bytes(pending)
        pending.clear()
        return out

    def take_events(self) -> list[tuple[int, Event]]:
        """(token, event) pairs in the order they happened."""
        events, self._events = self._events, []
        return events

    def _cancel_pending(self, token: int) -> None:
        """End the request `token` with Failure(CANCELLED) if it still waits its turn."""
        for job in list(self._pending):
            if job.token == token:
                self._pending.remove(job)
                self._events.append((token, Failure(ErrorKind.CANCELLED, "cancelled")))

    def _clock(self, now: float) -> ContextManager[None]:
        """`now` is the time for what happens inside (timers started there get deadlines)."""
        return _Clock(self, now)

    def clock(self, now: float) -> ContextManager[None]:
        """Calls made inside (submit, passthrough, cancel, module_call) start their timers at `now`,
        not unarmed until the next call that brings a clock (a bridge's engine knows the time)."""
        return _Clock(self, now)

    def _frame(self, data: bytes) -> None:
        """Frame the module's bytes and dispatch each whole frame; a raw line's answer is cut out
        first (and its bytes wait unframed while it may still come plain)."""
        if self.framer.buffered != self._left_unframed:  # bytes dropped by a payload abandoned
            self._commands.forget_fence()
        if data:
            self._commands.heard(self._now)
        self.framer.receive_data(data)
        if self._commands.raw_token is not None and not self._raw_answer():
            self._left_unframed = self.framer.buffered
            return
        framer = self.framer
        while True:
            if framer.at_rest:  # nothing buffered or pending: next_frame would say NEED_DATA
                self._left_unframed = 0
                return
            buffered = framer.buffered
            frame = framer.next_frame()
            if frame is NEED_DATA:
                self._left_unframed = self.framer.buffered
                return
            if self._commands.predates(frame, buffered - self.framer.buffered):  # type: ignore[arg-type]
                log.info("dropped %r: its line began before the command it would answer was written", frame)
                continue
            self._dispatch(frame)  # type: ignore[arg-type]

    def _to_commands(self, frame: Frame) -> bool:
        """Whether `frame` was the command queue's (an echo, a prompt, a final result)."""
        if isinstance(frame, Prompt):
            self._commands.on_prompt(self._now)
        elif isinstance(frame, Final):
            self._commands.on_final(frame, self._now)
        return isinstance(frame, (Echo, Prompt, Final))

    # ---- pass-through -----------------------------------------------------------------------

    def passthrough(self, command_line: bytes, data: Optional[bytes] = None) -> int:
        """Queue a command that is not the dialect's own (b"AT+CSQ"); with `data`, the command
        prompts and `data` is written after the prompt.  The module's whole answer comes back
        through :meth:`take_passthrough` -- without a final result line if none came in time."""
        token = next(self._tokens)
        prefix = _PREFIX.match(command_line)
        name = prefix.group(1).decode().upper() if prefix else None
        line = command_line.rstrip(b"\r\n")
        exchange = Exchange(line, lambda answer: self._passed(token, answer), span=self._span(line), data=data,
                            wants=lambda frame: self._owned(frame, name))
        self._commands.add(exchange, self._now)
        return token

    def passthrough_raw(self, command_line: bytes, now: float) -> Optional[int]:
        """The bridge's fast path for a pass-through line (b"AT+CSQ", no terminator): written now,
        if the host side is idle and the module's bytes are between two frames; its answer comes
        through :meth:`take_passthrough` as the module wrote it.  None: not now (:meth:`passthrough`)."""
        if not self.idle or not self.framer.at_rest:
            return None
        prefix = _PREFIX.match(command_line)
        if prefix is None:
            return None
        name = prefix.group(1).decode().upper()
        span = self._raw_spans.get(name)
        if span is None:
            span = self._span(command_line)
            if len(self._raw_spans) < _SPANS_KEPT:
                self._raw_spans[name] = span
        token = next(self._tokens)
        self._commands.send_raw(token, command_line, name, span, now)
        return token

    def raw_answer(self, data: bytes, now: float) -> Optional[int]:
        """The fast path's other half: `data` alone is the whole plain answer to the raw line in
        flight, with the module's bytes between two frames and nothing queued behind the line --
        taken as it came (its token; the bridge writes `data` on unchanged), nothing framed.  None:
        nothing was done, the bytes go to :meth:`receive_data` as ever."""
        commands = self._commands
        if not commands.only_raw or not self.framer.whole_answer(data, commands.raw_name):
            return None
        token = commands.raw_token
        commands.heard(now)
        commands.raw_answered(now)  # nothing queued: no command goes out, no timer starts
        return token

    def _raw_answer(self) -> bool:
        """Whether there are bytes to frame as usual: the raw line's answer is cut out of the
        framer's buffer if it has come whole and plain (then: whether more followed it); while it
        may still come so, False.  Not plain: it becomes an ordinary exchange (True)."""
        commands = self._commands
        end = self.framer.plain_answer_end(commands.raw_name)
        if end == 0:
            return False
        if end < 0:
            self._adopt_raw()
            return True
        self._answers.append((commands.raw_token, self.framer.take_answer(end)))  # type: ignore[arg-type]
        commands.raw_answered(self._now)
        return self.framer.buffered > 0  # whatever followed the answer is framed as usual

    def _adopt_raw(self) -> None:
        commands = self._commands
        token, line, name = commands.raw_token, commands.raw_line, commands.raw_name
        commands.adopt_raw(Exchange(line, lambda answer: self._passed(token, answer), span=self._span(line),  # type: ignore[arg-type]
                                    wants=lambda frame: self._owned(frame, name)))

    def _raw_late(self) -> None:
        """The raw line's time is up: what came of its answer is framed, and it times out as the
        exchange passthrough() would have made."""
        self._adopt_raw()
        self._frame(b"")

    def take_passthrough(self) -> list[tuple[int, bytes]]:
        answers, self._answers = self._answers, []
        return answers

    # ---- bring-up operations (model.ModuleOp) --------------------------------------------------

    def module_call(self, call: ModuleCall) -> int:
        """Carry out a bring-up operation with this dialect's own commands; its answer comes back
        through :meth:`take_module_answers`.  A dialect that has no way to do `call.op` answers
        UNSUPPORTED (subclasses override :meth:`_module_call`)."""
        token = next(self._tokens)
        self._module_call(token, call)
        return token

    def _module_call(self, token: int, call: ModuleCall) -> None:
        self._module_answer(token, ModuleAnswer(False, error=ErrorKind.UNSUPPORTED))

    def _module_answer(self, token: int, answer: ModuleAnswer) -> None:
        self._module_answers.append((token, answer))

    def take_module_answers(self) -> list[tuple[int, ModuleAnswer]]:
        answers, self._module_answers = self._module_answers, []
        return answers

    def take_unsolicited(self) -> list[bytes]:
        """URCs that are not HTTP (RING, +CEREG, +CMT with its PDU line, ...), as raw bytes."""
        lines, self._unsolicited = self._unsolicited, []
        return lines

    def _owned(self, frame: Frame, name: Optional[str] = None) -> bool:
        """Whether an information line answers the current command (named `name`)."""
        if isinstance(frame, Line):
            return frame.raw.strip().decode("latin-1") not in self.dialect.lines
        if isinstance(frame, Info):
            return not frame.unsolicited or (name is not None and frame.name.upper() == name)
        return False

    def _passed(self, token: int, answer: Answer) -> None:
        raw = b"".join(frame_bytes(f, self.dialect) for f in answer.frames)
        if answer.line is not None:
            raw += frame_bytes(answer.line, self.dialect)
        self._answers.append((token, raw + (final_bytes(answer.final) if answer.final else b"")))
