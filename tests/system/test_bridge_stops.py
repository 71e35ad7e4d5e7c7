"""SIGINT and SIGTERM stop a busy `atbridge bridge` within 2 s, whatever its ports are doing (issue
10), as a user runs it: both directions, while AT+CSQ round trips flow, while the firmware does not
read, and just after it closed its end -- benchmarks/stop_stress.py at CI size (full size: 300
cycles, under load: python benchmarks/stop_stress.py --cycles 300 --hog 2).  And while its
rfc2217:// module is being reopened from a remote that came back mute (it accepts the connection
and never negotiates: pyserial waits 3 s for it), which once held the loop thread."""
from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from support.ser2net import SER2NET_CONFIG, connectable

SPEC = importlib.util.spec_from_file_location("atbridge_stop_stress",
                                              Path(__file__).resolve().parents[2] / "benchmarks" / "stop_stress.py")
stress = sys.modules.setdefault(SPEC.name, importlib.util.module_from_spec(SPEC))
if not hasattr(stress, "run"):
    SPEC.loader.exec_module(stress)

CYCLES = 24  # every direction x signal x what the firmware does, twice


@pytest.mark.timeout(240)
def test_a_busy_bridge_stops_within_2_s_of_each_signal():
    result = stress.run(CYCLES, limit=10.0, log=lambda *args, **kwargs: None)
    assert len(result.times) == CYCLES and result.round_trips > CYCLES
    assert not result.failures, "\n\n".join(result.failures[:3])
    assert max(result.times) < stress.STOP_GOAL


@pytest.fixture
def mute_remote(tmp_path):
    """An rfc2217:// module (ser2net in front of an emulator) whose remote can be replaced by one
    that accepts connections and never answers: yields (URL, replace())."""
    if shutil.which("ser2net") is None:
        if os.environ.get("CI"):
            pytest.fail("ser2net is not installed although tools/test-deps.sh ran")
        pytest.skip("ser2net is not installed (tools/test-deps.sh installs it)")
    emulator = stress.Process(["emulate", "onemo", "--port", f"pty:{tmp_path / 'onemo.pty'}"])
    emulator.wait_ready()
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    config = tmp_path / "ser2net.yaml"
    config.write_text(SER2NET_CONFIG.format(port=port, device=tmp_path / "onemo.pty"))
    daemon = subprocess.Popen(["ser2net", "-n", "-u", "-c", str(config), "-P", str(tmp_path / "ser2net.pid")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mute: list[socket.socket] = []
    accepted = threading.Event()

    def replace() -> threading.Event:
        daemon.kill()
        daemon.wait(5)
        server = socket.create_server(("127.0.0.1", port))
        mute.append(server)

        def accept() -> None:
            while True:
                try:
                    mute.append(server.accept()[0])
                except OSError:
                    return
                accepted.set()
        threading.Thread(target=accept, daemon=True).start()
        return accepted

    try:
        connectable(port)
        yield f"rfc2217://127.0.0.1:{port}", replace
    finally:
        if daemon.poll() is None:
            daemon.kill()
        daemon.wait(5)
        for sock in mute:
            sock.close()
        emulator.stop(signal.SIGINT, 10)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_bridge_reopening_a_mute_rfc2217_remote_stops_within_2_s(mute_remote, tmp_path, sig):
    url, replace = mute_remote
    link = tmp_path / "host.pty"
    bridge = stress.Process(["bridge", "--host", f"pty:{link}", "--host-dialect", "neoway",
                             "--module", url, "--module-dialect", "onemo"])
    try:
        bridge.wait_ready()
        firmware = stress.Firmware(link)
        assert firmware.round_trip(), bridge.stderr()
        firmware.close()
        accepted = replace()
        assert accepted.wait(10), "the bridge did not try to reopen its module port"  # an attempt is negotiating now
    finally:
        took, status = bridge.stop(sig, 10.0)
    assert status == 0, bridge.stderr()
    assert "module port" in bridge.stderr() and "lost; reopening" in bridge.stderr()
    assert took < stress.STOP_GOAL, f"stopped {took:.2f} s after {signal.Signals(sig).name}"
