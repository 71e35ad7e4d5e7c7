"""The one I/O loop.  It waits in epoll on the ports (and on a wake-up pipe), bounded by the
sides' next timer deadline -- no polling, no sleeps.  Ports with a file descriptor (ptys, serial
devices, sockets) are read by the loop thread itself when epoll says so, in large reads; a
port without one (rfc2217://) gets a thread blocked in its read.  Executors run requests in worker
threads and post their events into a queue, waking the loop.  The loop thread owns the sans-I/O
sides: it feeds them, writes what they say and carries out their actions.  Timers fire only when
one is due; the wake-up pipe is read only when it fired.  What epoll waits for changes only when a
port's unsent bytes cross a mark (none / some / OUT_HIGH / OUT_HARD) or a port comes, goes or ends,
so a turn that only wrote bytes out costs one wait, one write and a look at that port's count.

The loop never blocks on a write: a port it owns takes what it can now and keeps the rest, which
the loop writes out when the port is writable.  While a port holds more than OUT_HIGH unsent bytes
(a firmware that stopped reading), the loop reads nothing that could feed it -- the other ports
and the posted events (whose producers then wait for credits) -- so only that direction stalls,
and bytes stay in the kernel where the sender is flow-controlled.  Each request and each threaded
reader may be at most CREDITS items ahead of the loop.  Memory stays bounded.
"""
from __future__ import annotations

import os
import queue
import select
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Protocol

from bridge.model import BodyChunk, ErrorKind, Event, Failure, Progress, Request
from bridge.io.ports import Port

CREDITS = 8  # items a reader thread or a request may have queued ahead of the loop
# Unsent bytes a port may hold before the loop stops reading its producers: one pty read batch
# (PTY_BATCH in bridge/io/ports.py), a little more than a pty holds (about 12 KB).  With 64 KB the
# loop kept reading a module whose output the firmware could not take yet, and woke for each 4 KB
# the firmware drained; 8 KB made it stop and resume too often (bench_io).
OUT_HIGH = 16 * 1024
OUT_HARD = 4 * OUT_HIGH  # ... before it stops reading that port itself too


class RequestExecutor(Protocol):
    def execute(self, request: Request) -> Iterator[Event]: ...

    def cancel(self) -> None: ...


@dataclass
class _Running:
    thread: threading.Thread
    executor: RequestExecutor
    credits: threading.Semaphore
    cancelled: threading.Event


@dataclass
class _Source:
    """A port the loop reads (and writes)."""
    port: Port
    tag: str
    fd: int  # -1: read by a thread
    events: int = 0  # what epoll waits for now
    level: int = -1  # its unsent bytes as last seen: 0 none, 1 some, 2 over OUT_HIGH, 3 OUT_HARD or more
    eof: bool = False
    credits: Optional[threading.Semaphore] = None  # a threaded reader's items not yet handled
    forgotten: bool = False  # forget_port(): what its reader thread still posts is dropped


# what epoll reports, as the ports see it: a hang-up or an error is both (the read or write says what)
_READABLE = ~select.EPOLLOUT
_WRITABLE = ~select.EPOLLIN


