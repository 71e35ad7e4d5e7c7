"""read_ready() returns a short first read at once and reads on after a full one, a few reads of a
pty at the most (PTY_BATCH, so that the loop passes bytes on while the far end refills): whatever
sizes the far end writes in, every byte arrives once and in order, nothing waiting reads as None,
and a far end that is gone reads as b""."""
from __future__ import annotations

import os
import random
import select
import threading
import time

import pytest

from bridge.io.ports import PTY_BATCH, PTY_READ, READ_SIZE, PtyPort, open_host_end

pytestmark = pytest.mark.timeout(60)


def _receive(port: PtyPort, size: int) -> bytes:
    received = bytearray()
    deadline = time.monotonic() + 30
    while len(received) < size and time.monotonic() < deadline:
        select.select([port.fileno()], [], [], 5)
        data = port.read_ready()
        if data:
            assert len(data) <= PTY_BATCH
            received += data
    return bytes(received)


@pytest.mark.parametrize("seed", range(3))
def test_random_write_sizes_arrive_whole_and_in_order(tmp_path, seed):
    rng = random.Random(seed)
    port = PtyPort(str(tmp_path / "p.pty"))
    far = open_host_end(str(tmp_path / "p.pty"), timeout=None)
    port.start_buffered(lambda: None)
    sizes = [rng.choice((1, 2, PTY_READ - 1, PTY_READ, PTY_READ + 1, READ_SIZE, rng.randrange(1, 3 * READ_SIZE)))
             for _ in range(60)]
    payload = os.urandom(sum(sizes))

    def write() -> None:
        offset = 0
        for size in sizes:
            far.write(payload[offset:offset + size])
            offset += size

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        assert _receive(port, len(payload)) == payload
        assert port.read_ready() is None  # drained: nothing, not end of file
    finally:
        writer.join(5)
        far.close()
        port.close()


def test_a_batch_never_reads_for_less_than_a_full_read(tmp_path, monkeypatch):
    """After full reads, read_ready() stops where a full read no longer fits in PTY_BATCH: with
    4 x 4095 bytes taken, a fifth read for the 4 left over would be one more syscall (and one more
    refill of the pty's line discipline) for 4 bytes, and misalign every read after it."""
    asked = []
    real_read = os.read

    def counted_read(fd: int, size: int) -> bytes:
        if fd == port.fileno():  # os.read is the os module's: other threads' reads are not the port's
            asked.append(size)
        return real_read(fd, size)

    port = PtyPort(str(tmp_path / "p.pty"))
    far = open_host_end(str(tmp_path / "p.pty"), timeout=None)
    port.start_buffered(lambda: None)
    payload = os.urandom(2 * 1024 * 1024)
    writer = threading.Thread(target=far.write, args=(payload,), daemon=True)
    writer.start()
    monkeypatch.setattr("bridge.io.ports.os.read", counted_read)
    try:
        assert _receive(port, len(payload)) == payload
        assert min(asked) >= PTY_READ, sorted(set(asked))[:5]
        assert len(asked) >= len(payload) // PTY_BATCH  # reads were counted at all
    finally:
        monkeypatch.undo()
        writer.join(5)
        far.close()
        port.close()


def test_a_far_end_gone_reads_as_end_of_file_after_its_bytes(tmp_path):
    port = PtyPort(str(tmp_path / "p.pty"))
    far = open_host_end(str(tmp_path / "p.pty"), timeout=None)
    port.start_buffered(lambda: None)
    try:
        assert port.read_ready() is None
        far.write(b"AT\r")
        assert _receive(port, 3) == b"AT\r"
        far.close()
        os.close(port._slave)  # the last slave descriptor gone: the master's reads fail (EIO)
        select.select([port.fileno()], [], [], 5)
        assert port.read_ready() == b""
    finally:
        port.close()
