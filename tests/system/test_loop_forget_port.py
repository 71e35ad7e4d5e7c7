"""Loop.forget_port: the one way to stop the loop reading and writing a port (the supervisor gives
a lost port up with it).  A port read by a thread (rfc2217://) may still deliver after that -- its
reader wakes when the port closes and posts b"" -- and that late b"" must not reach the handler:
under the same tag it would end the port reopened meanwhile."""
from __future__ import annotations

import io
import os
import queue
import threading
from typing import Callable, Optional

import pytest

from bridge.io.supervisor import PortKeeper
from bridge.io.loop import Loop
from bridge.io.ports import PtyPort

pytestmark = pytest.mark.timeout(30)


class ThreadedPort:
    """A port without a descriptor: read() blocks until the test feeds it (b"": closed)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.inbox: "queue.Queue[bytes]" = queue.Queue()
        self.written = bytearray()
        self.closed = False

    def fileno(self) -> int:
        return -1

    def read(self) -> bytes:
        return self.inbox.get()

    def read_ready(self) -> Optional[bytes]:  # pragma: no cover - never called without a descriptor
        return None

    def start_buffered(self, wake: Callable[[], None]) -> None:
        pass

    def pending(self) -> int:
        return 0

    def write(self, data: bytes) -> None:
        self.written += data

    def write_ready(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class Running:
    """A Loop run in a thread; `calls` runs a function in the loop thread (as the runners do)."""

    def __init__(self) -> None:
        self.loop = Loop()
        self.items: "queue.Queue[tuple]" = queue.Queue()
        self.thread = threading.Thread(target=self.loop.run, args=(self._handle, lambda: None, lambda now: None))
        self.thread.start()

    def _handle(self, item: tuple, now: float) -> None:
        if item[0] == "call":
            item[1]()
            self.items.put(("called",))
        else:
            self.items.put(item)

    def in_loop(self, function: Callable[[], None]) -> None:
        self.loop.post(("call", function))
        assert self.items.get(timeout=5) == ("called",)

    def next(self) -> tuple:
        return self.items.get(timeout=5)

    def nothing_more(self) -> bool:
        self.in_loop(lambda: None)  # everything posted before this call has been handled
        return self.items.empty()

    def stop(self) -> None:
        self.loop.stop()
        self.thread.join(5)


@pytest.fixture
def running():
    run = Running()
    yield run
    run.stop()


def test_a_forgotten_threaded_port_delivers_nothing_more(running):
    old = ThreadedPort("rfc2217://old")
    running.in_loop(lambda: running.loop.read_port(old, "module"))
    old.inbox.put(b"before")
    assert running.next() == ("port", "module", b"before")
    running.in_loop(lambda: running.loop.forget_port(old))
    new = ThreadedPort("rfc2217://new")
    running.in_loop(lambda: running.loop.read_port(new, "module"))  # reopened under the same tag
    old.inbox.put(b"late bytes")
    old.inbox.put(b"")  # its reader wakes as the old port closes
    new.inbox.put(b"fresh")
    assert running.next() == ("port", "module", b"fresh")
    assert running.nothing_more()  # neither the late bytes nor the late b"" of the old port


def test_a_forgotten_descriptor_port_is_no_longer_read(running, tmp_path):
    port = PtyPort(str(tmp_path / "p.pty"))
    other = ThreadedPort("other")
    running.in_loop(lambda: running.loop.read_port(port, "host"))
    running.in_loop(lambda: running.loop.read_port(other, "module"))
    slave = os.open(port.slave_name, os.O_RDWR | os.O_NOCTTY)
    try:
        os.write(slave, b"AT\r")
        assert running.next() == ("port", "host", b"AT\r")
        running.in_loop(lambda: running.loop.forget_port(port))
        os.write(slave, b"AT+CSQ\r")
        running.in_loop(port.close)  # closing a forgotten port under the loop: no selector error
        other.inbox.put(b"still served")
        assert running.next() == ("port", "module", b"still served")
        assert running.nothing_more()
    finally:
        os.close(slave)


def test_the_supervisor_gives_a_lost_port_up_through_the_loop(running):
    """PortKeeper: lost (its reader said b""), given up, reopened from its spec, read again."""
    old, new = ThreadedPort("rfc2217://farm:7000"), ThreadedPort("rfc2217://farm:7000")
    log = io.StringIO()
    keeper = PortKeeper("module", old, lambda: new, log=log)
    running.in_loop(lambda: running.loop.read_port(old, "module"))
    old.inbox.put(b"")
    assert running.next() == ("port", "module", b"")
    running.in_loop(lambda: keeper.give_up(running.loop, 0.0))
    assert old.closed and keeper.lost
    running.in_loop(lambda: keeper.attempt(running.loop, keeper.next_deadline()))
    reopened = running.next()  # the open ran in a thread of its own; its outcome comes back through the loop
    assert reopened == ("reopened", "module", new) and keeper.lost
    running.in_loop(lambda: keeper.opened(running.loop, new, 1.0))
    assert keeper.port is new and not keeper.lost
    new.inbox.put(b"+CSQ: 25,99\r\n")
    assert running.next() == ("port", "module", b"+CSQ: 25,99\r\n")
    assert running.nothing_more()
    assert log.getvalue().count("lost") == 1 and "reopened after 1 attempt(s)" in log.getvalue()
