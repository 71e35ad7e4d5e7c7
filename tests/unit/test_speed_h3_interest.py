"""The loop works out what epoll waits for only when a port's level of unsent bytes changes (none /
some / over OUT_HIGH / OUT_HARD or more) or a port comes, goes or ends.  Whatever sequence of
counts the ports go through, what it waits for is what the full recomputation of every turn gave:
writability where bytes wait, no reads of other ports while one is over OUT_HIGH, none of that port
either from OUT_HARD on."""
from __future__ import annotations

import contextlib
import random
import select
import socket
from typing import Callable, Iterator, Optional

import pytest

from bridge.io.loop import OUT_HARD, OUT_HIGH, Loop, _Source


class CountedPort:
    """A port whose unsent count the test sets; its descriptor is one end of a socket pair."""

    def __init__(self, name: str, descriptor: bool = True) -> None:
        self.name = name
        self.sock, self.peer = socket.socketpair()
        self.descriptor = descriptor
        self.unsent = 0
        self.closed = False

    def fileno(self) -> int:
        return self.sock.fileno() if self.descriptor else -1

    def read(self) -> bytes:  # a threaded reader: blocks until the test closes the peer
        return self.sock.recv(65536)

    def read_ready(self) -> Optional[bytes]:
        return b""

    def start_buffered(self, wake: Callable[[], None]) -> None:
        pass

    def pending(self) -> int:
        return self.unsent

    def write(self, data: bytes) -> None:
        pass

    def write_ready(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True
        self.peer.close()
        self.sock.close()


def expected(sources: list[_Source]) -> tuple[Optional[_Source], dict[int, int]]:
    """The full recomputation (the loop's behaviour before it kept levels): first port over
    OUT_HIGH backs up; each port with a descriptor waits for what it needs."""
    pendings = [source.port.pending() for source in sources]
    backed_up = next((s for s, p in zip(sources, pendings) if p > OUT_HIGH), None)
    events = {}
    for source, pending in zip(sources, pendings):
        if source.fd < 0:
            continue
        wanted = select.EPOLLOUT if pending else 0
        if not source.eof and (backed_up is None or (backed_up is source and pending < OUT_HARD)):
            wanted |= select.EPOLLIN
        events[source.fd] = wanted
    return backed_up, events


def assert_as_recomputed(loop: Loop) -> None:
    """What epoll waits for, and the loop's back-pressure, are what a full recomputation gives."""
    backed_up, events = expected(loop._sources)
    assert loop._backed_up is backed_up
    assert {s.fd: s.events for s in loop._sources if s.fd >= 0} == events
    assert loop._by_fd == {s.fd: s for s in loop._sources if s.fd >= 0 and s.events}


@contextlib.contextmanager
def three_ports() -> Iterator[tuple[Loop, list[CountedPort]]]:
    """A loop reading two descriptor ports and one without a descriptor; all closed after."""
    loop = Loop()
    ports = [CountedPort("a"), CountedPort("b"), CountedPort("c", descriptor=False)]
    try:
        for tag, port in zip("abc", ports):
            loop.read_port(port, tag)
        yield loop, ports
    finally:
        loop.close()
        for port in ports:
            port.close()


def any_count(rng: random.Random) -> int:
    """A count of unsent bytes: mostly one at a level's edge, else any up to twice OUT_HARD."""
    return rng.choice(COUNTS) if rng.random() < 0.7 else rng.randrange(0, 2 * OUT_HARD)


COUNTS = (0, 1, 4095, OUT_HIGH - 1, OUT_HIGH, OUT_HIGH + 1, OUT_HARD - 1, OUT_HARD, OUT_HARD + 1, 10 * OUT_HARD)


@pytest.mark.parametrize("seed", range(20))
def test_levels_give_what_the_full_recomputation_gave(seed):
    rng = random.Random(seed)
    with three_ports() as (loop, ports):
        for _ in range(300):
            port = rng.choice(ports)
            move = rng.random()
            if move < 0.05:
                source = next((s for s in loop._sources if s.port is port), None)
                if source is not None and source.fd >= 0:
                    source.eof = True  # what _ready() does on b""
                    loop._dirty = True
            elif move < 0.08 and len(loop._sources) > 1:
                loop.forget_port(port)
            elif move < 0.11 and all(s.port is not port for s in loop._sources):
                loop.read_port(port, port.name)  # back, as the supervisor reopens it
            else:
                port.unsent = any_count(rng)
            loop._update_interest()
            assert_as_recomputed(loop)


def test_a_count_that_moves_within_its_level_changes_nothing(monkeypatch):
    loop = Loop()
    port = CountedPort("a")
    try:
        loop.read_port(port, "a")
        port.unsent = 10
        loop._update_interest()
        assert loop._sources[0].events == select.EPOLLIN | select.EPOLLOUT
        calls = []
        monkeypatch.setattr(loop, "_register", lambda source, events: calls.append(events))
        for unsent in (1, 5000, OUT_HIGH, 7):
            port.unsent = unsent
            loop._update_interest()
        assert calls == []
        port.unsent = 0
        loop._update_interest()
        assert calls == [select.EPOLLIN]
    finally:
        loop.close()
        port.close()
