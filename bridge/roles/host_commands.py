"""One command at a time, for both host sides (bridge.onemo.host.side, bridge.neoway.host.side):
write a command line, feed its data after the prompt, collect its answer.

An answer ends with a final result (OK, ERROR, +CME ERROR), with a line the command prints in its
place (AT+HTTPACTION's "+HTTPACTION: SOCKET ID OPEN FAILED"; the exchange's `ends`), or with the
exchange's timer.  An exchange `after_ok` (AT+CDNSGIP, whose result follows its OK) is not ended
by OK: it waits on for its `ends` line, and its answer holds both.  After a timeout or an answer
that was such a line, the queue holds for SETTLE seconds (longer while stray finals still come)
and drops what arrives, so that a late OK is not taken for the next command's.  A "patient"
exchange (AT+HTTPCLOSE while a response may still stream: the module answers it only afterwards)
restarts its timer whenever the module is busy.

A module writes a line at once, and every answer begins with CR LF.  So a line the module had
begun, and left unended for SETTLE seconds, before the command was written (a fragment of earlier
output from a module that reset or misbehaved, which the CR of the answer's own CR LF ends) is
not part of that command's answer: if it frames as a final result or an unknown line,
:meth:`Commands.predates` tells the owner to drop it (a URC in it is still a URC).

One timer serves the exchange being answered (there is no timer per command), and it runs only
while an exchange is.  A pass-through line written raw (:meth:`Commands.send_raw`, the bridge's
fast path) has no Exchange and no timer at all: only its token, name and deadline are kept, until
its answer has come whole (HostPlumbing cuts it out of the module's bytes) or it is
:meth:`Commands.adopt_raw`-ed as an ordinary exchange -- the moment anything about it is not
plain, or its time is up.  Its deadline matters only once something waits behind it (a firmware
waits for its answer as long as it likes): until then :meth:`Commands.wake` does not report it.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

from bridge.at.frames import Final, Frame, Info, Line
from bridge.at import ResponseFramer

SETTLE = 1.0  # seconds late answers are dropped after a timeout (or an answer by line)
ESC = b"\x1b"


class Timer:
    """A timeout; started without a clock it is armed by the next call that brings one."""

    def __init__(self) -> None:
        self.span: Optional[float] = None
        self.deadline: Optional[float] = None

    def start(self, span: float, now: Optional[float]) -> None:
        self.span = span
        self.deadline = None if now is None else now + span

    def start_at(self, deadline: float, span: float) -> None:
        """Running until `deadline` (a restart gives it `span` again)."""
        self.span, self.deadline = span, deadline

    def stop(self) -> None:
        self.span = self.deadline = None

    def arm(self, now: float) -> None:
        if self.span is not None and self.deadline is None:
            self.deadline = now + self.span

    def due(self, now: float) -> bool:
        return self.deadline is not None and now >= self.deadline

    def wake(self) -> Optional[float]:
        """When on_time must be called: the deadline, or at once while unarmed."""
        if self.span is None:
            return None
        return self.deadline if self.deadline is not None else 0.0


@dataclass
class Answer:
    """A command's answer: its final result (None: none), the line that ended it in place of one
    or, `after_ok`, after it (None: none), and the information lines it owns."""

    final: Optional[Final]
    line: Optional[Info] = None
    frames: list[Frame] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.final is not None and self.final.result == "OK"

    @property
    def timed_out(self) -> bool:
        return self.final is None and self.line is None

    def info(self, name: str) -> Optional[Info]:
        return next((f for f in self.frames if isinstance(f, Info) and f.name == name), None)


def never(frame: Frame) -> bool:
    return False


@dataclass(eq=False)
class Exchange:
    line: bytes
    done: Callable[[Answer], None]
    span: float
    data: Optional[Union[bytes, memoryview]] = None  # written after the prompt
    owner: object = None
    wants: Callable[[Frame], bool] = never  # information lines that are this command's
    ends: Callable[[Info], bool] = never  # lines that answer the command in place of a final
    patient: bool = False
    after_ok: bool = False  # OK does not end it: an `ends` line after the OK does
    ok: Optional[Final] = None  # the OK of an `after_ok` exchange, while its line is awaited
    frames: list[Frame] = field(default_factory=list)
    prompted: bool = False


class Commands:
    def __init__(self, framer: ResponseFramer, adopt: Optional[Callable[[], None]] = None) -> None:
        """`adopt`: called when a raw line's time is up; it must :meth:`adopt_raw` it."""
        self.framer = framer
        self._adopt = adopt
        self.queue: deque[Exchange] = deque()
        self.current: Optional[Exchange] = None
        self.timer = Timer()  # the current exchange's answer time
        self.out = bytearray()
        self.hold = Timer()
        self._heard: Optional[float] = None  # when the module's last bytes arrived
        # Bytes buffered ahead of a stale line the module had begun when the current command
        # was written (None: no such line): the frame that takes more than these is that line's.
        self._before_open_line: Optional[int] = None
        self._fence_unarmed = False  # a command was written without a clock: look at the next
        # The pass-through line written raw and not yet answered (send_raw): None, or its token
        # (its line, command name and deadline are kept beside it).
        self.raw_token: Optional[int] = None
        self.raw_line = b""
        self.raw_name = ""
        self.raw_deadline = 0.0

    @property
    def idle(self) -> bool:
        return self.current is None and not self.queue and self.hold.span is None and self.raw_token is None

    def add(self, exchange: Exchange, now: Optional[float]) -> None:
        self.queue.append(exchange)
        self._next(now)

    def drop(self, owner: object) -> None:
        """Forget the queued (not yet written) exchanges of `owner`."""
        if self.queue:
            self.queue = deque(e for e in self.queue if e.owner is not owner)

    # ---- a pass-through line written raw ----------------------------------------------------

    @property
    def only_raw(self) -> bool:
        """A raw line is in flight and nothing else: none being answered, queued or held."""
        return self.raw_token is not None and self.current is None and not self.queue and self.hold.span is None

    def send_raw(self, token: int, line: bytes, name: str, span: float, now: float) -> None:
        """Write `line` now (the queue is idle): its answer is awaited under `token` until `span`
        has passed, with no Exchange made for it."""
        self.raw_token, self.raw_line, self.raw_name, self.raw_deadline = token, line, name, now + span
        self.out += line + b"\r"
        self._before_open_line, self._fence_unarmed = None, False  # nothing was buffered: no stale line

    def raw_answered(self, now: Optional[float]) -> None:
        """The raw line's answer has come whole: the next exchange may go."""
        self.raw_token = None
        self._next(now)

    def adopt_raw(self, exchange: Exchange) -> None:
        """The raw line's answer is not plain (or is late): from now on it is `exchange`, being
        answered as if it had been written as one -- with the deadline the raw line was given."""
        self.raw_token = None
        self.current = exchange
        self.timer.start_at(self.raw_deadline, exchange.span)

    # ---- the module's answer ----------------------------------------------------------------

    def offer(self, frame: Frame, now: Optional[float]) -> bool:
        """Whether `frame` belongs to the command being answered (and, if it ends it, end it)."""
        current = self.current
        if current is None:
            return False
        if isinstance(frame, Info) and current.ends(frame):
            if current.ok is None:
                self.hold.start(SETTLE, now)  # a final may still follow the line: do not take it for the next
            self._finish(Answer(current.ok, frame, current.frames), now)
            return True
        if current.wants(frame):
            current.frames.append(frame)
            return True
        return False

    def heard(self, now: Optional[float]) -> None:
        """The module's bytes arrived at `now`."""
        if now is not None:
            self._heard = now

    def forget_fence(self) -> None:
        """The framer skipped bytes by itself (a payload abandoned): the count is off, drop it."""
        self._before_open_line = None

    def predates(self, frame: Frame, consumed: int) -> bool:
        """Whether `frame`, which took `consumed` bytes of the framer's buffer, is a final result
        or an unknown line in a line begun before the current command was written: not part of
        its answer, to be dropped."""
        if self._before_open_line is None:
            return False
        self._before_open_line -= consumed
        if self._before_open_line >= 0:  # a frame ahead of that line
            return False
        self._before_open_line = None
        return isinstance(frame, (Final, Line))

    def on_prompt(self, now: Optional[float]) -> bool:
        current = self.current
        if current is None or current.data is None or current.prompted:
            return False
        current.prompted = True
        self.framer.prompts = False
        self.out += current.data
        self.timer.start(current.span, now)
        return True

    def on_final(self, final: Final, now: Optional[float]) -> None:
        current = self.current
        if current is not None and current.after_ok and final.result == "OK":
            current.ok = current.ok or final  # the line that follows is the answer
        elif current is not None:
            self._finish(Answer(final, None, current.frames), now)
        elif self.hold.span is not None:  # a late answer to a command that is over
            self.hold.start(SETTLE, now)
        # else a stray result: nothing asked for it

    def on_activity(self, now: Optional[float]) -> None:
        """The module is busy with a response: a patient command waits on."""
        current = self.current
        if current is not None and current.patient:
            self.timer.start(current.span, now)

    def on_time(self, now: float) -> None:
        self.arm(now)
        if self.raw_token is not None and now >= self.raw_deadline and self._adopt is not None:
            self._adopt()  # times out below as the exchange it now is
        if self.hold.due(now):
            self.hold.stop()
            self._next(now)
        current = self.current
        if current is None or not self.timer.due(now):
            return
        if current.data is not None and not current.prompted:
            self.out += ESC  # in case the module is in data mode after all
        self.hold.start(SETTLE, now)
        self._finish(Answer(current.ok, None, current.frames), now)

    def arm(self, now: float) -> None:
        if self._fence_unarmed:  # no bytes have arrived since the write: the buffer is as it was
            self._fence_unarmed = False
            self._fence(now)
        self.hold.arm(now)
        self.timer.arm(now)

    def wake(self) -> Optional[float]:
        if self.raw_token is not None:
            return self.raw_deadline if self.queue else None
        if self.current is not None:
            return self.timer.wake()
        return self.hold.wake()

    def _next(self, now: Optional[float]) -> None:
        if self.current is not None or not self.queue or self.hold.span is not None or self.raw_token is not None:
            return
        current = self.current = self.queue.popleft()
        # An LF right after the CR that ends a command line counts as part of the line end (a
        # module's framer, README): data that starts with LF needs the line ended by CR LF.
        starts_with_lf = bool(current.data) and current.data[0] == 0x0A  # type: ignore[index]
        self.out += current.line + (b"\r\n" if starts_with_lf else b"\r")
        self._before_open_line = None
        self._fence_unarmed = now is None
        if now is not None:
            self._fence(now)
        self.framer.prompts = current.data is not None
        self.timer.start(current.span, now)

    def _fence(self, now: float) -> None:
        """A command was written at `now`: note a stale line left open before it."""
        open_line = self.framer.open_line
        stale = self._heard is None or now - self._heard >= SETTLE
        if open_line and stale:
            self._before_open_line = self.framer.buffered - open_line

    def _finish(self, answer: Answer, now: Optional[float]) -> None:
        current, self.current = self.current, None
        assert current is not None
        self.framer.prompts = False
        self.timer.stop()
        current.done(answer)
        self._next(now)
