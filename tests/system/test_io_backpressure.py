"""A firmware that stops reading: the bridge stops reading only what would feed it (back-pressure,
bounded memory), the other direction still works, nothing is lost once it reads again, and SIGTERM
ends the bridge -- and the emulator -- within 2 s whatever the ports are doing."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time

import pytest

from bridge.io.loop import OUT_HIGH
from bridge.io.ports import PtyPort, open_host_end
from support.servers import BlobServer

URC = b"\r\n+CEREG: 1\r\n"
STALL = 2.0  # seconds the module end's writes must stay blocked to count as back-pressure


class FakeModule(threading.Thread):
    """The module end of the bridge, played by the test: answers OK to every command, records
    what it receives, and on request floods the bridge with URCs until its writes block."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.port = PtyPort(path)
        os.set_blocking(self.port.master, False)
        self.received = bytearray()
        self.changed = threading.Condition()
        self.flooding = False
        self.flooded = 0  # URC bytes the bridge took
        self.stalled = threading.Event()
        self._answers = bytearray()
        self._stop_r, self._stop_w = os.pipe()

    def run(self) -> None:
        master = self.port.master
        while True:
            writing = [master] if self._answers or self.flooding or self.flooded % len(URC) else []
            readable, writable, _ = select.select([master, self._stop_r], writing, [], STALL if self.flooding else None)
            if self._stop_r in readable:
                if os.read(self._stop_r, 1) == b"x":
                    return
                continue  # woken to start flooding
            if self.flooding and not readable and not writable:
                self.flooding = False  # STALL seconds without room: the bridge stopped reading us
                self.stalled.set()
            if master in readable:
                self._receive(os.read(master, 65536))
            if writable:
                self._write(master)

    def _receive(self, data: bytes) -> None:
        self._answers += b"\r\nOK\r\n" * data.count(b"\r")
        with self.changed:
            self.received += data
            self.changed.notify_all()

    def _write(self, master: int) -> None:
        try:
            cut = self.flooded % len(URC)
            if cut:  # a URC cut by a full buffer is completed before anything else
                self.flooded += os.write(master, URC[cut:])
            elif self._answers:
                del self._answers[:os.write(master, self._answers)]
            elif self.flooding:
                self.flooded += os.write(master, URC * 5000)
        except BlockingIOError:
            pass

    def wait_for(self, data: bytes, timeout: float, times: int = 1) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.received.count(data) >= times, timeout)

    def wait_quiet(self, quiet: float, limit: float) -> bool:
        """Until the bridge has sent nothing for `quiet` seconds (its start-up is over)."""
        end = time.monotonic() + limit
        with self.changed:
            while time.monotonic() < end:
                seen = len(self.received)
                if not self.changed.wait_for(lambda: len(self.received) != seen, quiet):
                    return True
        return False

    def flood(self) -> None:
        self.flooding = True
        os.write(self._stop_w, b"f")

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self.join(5)
        self.port.close()


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


@pytest.fixture
def stalled_bridge(tmp_path):
    """A bridge process between a firmware end that never reads and a fake module flooding it
    with URCs, once the flood has backed up to the module end's writes."""
    module = FakeModule(str(tmp_path / "module.pty"))
    module.start()
    host_link = str(tmp_path / "host.pty")
    bridge = subprocess.Popen([sys.executable, "-m", "bridge.app.cli", "bridge", "--host", f"pty:{host_link}",
                               "--host-dialect", "neoway", "--module", str(tmp_path / "module.pty"),
                               "--module-dialect", "onemo"], stderr=subprocess.PIPE, text=True)
    firmware = None
    try:
        assert "Ctrl-C stops" in bridge.stderr.readline()
        firmware = open_host_end(host_link, timeout=10)
        firmware.write(b"ATE0\rAT+CSQ\r")  # passed through once the bridge's start-up is done
        assert firmware.read_until(b"OK\r\n\r\nOK\r\n").endswith(b"OK\r\n\r\nOK\r\n")
        assert module.wait_for(b"AT+CSQ\r", 10)
        assert module.wait_quiet(1.5, 30)  # the bridge's start-up commands are all answered
        module.flood()
        assert module.stalled.wait(60), "the bridge never stopped reading a module whose URCs nobody reads"
        yield bridge, firmware, module
    finally:
        if bridge.poll() is None:
            bridge.kill()
            bridge.wait(5)
        if firmware is not None:
            firmware.close()
        module.close()


