"""The bridge engine, sans-I/O: host bytes go into the module side of the host's dialect; the
requests it starts go to the host side of the module's dialect, whose events come back to it.
Commands that are not HTTP go through to the module unchanged, and the module's answers and
unrelated URCs come back to the host unchanged.

The fast path: once the module side has forwarded a command of some name and form unchanged, a
later line of that name and form that comes alone, while nothing is in flight, goes from the
firmware's bytes to the module as it came (HostPlumbing.passthrough_raw) without being framed
into a Command, and its plain answer back as the module wrote it -- a module read that is exactly
that answer without even being framed (HostPlumbing.raw_answer).  The module side's decision is
a matter of name and form (its own commands, the basics it keeps, identification), so what it
forwarded once it forwards again; while a request, query or call is in flight it may hold lines
back, so the fast path waits for quiet.  Echo is written as the module side writes it.

The sides' next deadline is kept between two calls that may have changed it: every way in except
the fast path (whose raw line has no timer while nothing waits behind it, and whose whole answer
in one read starts none) forgets it."""
from __future__ import annotations

from typing import Callable, ContextManager, NamedTuple, Optional

from bridge.roles.host import HostSide
from bridge.at.frames import Command
from bridge.model import (Connected, ConnectionClosed, ErrorKind, Failure, ModuleAnswer, ModuleCall, ResponseEnd,
                          ResponseHead)
from bridge.roles.module import CancelRequest, ModuleSide, StartRequest
from bridge.bridging.trace import Trace

_VERBATIM_KEPT = 256  # (name, form) pairs remembered as forwarded unchanged; beyond, the slow path