class Loop:
    def __init__(self) -> None:
        self._queue: "queue.Queue[tuple]" = queue.Queue()
        self._stopping = False  # a plain flag: stop() runs in signal handlers, which must take no lock
        self._previous_wakeup: Optional[int] = None  # the wakeup fd before wake_on_signals()
        self._requests: dict[tuple[object, int], _Running] = {}
        self._sources: list[_Source] = []
        # the credits of every reader thread still running (forgotten ports' too): close() frees them
        self._reader_credits: dict[int, threading.Semaphore] = {}
        self._readers_lock = threading.Lock()
        self._held: "deque[tuple]" = deque()  # posted items kept back while a port is over OUT_HIGH
        self._backed_up: Optional[_Source] = None  # a port over OUT_HIGH (its producers wait)
        self._more_posted = False  # items were left in the queue: look again without waiting
        self._handled = True  # the sides were given something: ask for their next deadline again
        self._dirty = True  # a port came, went or ended: what epoll waits for must be worked out again
        self._due: Optional[float] = None  # the sides' next deadline, as last asked
        self._closed = False
        self._epoll = select.epoll()
        self._by_fd: dict[int, _Source] = {}  # the ports epoll waits on
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._epoll.register(self._wake_r, select.EPOLLIN)

    # -- sources -----------------------------------------------------------------------

    def read_port(self, port: Port, tag: str) -> None:
        """Own `port`: deliver what it receives as ("port", tag, bytes), b"" once it is closed;
        its writes never block from now on (what it cannot take waits in its buffer)."""
        port.start_buffered(self._wake)
        descriptor = port.fileno()
        source = _Source(port, tag, descriptor if descriptor >= 0 else -1)
        self._sources.append(source)
        self._dirty = True
        if source.fd < 0:
            self._read_in_thread(source)
        self._update_interest()

    def forget_port(self, port: Port) -> None:
        """Stop reading and writing `port` (call it from the loop thread, before closing a port
        that failed).  Nothing it delivers from now on reaches the handler -- not even a late b""
        from its reader thread, which would otherwise end a port reopened under the same tag."""
        for source in [s for s in self._sources if s.port is port]:
            self._sources.remove(source)
            source.forgotten = True
            if source.fd >= 0 and source.events:
                self._register(source, 0)
        if self._backed_up is not None and self._backed_up.port is port:
            self._backed_up = None
        self._dirty = True

    def _read_in_thread(self, source: _Source) -> None:
        credits = source.credits = threading.Semaphore(CREDITS)
        with self._readers_lock:
            self._reader_credits[id(source)] = credits

        def run() -> None:
            try:
                while not self._stopping and not source.forgotten:
                    try:
                        data = source.port.read()
                    except Exception:  # noqa: BLE001 - a port that fails in its read is lost, like one that closed
                        data = b""
                    credits.acquire()  # the loop has not caught up: stop reading, let the port hold it
                    self.post(("port", source.tag, data, source))
                    if not data:
                        return
            finally:
                with self._readers_lock:
                    self._reader_credits.pop(id(source), None)

        threading.Thread(target=run, name=f"read-{source.tag}", daemon=True).start()

    def start_request(self, owner: object, token: int, request: Request, executor: RequestExecutor) -> None:
        """Run `request` in a worker thread; its events come back as ("event", owner, token, event)."""
        running = _Running(threading.Thread(), executor, threading.Semaphore(CREDITS), threading.Event())

        def run() -> None:
            try:
                for event in executor.execute(request):
                    if isinstance(event, (BodyChunk, Progress)):
                        running.credits.acquire()
                    self.post(("event", owner, token, event))
            except Exception as exc:  # an executor bug must not kill the module
                self.post(("event", owner, token, Failure(ErrorKind.UNKNOWN, f"executor error: {exc!r}")))
            self.post(("done", owner, token, None))

        running.thread = threading.Thread(target=run, name=f"request-{token}", daemon=True)
        self._requests[(owner, token)] = running
        running.thread.start()

    def cancel_request(self, owner: object, token: int) -> None:
        running = self._requests.get((owner, token))
        if running is not None and not running.cancelled.is_set():
            running.cancelled.set()
            running.executor.cancel()

    def requests_of(self, owner: object) -> list[int]:
        return [token for who, token in list(self._requests) if who is owner]

    def post(self, item: tuple) -> None:
        """Hand `item` to the loop thread's handler (thread-safe)."""
        self._queue.put(item)
        self._wake()

    def _wake(self) -> None:
        if self._closed:  # its descriptors may be another file's by now
            return
        try:
            os.write(self._wake_w, b"\0")
        except (BlockingIOError, OSError):  # already awake / closed
            pass

    def stop(self) -> None:
        """Stop the loop (from any thread, or a signal handler: no lock is taken -- a handler that
        ran inside Event.set() under a second signal would wait for its own lock forever)."""
        self._stopping = True
        self._wake()

    def wake_on_signals(self) -> None:
        """Have every signal write to the wake-up pipe (signal.set_wakeup_fd; main thread only),
        until :meth:`close`.  Python runs a handler between bytecodes of the main thread: a signal
        caught just before the loop's wait, or by another thread (a request's, a reader's),
        interrupts no wait, and the loop would sleep on until its next event -- for ever, when no
        timer is due and the ports are quiet."""
        self._previous_wakeup = signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)

    @property
    def stopped(self) -> bool:
        return self._stopping

    # -- the loop ----------------------------------------------------------------------

    def run(self, handle: Callable[[tuple, float], None], deadline: Callable[[], Optional[float]],
            on_time: Callable[[float], None], until: Optional[Callable[[], bool]] = None,
            limit: Optional[float] = None) -> bool:
        """Give every port read and posted item to `handle`; fire timers when one is due.  Without
        `until`, runs until :meth:`stop` and then closes the loop; with it (the library, in its
        caller's thread), returns once `until()` holds -- True -- or once `limit` (monotonic
        seconds) has passed or the loop was stopped -- False -- and the loop stays open."""
        self._handled = True
        self._dirty = True  # the caller may have written to a port before this run
        try:
            while not self._stopping:
                if until is not None and (until() or (limit is not None and time.monotonic() >= limit)):
                    break
                self._turn(handle, deadline, on_time, limit)
        finally:
            if until is None:
                self.close()
        return until() if until is not None else True

    def _turn(self, handle: Callable[[tuple, float], None], deadline: Callable[[], Optional[float]],
              on_time: Callable[[float], None], limit: Optional[float]) -> None:
        """One wait in epoll and what it brought.  The sides' next deadline is asked for again
        only after they were given something (a pass that only wrote bytes out cannot have
        changed it); likewise every port's count is looked at only then -- after a pass that
        only wrote bytes out, just the counts of the ports written."""
        if self._handled:
            self._handled = False
            self._due = deadline()
        due = self._due
        wake_at = due if limit is None else (limit if due is None else min(due, limit))
        timeout: Optional[float] = None
        if self._more_posted and self._backed_up is None:
            timeout = 0.0
        elif wake_at is not None:
            timeout = wake_at - time.monotonic()
            if timeout < 0.0:
                timeout = 0.0
        ready = self._epoll.poll(timeout)
        now = time.monotonic()
        woken = False
        for fd, mask in ready:
            if fd == self._wake_r:
                woken = True
                self._read_wake_pipe()
                continue
            source = self._by_fd.get(fd)
            if source is None:  # forgotten earlier in this turn
                continue
            if mask & _WRITABLE:
                source.port.write_ready()
            if mask & _READABLE and not source.eof:
                self._read(source, handle, now)
        if self._stopping:
            return
        if (woken or self._more_posted) and self._backed_up is None:
            self._drain_posted(handle, now)
        elif woken:
            self._hold_posted(handle, now)
        if due is not None and now >= due:
            self._handled = True
            on_time(now)
        if self._handled or woken or self._dirty:
            self._update_interest()
        else:
            self._update_written(ready)

    def close(self) -> None:
        """Stop, let reader threads out of their wait for credits, release epoll."""
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        if self._previous_wakeup is not None:  # before the pipe closes: its number may be reused
            signal.set_wakeup_fd(self._previous_wakeup)  # (the main thread: wake_on_signals() was)
            self._previous_wakeup = None
        with self._readers_lock:
            waiting = list(self._reader_credits.values())
        for credits in waiting:
            for _ in range(CREDITS):
                credits.release()
        self._epoll.close()
        self._by_fd.clear()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def _read(self, source: _Source, handle: Callable[[tuple, float], None], now: float) -> None:
        """The port's descriptor is readable: hand what it gives to the sides."""
        try:
            data = source.port.read_ready()
        except OSError:
            data = b""
        if data is None:  # nothing after all
            return
        if not data:
            source.eof = True
            self._dirty = True
        self._handled = True
        handle(("port", source.tag, data), now)

    def _read_wake_pipe(self) -> None:
        try:
            while len(os.read(self._wake_r, 4096)) == 4096:
                pass
        except BlockingIOError:
            pass

    def _update_interest(self) -> None:
        """Wait for writability where bytes wait; while a port holds more than OUT_HIGH unsent
        bytes, read no other source (back-pressure), and past OUT_HARD not even that port.
        Worked out again only when a port's level of unsent bytes changed (or a port came, went
        or ended): most turns just look at each port's count."""
        changed = self._dirty
        for source in self._sources:
            pending = source.port.pending()
            level = 0 if not pending else 1 if pending <= OUT_HIGH else 2 if pending < OUT_HARD else 3
            if level != source.level and not self._relevel(source, level):
                changed = True
        if changed:
            self._dirty = False
            self._wait_for(next((source for source in self._sources if source.level >= 2), None))

    def _update_written(self, ready: list[tuple[int, int]]) -> None:
        """After a pass in which the sides were given nothing, only the ports written out can
        have changed their count: what :meth:`_update_interest` does, for those alone."""
        for fd, mask in ready:
            if mask & _WRITABLE:
                source = self._by_fd.get(fd)
                if source is not None:
                    pending = source.port.pending()  # its level, as _update_interest() works it out:
                    level = 0 if not pending else 1 if pending <= OUT_HIGH else 2 if pending < OUT_HARD else 3
                    if level != source.level and not self._relevel(source, level):
                        self._wait_for(next((s for s in self._sources if s.level >= 2), None))

    def _relevel(self, source: _Source, level: int) -> bool:
        """Note the port's new level.  While no port is over OUT_HIGH, before or after, only its
        own writability changes: tell epoll here and say True; False: every port's interest must
        be worked out again (see _wait_for(), which gives the same for this case)."""
        was, source.level = source.level, level
        if level >= 2 or was >= 2 or self._backed_up is not None or self._dirty:
            return False
        if source.fd >= 0:
            events = select.EPOLLOUT if level else 0
            if not source.eof:
                events |= select.EPOLLIN
            if events != source.events:
                self._register(source, events)
        return True

    def _wait_for(self, backed_up: Optional[_Source]) -> None:
        self._backed_up = backed_up
        for source in self._sources:
            if source.fd < 0:
                continue
            events = select.EPOLLOUT if source.level else 0
            if not source.eof and (backed_up is None or (backed_up is source and source.level < 3)):
                events |= select.EPOLLIN
            if events != source.events:
                self._register(source, events)

    def _register(self, source: _Source, events: int) -> None:
        try:
            if not events:
                self._epoll.unregister(source.fd)
            elif source.events:
                self._epoll.modify(source.fd, events)
            else:
                self._epoll.register(source.fd, events)
        except (ValueError, OSError):  # closed under us while stopping
            events = 0
        source.events = events
        if events:
            self._by_fd[source.fd] = source
        elif self._by_fd.get(source.fd) is source:
            del self._by_fd[source.fd]

    def _drain_posted(self, handle: Callable[[tuple, float], None], now: float) -> None:
        """Handle the items held back, then the items posted by now (later ones next pass) --
        until a port backs up."""
        while self._held and not self._backing_up():
            self._dispatch(self._held.popleft(), handle, now)
        for _ in range(self._queue.qsize()):  # only what is there now: the ports get their turn
            if self._backing_up():
                break
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            self._dispatch(item, handle, now)
        self._more_posted = bool(self._held) or not self._queue.empty()

    def _backing_up(self) -> bool:
        return any(source.port.pending() > OUT_HIGH for source in self._sources)

    def _hold_posted(self, handle: Callable[[tuple, float], None], now: float) -> None:
        """While a port is backed up: take the posted items; reads of that very port (a threaded
        port) are handled, the rest waits (and its producers, out of credits, with it)."""
        backed_up = self._backed_up
        for _ in range(self._queue.qsize()):
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item[0] == "port" and backed_up is not None and item[3] is backed_up and not self._held:
                self._dispatch(item, handle, now)
            else:
                self._held.append(item)
        self._more_posted = True

    def _dispatch(self, item: tuple, handle: Callable[[tuple, float], None], now: float) -> None:
        if item[0] == "done":
            self._requests.pop((item[1], item[2]), None)
            return
        if item[0] == "port":  # from a reader thread: ("port", tag, data, source)
            source = item[3]
            source.credits.release()
            if not source.forgotten:
                self._handled = True
                handle(item[:3], now)
            return
        self._handled = True
        handle(item, now)
        if item[0] == "event" and isinstance(item[3], (BodyChunk, Progress)):
            running = self._requests.get((item[1], item[2]))
            if running is not None:
                running.credits.release()


def run_until_signalled(loop: Loop, run: Callable[[], None], ports: tuple[Port, ...]) -> None:
    """`run()` (which runs `loop`) until SIGINT or SIGTERM stops the loop; then close `ports`."""
    def on_signal(signum: int, frame: object) -> None:
        loop.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    loop.wake_on_signals()
    try:
        run()
    finally:
        for port in ports:
            port.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
