"""Keeping a port open: when it fails (a module unplugged, a USB reset, an emulator restarted, a
pty reopened) the port is given up and opened again from its spec -- the same path, device or
URL -- with bounded back-off.  Sans-I/O about time: the owner asks for the next attempt's
deadline and calls :meth:`PortKeeper.attempt` when it is due; nothing sleeps.  The open itself
runs in a thread of its own (an rfc2217:// remote that accepts but does not negotiate holds it
for seconds): its outcome comes back through the loop as ("reopened", tag, port or exception),
which the owner hands to :meth:`PortKeeper.opened`."""
from __future__ import annotations

import sys
import threading
from typing import Callable, Optional, TextIO, Union

from bridge.io.loop import Loop
from bridge.io.ports import Port

FIRST_DELAY = 0.1  # seconds before the first attempt to reopen
MAX_DELAY = 2.0  # the back-off doubles up to this


class PortKeeper:
    """One port of a runner (`tag` "host" or "module") and how to open it again."""

    def __init__(self, tag: str, port: Port, reopen: Optional[Callable[[], Port]],
                 log: Optional[TextIO] = None) -> None:
        self.tag = tag
        self.port = port
        self.reopen = reopen
        self.log = log if log is not None else sys.stderr
        self.lost = False
        self._delay = FIRST_DELAY
        self._due: Optional[float] = None
        self._attempts = 0

    def next_deadline(self) -> Optional[float]:
        return self._due

    def give_up(self, loop: Loop, now: float) -> None:
        """The port failed: stop reading it, close it, and plan the first attempt to reopen."""
        self.lost = True
        self.say(f"{self.tag} port {self.port.name} lost" + ("; reopening" if self.reopen else ""))
        loop.forget_port(self.port)
        try:
            self.port.close()
        except Exception as exc:  # a port that failed may fail closing too; it is gone either way
            self.say(f"closing {self.tag} port: {exc!r}")
        self._delay = FIRST_DELAY
        self._attempts = 0
        self._due = now + self._delay if self.reopen else None

    def attempt(self, loop: Loop, now: float) -> None:
        """Start opening the port again when its attempt is due, in a thread: the loop -- the other
        port, the timers, a SIGINT -- never waits for an open."""
        if self._due is None or now < self._due or self.reopen is None:
            return
        self._due = None  # no other attempt until this one's outcome is in
        self._attempts += 1
        reopen, tag = self.reopen, self.tag

        def run() -> None:
            try:
                result: Union[Port, Exception] = reopen()
            except Exception as exc:  # not there (yet): SerialException, OSError, ...
                result = exc
            if loop.stopped:  # no one takes it any more
                if not isinstance(result, Exception):
                    result.close()
                return
            loop.post(("reopened", tag, result))

        threading.Thread(target=run, name=f"reopen-{tag}", daemon=True).start()

    def opened(self, loop: Loop, result: Union[Port, Exception], now: float) -> bool:
        """An attempt's outcome (in the loop thread): True when the port is open and read."""
        if isinstance(result, Exception):
            self._delay = min(self._delay * 2, MAX_DELAY)
            self._due = now + self._delay
            if self._attempts == 1 or self._delay == MAX_DELAY and self._attempts % 10 == 0:
                self.say(f"{self.tag} port not back yet ({_short(result)}); next attempt in {self._delay:.1f} s")
            return False
        self.port = result
        self.lost = False
        loop.read_port(result, self.tag)
        self.say(f"{self.tag} port {result.name} reopened after {self._attempts} attempt(s)")
        return True

    def say(self, text: str) -> None:
        try:
            print(f"atbridge: {text}", file=self.log, flush=True)
        except (OSError, ValueError):
            pass


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