class BridgeEngine:
    def __init__(self, module_side: ModuleSide, host_side: HostSide, trace: Optional[Trace] = None):
        self.module_side = module_side
        self.host_side = host_side
        self.trace = trace or Trace(None)
        self._to_module_side: dict[int, int] = {}  # host-side token -> module-side token
        self._to_host_side: dict[int, int] = {}
        self._closes: dict[int, bool] = {}  # module-side token -> the connection closes after it
        self._queries: dict[int, Callable[[bytes], None]] = {}  # passthrough token -> who asked
        self._calls: dict[int, Callable[[ModuleAnswer], None]] = {}  # module_call token -> who asked
        self._forwarded: set[int] = set()  # passthrough tokens whose answer goes to the host as is
        self._verbatim: set[tuple[str, str]] = set()  # (name, form) the module side forwarded unchanged
        self.module_present = True  # False between module_lost() and module_back()
        self._due: Optional[float] = None  # the sides' next deadline, while _due_known
        self._due_known = False
        self._stream: Optional[_Stream] = None  # the body pump of the response streaming, if any
        module_side.forward = self._forward
        module_side.query = self._query
        module_side.module_call = self._module_call
        # A module side may adapt to what the module's dialect cannot do (Neoway behind OneMO
        # firmware: one request at a time, bodies whole and at most 2048 bytes, no file upload).
        module_side.adapt_to_executor(host_side)

    # -- bytes in ----------------------------------------------------------------------

    def from_host(self, data: bytes, now: float) -> None:
        self.trace.bytes("host->bridge", data)
        if self._passed_raw(data, now):
            return
        with self._clock(now):
            self.module_side.receive_data(data, now)
            self._route(now)

    def from_module(self, data: bytes, now: float) -> None:
        self.trace.bytes("module->bridge", data)
        if self._forwarded and self._answered_raw(data, now):
            return
        self._due_known = False
        if self.module_present:
            stream = self._stream
            if stream is None:
                self.host_side.receive_data(data, now)
            else:
                body = stream.receive(stream.token, data, now)
                if body is not None and stream.deliver(body, now):
                    return  # nothing but body bytes came and went: nothing to route
        with self._clock(now):
            self._route(now)

    def on_time(self, now: float) -> None:
        with self._clock(now):
            self.module_side.on_time(now)
            if self.module_present:
                self.host_side.on_time(now)
            self._route(now)

    def _clock(self, now: float) -> ContextManager[None]:
        """The host side's calls inside start their timers at `now` (none is left unarmed); the
        sides' next deadline is asked for again after them."""
        self._due_known = False
        return self.host_side.clock(now)

    def _passed_raw(self, data: bytes, now: float) -> bool:
        """The fast path (see the module's doc): whether `data` went to the module as it came."""
        if not self._verbatim or not self.module_present or self._to_host_side or self._queries or self._calls:
            return False
        framer = self.module_side.framer
        line = framer.whole_line(data)
        if line is None or framer.command_key(line) not in self._verbatim:
            return False
        token = self.host_side.passthrough_raw(line, now)
        if token is None:
            return False
        framer.pass_line(line, data)
        if self.module_side.echo:
            self.module_side.write(line + b"\r")
        self._forwarded.add(token)
        return True

    def _answered_raw(self, data: bytes, now: float) -> bool:
        """The fast path's answer: `data` is the whole plain answer to the raw line in flight, and
        goes to the firmware as the module wrote it.  Nothing else waits, so no deadline moved."""
        if not self._forwarded or not self.module_present or self._to_host_side or self._queries or self._calls:
            return False
        token = self.host_side.raw_answer(data, now)
        if token is None:
            return False
        self._forwarded.discard(token)
        self.module_side.write(data)
        return True

    def next_deadline(self) -> Optional[float]:
        if self._due_known:
            return self._due
        due = self.module_side.next_deadline()
        if self.module_present:
            host = self.host_side.next_deadline()
            if host is not None and (due is None or host < due):
                due = host
        self._due, self._due_known = due, True
        return due

    # -- the module going away and coming back ------------------------------------------

    def module_lost(self, now: float, detail: str = "module port lost") -> None:
        """The module's port failed: every request in flight ends for the host as its dialect
        reports a broken connection, every command waiting for the module gets the dialect's
        error, and until :meth:`module_back` new ones fail at once."""
        if not self.module_present:
            return
        self.module_present = False
        self.trace.event("module_lost", detail)
        self.host_side.data_to_send()  # unsent bytes were for the module that is gone
        self._fail_in_flight(now, Failure(ErrorKind.CONNECTION_CLOSED, detail))
        with self._clock(now):
            self._route(now)

    def module_back(self, host_side: Optional[HostSide], now: float) -> None:
        """The module is there again: `host_side` is a fresh host side of its dialect, whose
        start-up (echo off, error reports, stale instances or links closed) goes out first
        (None: the one there was goes on)."""
        if host_side is not None:
            self.host_side = host_side
            self._stream = None
            self.module_side.adapt_to_executor(host_side)
        self.module_present = True
        self.trace.event("module_back", "")
        with self._clock(now):
            self._route(now)

    def _fail_in_flight(self, now: float, failure: Failure) -> None:
        self._stream = None
        requests = list(self._to_host_side)
        self._to_module_side.clear()
        self._to_host_side.clear()
        self._closes.clear()
        for side_token in requests:
            self.trace.event("event", failure, side_token)
            self.module_side.handle_event(side_token, failure, now)
        queries, self._queries = list(self._queries.values()), {}
        for asker in queries:
            asker(self._error_answer())
        calls, self._calls = list(self._calls.values()), {}
        for caller in calls:
            caller(ModuleAnswer(ok=False, error=ErrorKind.NO_DATA_LINK))
        for _ in range(len(self._forwarded)):
            self.module_side.error()
        self._forwarded.clear()

    def _error_answer(self) -> bytes:
        return b"\r\n" + self.module_side.dialect.final["error"].encode() + b"\r\n"

    # -- bytes out ---------------------------------------------------------------------

    def to_host(self) -> bytes:
        data = self.module_side.data_to_send()
        if data:
            self.trace.bytes("bridge->host", data)
        return data

    def to_module(self) -> bytes:
        if not self.module_present:
            return b""
        data = self.host_side.data_to_send()
        if data:
            self.trace.bytes("bridge->module", data)
        return data

    # -- routing -----------------------------------------------------------------------

    def _forward(self, command: Command) -> None:
        if len(self._verbatim) < _VERBATIM_KEPT:
            self._verbatim.add((command.name, command.form))
        if not self.module_present:
            self.module_side.error()
            return
        self._forwarded.add(self.host_side.passthrough(command.raw))

    def _query(self, line: bytes, answer: Callable[[bytes], None]) -> None:
        if not self.module_present:
            answer(self._error_answer())
            return
        self._queries[self.host_side.passthrough(line)] = answer

    def _module_call(self, call: ModuleCall, answer: Callable[[ModuleAnswer], None]) -> None:
        self.trace.event("module_call", call.op.value)  # args may hold a password
        if not self.module_present:
            answer(ModuleAnswer(ok=False, error=ErrorKind.NO_DATA_LINK))
            return
        self._calls[self.host_side.module_call(call)] = answer

    def _body_pump(self, token: int, side_token: int) -> Optional["_Stream"]:
        """The body pump for the response just begun, when the module side has one and no trace
        records its events: body bytes then go from the host side's framer to the module side's
        encoder with no event between (BodyChunk carries nothing else the module side reads)."""
        if self.trace.enabled:
            return None
        deliver = self.module_side.body_stream(side_token)
        return None if deliver is None else _Stream(token, self.host_side.receive_body, deliver)

    def _route(self, now: float) -> None:
        while self._route_once(now):
            pass

    def _route_once(self, now: float) -> bool:
        moved = False
        if not self.module_present:
            for action in self.module_side.take_actions():
                moved = True
                if isinstance(action, StartRequest):
                    self.trace.event("request", action.request, action.token)
                    self.module_side.handle_event(action.token, Failure(ErrorKind.NO_DATA_LINK, "module port lost"), now)
            return moved
        for action in self.module_side.take_actions():
            moved = True
            if isinstance(action, StartRequest):
                self.trace.event("request", action.request, action.token)
                token = self.host_side.submit(action.request)
                self._to_module_side[token] = action.token
                self._to_host_side[action.token] = token
                self._closes[action.token] = not (action.request.keep_alive or action.request.connect_only or action.request.save_to)
            elif isinstance(action, CancelRequest) and action.token in self._to_host_side:
                self.host_side.cancel(self._to_host_side[action.token])
        ended = []
        for token, event in self.host_side.take_events():
            moved = True
            side_token = self._to_module_side.get(token)
            if side_token is None:
                continue
            self.trace.event("event", event, side_token)
            self.module_side.handle_event(side_token, event, now)
            if type(event) is ResponseHead:
                self._stream = self._body_pump(token, side_token)
            if isinstance(event, ConnectionClosed):
                self._closes[side_token] = False  # the module side has been told
            if isinstance(event, (ResponseEnd, Failure, Connected, ConnectionClosed)):
                ended.append((token, event))  # a ConnectionClosed may still follow ResponseEnd in this batch
        for token, event in ended:
            if self._stream is not None and self._stream.token == token:
                self._stream = None
            side_token = self._to_module_side.pop(token, None)
            self._to_host_side.pop(side_token, None)
            closes = self._closes.pop(side_token, False)
            if closes and isinstance(event, ResponseEnd) and side_token is not None:
                # The request did not keep the connection.  A module dialect that reports no
                # close (OneMO) leaves it to us to tell a host dialect that does (+HTTPCLOSED).
                self.trace.event("event", ConnectionClosed(by_peer=False), side_token)
                self.module_side.handle_event(side_token, ConnectionClosed(by_peer=False), now)
        # Bytes written to the host start nothing: only a callback that may have (a query's or a
        # call's asker) makes another pass worth it.
        for token, answer in self.host_side.take_passthrough():
            asker = self._queries.pop(token, None)
            self._forwarded.discard(token)
            if asker is not None:
                moved = True
                asker(answer)
            else:
                self.module_side.write(answer)
        for token, module_answer in self.host_side.take_module_answers():
            moved = True
            caller = self._calls.pop(token, None)
            if caller is not None:
                caller(module_answer)
        for urc in self.host_side.take_unsolicited():
            self.module_side.write(urc)
        return moved


class _Stream(NamedTuple):
    """A response body streaming from the host side to the module side, read by read."""

    token: int  # the host side's
    receive: Callable[[int, bytes, float], Optional[bytes]]  # host_side.receive_body
    deliver: Callable[[bytes, float], bool]  # module_side.body_stream(...): False -> route
