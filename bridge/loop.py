"""The one I/O loop.  Threads blocked in reads (ports) and executors (requests) post what they
get into one queue; the loop thread owns the sans-I/O sides, feeds them, writes what they say and
carries out their actions.  The only waits are a blocking queue get, bounded by the sides' next
timer deadline -- no polling, no sleeps.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Protocol

from .model import BodyChunk, ErrorKind, Event, Failure, Progress, Request
from .ports import Port

CREDITS = 8  # items a reader or a request may have queued ahead of the loop: bounds memory


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
        self._port_credits: dict[str, threading.Semaphore] = {}

    # -- sources -----------------------------------------------------------------------

    def read_port(self, port: Port, tag: str) -> threading.Thread:
        """A thread that blocks reading `port` and posts ("port", tag, bytes)."""
        credits = threading.Semaphore(CREDITS)
        self._port_credits[tag] = credits

        def run() -> None:
            while not self._stop.is_set():
                data = port.read()
                credits.acquire()  # the loop has not caught up: stop reading, let the port hold it
                self._queue.put(("port", tag, data))
                if not data:
                    return

        thread = threading.Thread(target=run, name=f"read-{tag}", daemon=True)
        thread.start()
        return thread

    def start_request(self, owner: object, token: int, request: Request, executor: RequestExecutor) -> None:
        """Run `request` in a worker thread; its events come back as ("event", owner, token, event)."""
        running = _Running(threading.Thread(), executor, threading.Semaphore(CREDITS), threading.Event())

        def run() -> None:
            try:
                for event in executor.execute(request):
                    if isinstance(event, (BodyChunk, Progress)):
                        running.credits.acquire()
                    self._queue.put(("event", owner, token, event))
            except Exception as exc:  # an executor bug must not kill the module
                self._queue.put(("event", owner, token, Failure(ErrorKind.UNKNOWN, f"executor error: {exc!r}")))
            self._queue.put(("done", owner, token, None))

        running.thread = threading.Thread(target=run, name=f"request-{token}", daemon=True)
        self._requests[(owner, token)] = running
        running.thread.start()

    def cancel_request(self, owner: object, token: int) -> None:
        running = self._requests.get((owner, token))
        if running is not None and not running.cancelled.is_set():
            running.cancelled.set()
            running.executor.cancel()

    def post(self, item: tuple) -> None:
        """Hand `item` to the loop thread's handler."""
        self._queue.put(item)

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(("stop",))

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    # -- the loop ----------------------------------------------------------------------

    def run(self, handle: Callable[[tuple, float], None], deadline: Callable[[], Optional[float]],
            on_time: Callable[[float], None]) -> None:
        """Until :meth:`stop`: give every posted item to `handle`, and fire timers."""
        while not self._stop.is_set():
            due = deadline()
            timeout = None if due is None else max(0.0, due - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            now = time.monotonic()
            if item is not None:
                if item[0] == "stop":
                    break
                self._dispatch(item, handle, now)
            on_time(now)

    def _dispatch(self, item: tuple, handle: Callable[[tuple, float], None], now: float) -> None:
        if item[0] == "done":
            self._requests.pop((item[1], item[2]), None)
            return
        handle(item, now)
        if item[0] == "port":
            self._port_credits[item[1]].release()
        if item[0] == "event" and isinstance(item[3], (BodyChunk, Progress)):
            running = self._requests.get((item[1], item[2]))
            if running is not None:
                running.credits.release()

