"""The OneMO host side (client role), sans-I/O: requests of the shared model become OneMO commands,
and the module's answers and URCs become the model's events.  Bytes go in with receive_data and
out with data_to_send, time with on_time.  Requests run in run.py, as scripts (scripts.py) of
what plan.py reads from them; responses are put together in reception.py, whose body pump turns
the content URCs of one read into one BodyChunk -- cut out of the read before the framer sees
them (reception.ContentPump) once a response's first content URC has shown how the module
writes them, with the framer's take_payload_run as the way back in.  Tables come from
dialects/onemo.yaml (tables.py); decisions: docs/design.md, "OneMO host side".
"""
from __future__ import annotations

import logging
import re
from typing import Callable, Optional

from bridge.at.dialect import Dialect
from bridge.at.encode import frame_bytes
from bridge.at.frames import Frame, FramingError, Info
from bridge.model import BodyChunk, Connected, ErrorKind, Event, ExecutorCapabilities, ModuleCall, Request
from bridge.onemo.host.bringup import HostBringUp
from bridge.onemo.host.context import WAIT_IND, Job
from bridge.onemo.host.errors import Fail
from bridge.onemo.host.reception import ContentPump, ContentRun, content_positions
from bridge.onemo.host.run import (COMMAND_TIMEOUT, PROGRESS_STEP, RESPONSE_WAIT, SENT_GRACE, WAIT_MARGIN,
                                   RequestRunner)

__all__ = ["COMMAND_TIMEOUT", "PROGRESS_STEP", "SENT_GRACE", "WAIT_MARGIN", "OnemoHostSide"]

log = logging.getLogger(__name__)

URC = "+MHTTPURC"
DLFILE = "+MHTTPDLFILE"
_URC_ID = re.compile(rb'\+MHTTPURC[ \t]*+:[ \t]*+"(\w{1,16})"[ \t]*+,[ \t]*+([0-9]{1,9})')
_IND_TAIL = re.compile(rb'\+MHTTPURC[ \t]*+:[ \t]*+"ind"[ \t]*+,[ \t]*+([0-9]{1,9})\s*$')
_ID = re.compile(r"\s*([0-9]{1,9})\s*")  # ASCII digits only, bounded: str.isdigit() takes "²"
_TAIL_KEEP = 64  # received bytes kept to look for an unterminated "ind"
_TAKEN = Info(URC)  # what the pump's bytes count as, for the command queue's stale-line fence