@pytest.mark.timeout(120)
def test_a_firmware_that_stops_reading_stalls_only_its_own_direction(stalled_bridge):
    bridge, firmware, module = stalled_bridge
    assert module.flooded > OUT_HIGH  # the bridge took a buffer's worth, then pushed back
    assert _rss_mib(bridge.pid) < 80  # bounded: the rest waits in the module's kernel buffer
    firmware.write(b"AT+CSQ\r")  # the other direction: firmware -> module
    assert module.wait_for(b"AT+CSQ\r", 10, times=2), "a command of the firmware did not reach the module"
    started = time.monotonic()
    bridge.send_signal(signal.SIGTERM)
    bridge.wait(timeout=2)
    assert time.monotonic() - started < 2


@pytest.mark.timeout(120)
def test_nothing_is_lost_when_the_firmware_reads_again(stalled_bridge):
    bridge, firmware, module = stalled_bridge
    firmware.write(b"AT+CSQ\r")
    assert module.wait_for(b"AT+CSQ\r", 10, times=2)
    whole_urcs = module.flooded // len(URC)  # (a URC cut by the full buffer is completed later)
    got = bytearray()
    while got.count(URC) < whole_urcs or b"\r\nOK\r\n" not in got:
        chunk = firmware.read(max(1, firmware.in_waiting))
        assert chunk, f"the firmware end stopped receiving after {len(got)} bytes"
        got += chunk
    # In order, nothing lost nor doubled; the answer to AT+CSQ comes between two URCs.
    urcs = bytes(got).replace(b"\r\nOK\r\n", b"", 1)
    assert urcs == URC * (len(urcs) // len(URC)) and len(urcs) // len(URC) in (whole_urcs, whole_urcs + 1)
    started = time.monotonic()
    bridge.send_signal(signal.SIGINT)
    bridge.wait(timeout=2)
    assert time.monotonic() - started < 2


@pytest.mark.timeout(120)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_emulator_stops_within_2_s_while_its_firmware_does_not_read_a_download(tmp_path, sig):
    link = str(tmp_path / "onemo.pty")
    emulator = subprocess.Popen([sys.executable, "-m", "bridge.app.cli", "emulate", "onemo", "--port", f"pty:{link}"],
                                stderr=subprocess.PIPE, text=True)
    with BlobServer() as server:
        firmware = None
        try:
            assert "Ctrl-C stops" in emulator.stderr.readline()
            firmware = open_host_end(link, timeout=10)
            firmware.write(f'ATE0\rAT+MHTTPCREATE="http://127.0.0.1:{server.port}"\r'.encode())
            assert b"+MHTTPCREATE: 0" in firmware.read_until(b"+MHTTPCREATE: 0\r\n")
            firmware.write(b'AT+MHTTPREQUEST=0,1,0,"/blob/50000000?seed=3"\r')
            assert b'+MHTTPURC: "content"' in firmware.read_until(b'+MHTTPURC: "content"')
            # The firmware reads no more: the emulator's writes fill the pty and must not block it.
            with pytest.raises(subprocess.TimeoutExpired):
                emulator.wait(timeout=1)
            started = time.monotonic()
            emulator.send_signal(sig)
            emulator.wait(timeout=2)
            assert time.monotonic() - started < 2
        finally:
            if emulator.poll() is None:
                emulator.kill()
                emulator.wait(5)
            if firmware is not None:
                firmware.close()
