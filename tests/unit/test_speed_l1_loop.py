"""The loop's cheaper turns give what the full turn gave.

- After a turn that only wrote bytes out, the loop looks at the counts of the ports written, not at
  every port's: whatever counts those ports move to, what epoll waits for is what the full
  recomputation gives (writability where bytes wait, back-pressure over OUT_HIGH and OUT_HARD).
- A port that takes a write in part keeps the rest of a bytes object as a view instead of a copy:
  whatever sizes are written, as bytes or as bytearrays changed right after the call, and however
  little the far end takes at a time, every byte arrives once and in order, and pending() counts
  exactly the bytes the port still holds.
"""
from __future__ import annotations

import random
import select
import socket

import pytest

from bridge.io.loop import OUT_HIGH, Loop
from bridge.io.ports import _DescriptorIO
from tests.unit.test_speed_h3_interest import (COUNTS, CountedPort, any_count, assert_as_recomputed,
                                              three_ports)


@pytest.mark.parametrize("seed", range(20))
def test_looking_at_the_written_ports_alone_gives_the_full_recomputation(seed):
    rng = random.Random(seed)
    with three_ports() as (loop, ports):
        loop._update_interest()
        by_fd = {port.fileno(): port for port in ports[:2]}
        for _ in range(300):
            # a turn that wrote out the ports epoll said were writable: only their counts move
            ready = [(fd, select.EPOLLOUT) for fd, port in by_fd.items()
                     if loop._by_fd.get(fd) is not None and loop._by_fd[fd].events & select.EPOLLOUT
                     and rng.random() < 0.7]
            for fd, _ in ready:
                port = by_fd[fd]
                port.unsent = rng.choice([0, 0, port.unsent // 2, max(0, port.unsent - 4096)] +
                                         [c for c in COUNTS if c <= port.unsent])
            loop._update_written(ready)
            assert_as_recomputed(loop)
            # now and then a turn that gave the sides something: any port's count moves
            if rng.random() < 0.3:
                for port in ports:
                    if rng.random() < 0.5:
                        port.unsent = any_count(rng)
                loop._update_interest()


def test_a_turn_that_wrote_nothing_looks_at_nothing(monkeypatch):
    loop = Loop()
    port = CountedPort("a")
    try:
        loop.read_port(port, "a")
        port.unsent = OUT_HIGH + 1
        loop._update_interest()
        calls = []
        monkeypatch.setattr(loop, "_wait_for", lambda backed_up: calls.append(backed_up))
        loop._update_written([])
        loop._update_written([(port.fileno(), select.EPOLLIN)])
        assert calls == []
    finally:
        loop.close()
        port.close()


class SocketPort(_DescriptorIO):
    """The descriptor I/O of a port over one end of a socket pair with small buffers."""

    def __init__(self, sock: socket.socket) -> None:
        self.name = "socket"
        self.sock = sock
        self._init_io(sock.fileno())

    def close(self) -> None:
        self._close_io()


def _pair() -> tuple[socket.socket, socket.socket]:
    near, far = socket.socketpair()
    near.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    far.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    far.setblocking(False)
    return near, far


def _take(far: socket.socket, most: int) -> bytes:
    try:
        return far.recv(most)
    except BlockingIOError:
        return b""


@pytest.mark.parametrize("seed", range(12))
def test_partial_writes_keep_every_byte_in_order(seed):
    rng = random.Random(seed)
    near, far = _pair()
    port = SocketPort(near)
    port.start_buffered(lambda: None)
    sent, received = bytearray(), bytearray()
    try:
        for _ in range(400):
            move = rng.random()
            if move < 0.35:
                size = rng.choice((1, 7, 4095, 4096, 10_000, 34_000, rng.randrange(1, 100_000)))
                chunk = rng.randbytes(size)
                if rng.random() < 0.3:  # a bytearray the caller changes right after the write
                    mutable = bytearray(chunk)
                    port.write(mutable)
                    mutable[:] = b"!" * len(mutable)
                elif rng.random() < 0.1:
                    port.write(memoryview(chunk))
                else:
                    port.write(chunk)
                sent += chunk
            elif move < 0.7:
                port.write_ready()
            else:
                received += _take(far, rng.choice((1, 100, 4096, 65536)))
            # what the port holds is what was sent but is neither received nor in the kernel
            assert 0 <= port.pending() <= len(sent) - len(received)
            queued = port.pending()
            assert queued == 0 or bytes(port._rest) + bytes(port._out) == bytes(sent[len(sent) - queued:])
        for _ in range(10_000):
            port.write_ready()
            data = _take(far, 65536)
            received += data
            if not port.pending() and not data:
                break
        assert port.pending() == 0
        assert bytes(received) == bytes(sent)
    finally:
        port.close()
        near.close()
        far.close()


def test_a_write_taken_in_part_is_not_copied():
    near, far = _pair()
    port = SocketPort(near)
    port.start_buffered(lambda: None)
    try:
        data = bytes(200_000)
        port.write(data)
        assert 0 < port.pending() < len(data)
        assert port._rest.obj is data and not port._out  # a view of the caller's bytes
        port.write(b"tail")
        assert port._out == b"tail"  # behind the rest
        port.close()
        assert port.pending() == 0
    finally:
        near.close()
        far.close()
