"""The loop's trims keep its guarantees: a timer set while handling bytes fires (the deadline is
asked again after the sides were given something), and large pty reads lose and repeat nothing."""
from __future__ import annotations

import os
import select
import threading
import time

from bridge.io.loop import Loop
from bridge.io.ports import READ_SIZE, PtyPort, open_host_end


def test_a_timer_set_while_handling_bytes_fires(tmp_path):
    port = PtyPort(str(tmp_path / "p.pty"))
    far = open_host_end(str(tmp_path / "p.pty"))
    loop = Loop()
    due: list[float] = []
    fired: list[float] = []

    def handle(item: tuple, now: float) -> None:
        if item[0] == "port" and item[2] and not due:
            due.append(now + 0.05)

    def on_time(now: float) -> None:
        fired.append(now)
        loop.stop()

    loop.read_port(port, "p")
    runner = threading.Thread(target=loop.run, args=(handle, lambda: due[0] if due else None, on_time), daemon=True)
    runner.start()
    try:
        far.write(b"AT\r")
        runner.join(10)
        assert not runner.is_alive(), "the timer set in handle() never fired"
        assert fired and fired[0] >= due[0]
    finally:
        loop.stop()
        runner.join(5)
        far.close()
        port.close()


def test_buffered_pty_reads_deliver_every_byte_once_in_large_blocks(tmp_path):
    port = PtyPort(str(tmp_path / "p.pty"))
    far = open_host_end(str(tmp_path / "p.pty"), timeout=None)
    port.start_buffered(lambda: None)
    payload = os.urandom(300_000)
    writer = threading.Thread(target=far.write, args=(payload,), daemon=True)
    writer.start()
    received = bytearray()
    try:
        deadline = time.monotonic() + 30
        while len(received) < len(payload) and time.monotonic() < deadline:
            select.select([port.fileno()], [], [], 5)
            data = port.read_ready()
            if data:
                assert len(data) <= READ_SIZE
                received += data
        assert bytes(received) == payload
        assert port.read_ready() is None  # drained: nothing, not end of file
    finally:
        writer.join(5)
        far.close()
        port.close()
