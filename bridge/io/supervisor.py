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
        forget_port(loop, self.port)
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


def forget_port(loop: Loop, port: Port) -> None:
    """Stop `loop` reading and writing `port` (before it is closed).  The loop has no call for
    this yet (asked of bridge/io/loop.py's owner); until it has, this reaches into its sources."""
    forget = getattr(loop, "forget_port", None)
    if forget is not None:
        forget(port)
        return
    for source in list(loop._sources):  # noqa: SLF001 -- see the docstring
        if source.port is not port:
            continue
        loop._sources.remove(source)
        if source.fd >= 0 and source.events:
            try:
                loop._selector.unregister(source.fd)
            except (KeyError, ValueError, OSError):
                pass
        source.events = 0
    if loop._backed_up is not None and loop._backed_up.port is port:
        loop._backed_up = None


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
