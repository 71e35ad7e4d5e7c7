"""An RFC 2217 module port whose remote drops (Debian's ser2net on loopback, killed while the bridge
writes to it) is lost the ordinary way: its reads end with b"" (the loop's port-lost path, which
the supervisor turns into "module port ... lost; reopening"), one line goes to the log, and no
pyserial thread dies with a traceback on stderr.  Closing the lost port does not stall the loop."""
from __future__ import annotations

import logging
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from bridge.io.loop import Loop
from bridge.io.ports import PtyPort, SerialPort
from support.ser2net import SER2NET_CONFIG, connectable as _connectable

pytestmark = pytest.mark.timeout(60)
BLOCK = b"AT+CSQ\r" * 9362  # 64 KiB of commands nobody reads


@pytest.fixture
def ser2net(tmp_path):
    """ser2net exposing a pty the test never reads (its writes into it stall); yields
    (rfc2217 URL, the daemon)."""
    if shutil.which("ser2net") is None:
        if os.environ.get("CI"):
            pytest.fail("ser2net is not installed although tools/test-deps.sh ran")
        pytest.skip("ser2net is not installed (tools/test-deps.sh installs it)")
    device = PtyPort(str(tmp_path / "device.pty"))
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    config = tmp_path / "ser2net.yaml"
    config.write_text(SER2NET_CONFIG.format(port=port, device=tmp_path / "device.pty"))
    daemon = subprocess.Popen(["ser2net", "-n", "-u", "-c", str(config), "-P", str(tmp_path / "ser2net.pid")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _connectable(port)
        yield f"rfc2217://127.0.0.1:{port}", daemon, device
    finally:
        if daemon.poll() is None:
            daemon.kill()
        daemon.wait(5)
        device.close()


@pytest.fixture
def thread_errors(monkeypatch):
    """Exceptions that end a thread (what Python prints as "Exception in thread ..." + traceback)."""
    seen: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    return seen


def test_a_dropped_rfc2217_link_is_a_lost_port_and_one_log_line(ser2net, thread_errors, caplog, capfd):
    url, daemon, _ = ser2net
    port = SerialPort(url)
    loop, items = Loop(), queue.Queue()
    calls: "queue.Queue[object]" = queue.Queue()

    def handle(item, now):
        if item[0] == "call":
            item[1]()
        else:
            items.put(item)

    def in_loop(function):
        loop.post(("call", lambda: calls.put(function())))
        return calls.get(timeout=10)

    runner = threading.Thread(target=loop.run, args=(handle, lambda: None, lambda now: None))
    runner.start()
    try:
        with caplog.at_level(logging.WARNING, logger="bridge.io"):
            in_loop(lambda: loop.read_port(port, "module"))
            # 4 MiB at once (past 64 KiB unsent the loop holds posted calls back): ser2net stops
            # taking it, and the writer thread blocks in its send
            in_loop(lambda: [port.write(BLOCK) for _ in range(64)])
            daemon.send_signal(signal.SIGKILL)  # unread data in its socket: the kernel answers with a reset
            daemon.wait(5)
            assert items.get(timeout=20) == ("port", "module", b"")  # the ordinary port-lost path
            port._writer.join(10)  # the writer thread ends (it did by raising, before)
            assert not port._writer.is_alive()
            assert in_loop(port.pending) == 0  # nothing held back for a link that is gone
            in_loop(lambda: port.write(b"AT\r"))  # a write after the loss is dropped, not raised
            started = time.monotonic()
            in_loop(port.close)
            assert time.monotonic() - started < 0.25  # pyserial's close sleeps 0.3 s (and joins up to 7 s)
    finally:
        loop.stop()
        runner.join(5)
        port.close()
    assert thread_errors == []
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bridge.io.")]
    assert len(lines) == 1 and "the port is lost" in lines[0] and "\n" not in lines[0], lines
    assert not [r for r in caplog.records if r.exc_info]
    assert "Traceback" not in capfd.readouterr().err
    assert items.empty()  # b"" once, nothing after it


@pytest.mark.slow
def test_a_remote_that_takes_nothing_for_longer_than_5_s_is_flow_control_not_a_loss(ser2net, thread_errors, caplog):
    """pyserial leaves its 5 s connect timeout on the RFC 2217 socket: a send blocked longer than
    that (ser2net waiting on a slow serial line) failed as if the link had dropped."""
    url, _, device = ser2net
    port = SerialPort(url)
    loop = Loop()
    lost: "queue.Queue[tuple]" = queue.Queue()
    loop.read_port(port, "module")
    runner = threading.Thread(target=loop.run, args=(lambda item, now: lost.put(item), lambda: None, lambda now: None))
    runner.start()
    data = BLOCK * 64
    try:
        port.write(data)  # 4 MiB, taken by the writer thread; nobody reads the device yet
        with pytest.raises(queue.Empty):
            lost.get(timeout=7)  # longer than pyserial's 5 s: still no b"" (the port is not lost)
        received = bytearray()
        deadline = time.monotonic() + 30
        while len(received) < len(data) and time.monotonic() < deadline:  # the device reads again
            if select.select([device.master], [], [], deadline - time.monotonic())[0]:
                received += os.read(device.master, 65536)
        assert bytes(received) == data  # every byte, in order: it was only held back
    finally:
        loop.stop()
        runner.join(5)
        port.close()
    assert thread_errors == [] and not [r for r in caplog.records if r.name.startswith("bridge.io.")]
