"""The one I/O loop.  It waits in a selector on the ports (and on a wake-up pipe), bounded by the
sides' next timer deadline -- no polling, no sleeps.  Ports with a file descriptor (ptys, serial
devices) are read by the loop thread itself when the selector says so; a port without one (some
pyserial URLs) gets a thread blocked in its read.  Executors run requests in worker threads and
post their events into a queue, waking the selector.  The loop thread owns the sans-I/O sides:
it feeds them, writes what they say and carries out their actions.

Memory stays bounded: the loop reads a port only when it is free to handle what it reads (so a
slow side leaves bytes in the kernel and the sender is flow-controlled), and each request and
each threaded reader may be at most CREDITS items ahead of the loop.
"""
from __future__ import annotations

import os
import queue
import selectors
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Protocol

from .model import BodyChunk, ErrorKind, Event, Failure, Progress, Request
from .ports import Port

CREDITS = 8  # items a reader thread or a request may have queued ahead of the loop


class RequestExecutor(Protocol):
    def execute(self, request: Request) -> Iterator[Event]: ...

    def cancel(self) -> None: ...


@dataclass
class _Running:
    thread: threading.Thread
    executor: RequestExecutor
    credits: threading.Semaphore
    cancelled: threading.Event


class Loop:
    def __init__(self) -> None:
        self._queue: "queue.Queue[tuple]" = queue.Queue()
        self._stop = threading.Event()
        self._requests: dict[tuple[object, int], _Running] = {}
        self._credits: dict[str, threading.Semaphore] = {}
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)

    # -- sources -----------------------------------------------------------------------

    def read_port(self, port: Port, tag: str) -> None:
        """Deliver what `port` receives as ("port", tag, bytes); b"" once it is closed."""
        fileno = getattr(port, "fileno", None)
        descriptor = fileno() if callable(fileno) else None
        if descriptor is not None and descriptor >= 0:
            self._selector.register(descriptor, selectors.EVENT_READ, (port, tag))
        else:
            self._read_in_thread(port, tag)

    def _read_in_thread(self, port: Port, tag: str) -> None:
        credits = self._credits[tag] = threading.Semaphore(CREDITS)

        def run() -> None:
            while not self._stop.is_set():
                data = port.read()
                credits.acquire()  # the loop has not caught up: stop reading, let the port hold it
                self.post(("port", tag, data))
                if not data:
                    return

        threading.Thread(target=run, name=f"read-{tag}", daemon=True).start()

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
        try:
            os.write(self._wake_w, b"\0")
        except (BlockingIOError, OSError):  # already awake / closing
            pass

    def stop(self) -> None:
        self._stop.set()
        self.post(("stop",))

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    # -- the loop ----------------------------------------------------------------------

    def run(self, handle: Callable[[tuple, float], None], deadline: Callable[[], Optional[float]],
            on_time: Callable[[float], None]) -> None:
        """Until :meth:`stop`: give every port read and posted item to `handle`; fire timers."""
        try:
            while not self._stop.is_set():
                due = deadline()
                timeout = None if due is None else max(0.0, due - time.monotonic())
                ready = self._selector.select(timeout)
                now = time.monotonic()
                for key, _ in ready:
                    if key.data is not None:
                        self._read_ready(key, handle, now)
                if not self._drain_posted(handle, now):
                    break
                on_time(now)
        finally:
            self._selector.close()
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)

    def _read_ready(self, key: selectors.SelectorKey, handle: Callable[[tuple, float], None], now: float) -> None:
        port, tag = key.data
        try:
            data = port.read_ready()
        except OSError:
            data = b""
        if not data:
            self._selector.unregister(key.fd)
        handle(("port", tag, data), now)

    def _drain_posted(self, handle: Callable[[tuple, float], None], now: float) -> bool:
        """Handle every posted item; False once a stop was posted."""
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass
        for _ in range(self._queue.qsize()):  # only what is there now: the ports get their turn
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item[0] == "stop":
                return False
            self._dispatch(item, handle, now)
        if not self._queue.empty():
            self._wake()  # more came meanwhile: the next select returns at once
        return True

    def _dispatch(self, item: tuple, handle: Callable[[tuple, float], None], now: float) -> None:
        if item[0] == "done":
            self._requests.pop((item[1], item[2]), None)
            return
        handle(item, now)
        if item[0] == "port":
            self._credits[item[1]].release()
        elif item[0] == "event" and isinstance(item[3], (BodyChunk, Progress)):
            running = self._requests.get((item[1], item[2]))
            if running is not None:
                running.credits.release()


def run_until_signalled(loop: Loop, run: Callable[[], None], ports: tuple[Port, ...]) -> None:
    """`run()` (which runs `loop`) until SIGINT or SIGTERM stops the loop; then close `ports`."""
    def on_signal(signum: int, frame: object) -> None:
        loop.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run()
    finally:
        for port in ports:
            port.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