class OnemoHostSide(RequestRunner):
    """Drives a OneMO module: :class:`~bridge.model.Request` in, events out (sans-I/O).

    Start-up (ATE0, AT+CMEE=1, AT+MHTTPDEL of stale instances) is queued at construction;
    :attr:`ready` is None until it has run, then True (or False when the module did not answer
    ATE0).  Requests are admitted once start-up is done; downloads to a module file
    (AT+MHTTPDLFILE) run alone, since their URCs name no instance of their own.
    """

    # What a bridge's module side adapts to: a module with files of its own, which keeps its
    # connection only when the request's "Connection" header asks.
    capabilities = ExecutorCapabilities(shares_file_system=False, keep_alive_in_headers=True)

    def __init__(self, dialect: Optional[Dialect] = None, model: Optional[str] = None, *,
                 command_timeout: float = COMMAND_TIMEOUT, progress_step: int = PROGRESS_STEP) -> None:
        super().__init__(dialect, model, command_timeout, progress_step)
        self._content_at = content_positions(self.dialect, URC)
        self._tail = b""
        # The body pump in front of the framer: the response streaming and its pump, what the framer
        # holds of its next content URC (b"": nothing, resting), and the read being cut.
        self._stream: Optional[tuple[Job, ContentPump]] = None
        self._owed: Optional[bytes] = None
        self._owed_at = (0, False)  # the framer's (buffered, in_payload) when _owed was found
        self._read: Optional[bytes] = None
        self._read_at = 0
        self._read_blank = 0  # the blanks before _read_at, which the framer may still hold
        # A content URC of the streaming response whose prefix has come whole and its payload not:
        # held back from the framer (which then rests) until the rest comes; its payload bytes so far.
        self._carry = b""
        self._carried = 0
        self._bring_up = HostBringUp(self.dialect, lambda exchange: self._commands.add(exchange, self._now),
                                     self._span, self.sync_kind, self._module_answer)
        self._startup()

    # ---- the I/O loop's interface ------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes the module wrote."""
        with self._clock(now):
            self._tail = (self._tail + data[-_TAIL_KEEP:])[-_TAIL_KEEP:]
            stream = self._streaming()
            if stream is None:
                self._frame(self._uncarried() + data)
            else:
                data = self._pump(data, *stream)
            if self._stream is not None:
                self._note_owed(data)
            self._peek_ind()
            self._watch_payload()

    def next_deadline(self) -> Optional[float]:
        """When :meth:`on_time` must be called next (0.0: at once), or None."""
        due = self._commands.wake()
        wake = self._stuck.wake()
        if wake is not None and (due is None or wake < due):
            due = wake
        for job in self._jobs.values():
            for timer in (job.timer, job.report):
                wake = timer.wake()
                if wake is not None and (due is None or wake < due):
                    due = wake
        return due

    def on_time(self, now: float) -> None:
        """Time has passed: fire what is due."""
        with self._clock(now):
            self._commands.on_time(now)
            for job in list(self._jobs.values()):
                if job.report.due(now):
                    self.sent(job)
                if job.timer.due(now):
                    self._fail(job, ErrorKind.RESPONSE_TIMEOUT, "the module reported nothing more in time")
                    self._abandon()
            if self._stuck.due(now):
                self._abandon()
            self._watch_payload()

    # ---- the body pump in front of the framer ------------------------------------------------------

    def _streaming(self) -> Optional[tuple[Job, ContentPump]]:
        """The response whose content URCs may be cut out of the next read, and its pump."""
        stream, owed = self._stream, self._owed
        if stream is None or owed is None or self._commands.raw_token is not None:
            return None
        job, pump = stream
        framer = self.framer
        if (job.over or job.reception.done or self.by_id.get(job.httpid) is not job  # type: ignore[arg-type]
                or (framer.buffered, framer.in_payload) != self._owed_at or (not owed and not framer.at_rest)):
            self._stream = None
            return None
        return stream

    def _pump(self, data: bytes, job: Job, pump: ContentPump) -> bytes:
        """Frame `data` as ever, but cut the content URCs of `job` out of it first: when the framer
        rests between frames, those at its start (one BodyChunk); when it holds a content URC begun,
        the bytes that finish it go first, and the URCs after it join it (:meth:`_on_content`).
        Returns the bytes given to the framer last."""
        owed, self._owed = self._owed, None
        self._commands.heard(self._now)
        if owed:
            stop, split = pump.rest_after(owed, data)
            if split:
                self._read, self._read_at, self._read_blank = data, split, split - stop
                try:
                    self._frame(data[:split])
                    split = self._read_at
                finally:
                    self._read = None
                data = data[split:]
        else:
            data = self._uncarried() + data
            reception = job.reception
            pump.received = reception.received
            payloads, end = pump.take(data, 0)
            if payloads:
                self._commands.predates(_TAKEN, end)  # the bytes taken count as framed
                self._events_of(job, reception.taken(b"".join(payloads), reception.received,
                                                     pump.content_len or None, pump.received))
                data = data[end:]
        if data and not job.reception.done and not job.over and self.framer.at_rest:
            pump.received = job.reception.received
            carried = pump.begun(data)
            if carried >= 0:
                self._carry, self._carried = data, carried
                return b""
        self._frame(data)
        return data

    def _uncarried(self) -> bytes:
        """The content URC held back, taken back."""
        carry, self._carry = self._carry, b""
        return carry

    def _release_carry(self) -> None:
        """The content URC held back goes to the framer, which holds it as it would have."""
        carry = self._uncarried()
        if carry:
            self.framer.receive_data(carry)
            self._left_unframed += len(carry)  # arrived earlier: not bytes dropped, not heard now
            self._frame(b"")
            self._owed = None

    def _fail(self, job: Job, kind: ErrorKind, detail: str = "", terminate: bool = True) -> None:
        if self._stream is not None and self._stream[0] is job:
            self._release_carry()  # before the commands that end the request are written
        super()._fail(job, kind, detail, terminate)

    def _abandon(self) -> None:
        self._release_carry()
        super()._abandon()

    def passthrough_raw(self, command_line: bytes, now: float) -> Optional[int]:
        """Not while a content URC is held back: the module's bytes are not between two frames."""
        return None if self._carry else super().passthrough_raw(command_line, now)

    def _note_owed(self, fed: bytes) -> None:
        """What the framer holds of the streaming response's next content URC, after it was given
        `fed` last."""
        framer, stream = self.framer, self._stream
        self._owed_at = (framer.buffered, framer.in_payload)
        if stream is None:
            self._owed = None
        elif framer.at_rest:
            self._owed = b""
        else:
            self._owed = stream[1].owed(fed, framer.buffered, framer.in_payload)

    def _watch_payload(self) -> None:
        """A length-framed payload that stops short (a "content" announcing more than comes)
        would hold every later frame: it is given up on the dialect's response deadline -- the
        request's timer while one runs, else the module's longest response time (MHTTPCFG
        <rsp_timeout>'s range in onemo.yaml) and the margin.  Bytes of it coming restart the wait."""
        if not (self.framer.in_payload or self._carry) or any(job.timer.span is not None for job in self._jobs.values()):
            self._stuck.stop()
        else:
            high = (self.limits.timeout_specs[1].range or (0, RESPONSE_WAIT))[1]
            self._stuck.start(float(high) + WAIT_MARGIN, self._now)

    # ---- requests ---------------------------------------------------------------------------

    def submit(self, request: Request) -> int:
        """Queue `request`; its events come out of :meth:`take_events` under the returned token."""
        token = next(self._tokens)
        if request.connect_only:
            # OneMO opens its connection with each MHTTPREQUEST: there is nothing to open ahead,
            # and a fault will be reported by the request that follows.
            self._events.append((token, Connected()))
            return token
        self._pending.append(Job(token, request))
        self._admit()
        return token

    def cancel(self, token: int) -> None:
        """Stop a request (MHTTPTERM, then MHTTPDEL); it ends with Failure(CANCELLED)."""
        self._cancel_pending(token)
        job = self._jobs.get(token)
        if job is not None:
            self._fail(job, ErrorKind.CANCELLED, "cancelled")

    def _module_call(self, token: int, call: ModuleCall) -> None:
        """A bring-up operation with the module's own commands (bridge.onemo.host.bringup)."""
        self._bring_up.run(token, call)

    @property
    def idle(self) -> bool:
        """No command queued or outstanding and no request running."""
        return self._commands.idle and not self._jobs and not self._pending

    # ---- the module's output ----------------------------------------------------------------

    def _dispatch(self, frame: Frame) -> None:
        if self._to_commands(frame):
            return
        if isinstance(frame, Info) and frame.name == URC:
            self._on_urc(frame)
        elif isinstance(frame, Info) and frame.name == DLFILE:
            self._on_progress(frame)
        elif isinstance(frame, FramingError):
            self._on_bad_frame(frame)
        elif not self._commands.offer(frame, self._now):
            self._unsolicited.append(frame_bytes(frame, self.dialect))

    def _on_urc(self, info: Info) -> None:
        download = next((j for j in self._jobs.values() if j.file), None)
        if download is not None and info.variant in ("header", "err"):
            job: Optional[Job] = download  # AT+MHTTPDLFILE reports under an id of its own
        else:
            match = _ID.fullmatch(info.get("httpid") or "")
            job = self.by_id.get(int(match.group(1))) if match else None
        if job is not None and not job.over:
            self._guarded(job, self._job_urc, info)
        else:
            log.warning("dropped +MHTTPURC %r for no request in flight (instance %r)",
                        (info.variant or "")[:16], (info.get("httpid") or "")[:16])

    def _on_progress(self, info: Info) -> None:
        job = next((j for j in self._jobs.values() if j.file), None)
        if job is not None:
            self._guarded(job, lambda j, i: self._events_of(j, j.reception.on_progress(i)), info)
        else:
            log.warning("dropped %s for no download in flight", DLFILE)

    def _job_urc(self, job: Job, info: Info) -> None:
        variant = info.variant
        if variant == "ind":
            self._on_ind(job)
        elif variant == "header":
            self._events_of(job, job.reception.on_head(info.payload))
        elif variant == "content" and not job.file:
            self._on_content(job, info)
        elif variant == "err":
            code = info.get("error_code") or ""
            raise Fail(self._errors.async_kind(code), f"+MHTTPURC: \"err\" {code[:16]}", terminate=False)
        else:
            raise Fail(ErrorKind.RESPONSE_INVALID, f"unexpected +MHTTPURC: {variant!r}")

    def _on_content(self, job: Job, info: Info) -> None:
        """A content URC, and the body pump: the content URCs of the same response buffered right
        after it join it in one BodyChunk (reception.ContentRun says which)."""
        reception = job.reception
        events = reception.on_content(info)
        first = events[0] if events else None
        if isinstance(first, BodyChunk) and not reception.done and job.httpid is not None:
            if self._stream is None or self._stream[0] is not job:
                pump = ContentPump.learn(info, job.httpid, reception.received, self.dialect.payload_max)
                self._stream = (job, pump) if pump is not None else None
            if self._read is not None and self._stream is not None and self.framer.buffered <= self._read_blank:
                events = self._pumped(job, self._stream[1], first, info)
                self._events_of(job, events)
                return
            run = ContentRun(self._content_at, job.httpid, first.total or 0, reception.received)
            buffered = self.framer.buffered
            data = self.framer.take_payload_run(URC, "content", run, first.data)
            if run.taken:
                self._commands.predates(info, buffered - self.framer.buffered)  # the bytes taken count as framed
                events = reception.on_run(run, first, data)
        self._events_of(job, events)

    def _pumped(self, job: Job, pump: ContentPump, first: BodyChunk, info: Info) -> list[Event]:
        """`first` and the content URCs after it in the read being cut (:meth:`_pump`), as one
        BodyChunk: what take_payload_run would have taken from the framer's buffer."""
        data, at = self._read, self._read_at
        assert data is not None
        pump.received = job.reception.received
        payloads, end = pump.take(data, at)
        if not payloads:
            return [first]
        self._read_at = end
        self._commands.predates(info, end - at)  # the bytes taken count as framed
        return job.reception.taken(b"".join([first.data, *payloads]), first.offset, first.total, pump.received)

    def _on_ind(self, job: Job) -> None:
        if job.ind:
            return  # already seen (an "ind" without its line end is taken before it is framed)
        job.ind = True
        if job.waiting == WAIT_IND:
            job.waiting = None
            job.timer.stop()
            self._step(job, None)

    def _peek_ind(self) -> None:
        """An "ind" without its CRLF stays in the framer until the next byte, which the module
        sends only after the content it waits for: take it from the unframed tail."""
        waiting = [j for j in self._jobs.values() if j.waiting == WAIT_IND]
        buffered = self._carried if self._carry else self.framer.buffered  # the payload held back, as the framer would
        if not waiting or not 0 < buffered <= len(self._tail):
            return
        match = _IND_TAIL.search(self._tail[-buffered:])
        for job in waiting:
            if match and int(match.group(1)) == job.httpid:
                self._on_ind(job)

    def _events_of(self, job: Job, events: list[Event]) -> None:
        self._events.extend((job.token, e) for e in events)
        if job.waiting:
            job.timer.start(self._response_span(job), self._now)
        if job.reception.done:
            self._complete(job)

    def _guarded(self, job: Job, handler: Callable[[Job, Info], None], info: Info) -> None:
        try:
            handler(job, info)
        except Fail as fail:
            self._fail(job, fail.kind, fail.detail, fail.terminate)
            if fail.kind is ErrorKind.RESPONSE_INVALID:
                log.warning("dropped %s %r the request could not use; it fails", info.name, (info.variant or "")[:16])
        except (ValueError, LookupError) as exc:
            log.warning("dropped %s %r with a field out of range; the request fails", info.name, (info.variant or "")[:16])
            self._fail(job, ErrorKind.RESPONSE_INVALID, f"{info.name} {info.variant or ''}: {exc}")

    def _on_bad_frame(self, frame: FramingError) -> None:
        match = _URC_ID.search(frame.raw)
        job = self.by_id.get(int(match.group(2))) if match else None
        if job is None and frame.raw.lstrip().startswith(DLFILE.encode()):
            job = next((j for j in self._jobs.values() if j.file), None)
        # the reason names the frame and what was wrong with it; the frame's bytes (which may
        # carry response headers) are not logged
        log.warning("dropped a module frame the host side cannot use: %s", frame.reason[:160])
        if job is not None:
            self._fail(job, ErrorKind.RESPONSE_INVALID, f"malformed report: {frame.reason}")
