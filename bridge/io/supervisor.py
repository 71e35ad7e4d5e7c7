"""Keeping a port open: when it fails (a module unplugged, a USB reset, an emulator restarted, a
pty reopened) the port is given up and opened again from its spec -- the same path, device or
URL -- with bounded back-off.  Sans-I/O about time: the owner asks for the next attempt's
deadline and calls :meth:`PortKeeper.attempt` when it is due; nothing sleeps."""
from __future__ import annotations

import sys
from typing import Callable, Optional, TextIO

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

    def attempt(self, loop: Loop, now: float) -> bool:
        """Try to open the port again (its attempt is due): True when it is open and read."""
        if self._due is None or now < self._due or self.reopen is None:
            return False
        self._attempts += 1
        try:
            port = self.reopen()
        except Exception as exc:  # not there (yet): SerialException, OSError, ...
            self._delay = min(self._delay * 2, MAX_DELAY)
            self._due = now + self._delay
            if self._attempts == 1 or self._delay == MAX_DELAY and self._attempts % 10 == 0:
                self.say(f"{self.tag} port not back yet ({_short(exc)}); next attempt in {self._delay:.1f} s")
            return False
        self.port = port
        self.lost = False
        self._due = None
        loop.read_port(port, self.tag)
        self.say(f"{self.tag} port {port.name} reopened after {self._attempts} attempt(s)")
        return True

    def say(self, text: str) -> None:
        try:
            print(f"atbridge: {text}", file=self.log, flush=True)
        except (OSError, ValueError):
            pass


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
