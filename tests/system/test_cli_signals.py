"""`atbridge emulate` and `atbridge bridge` run until SIGINT or SIGTERM and then exit cleanly."""
import os
import signal
import subprocess
import sys

import pytest

from bridge.io.ports import open_host_end


def _start(args, link):
    process = subprocess.Popen([sys.executable, "-m", "bridge.app.cli", *args], stderr=subprocess.PIPE, text=True)
    banner = process.stderr.readline()  # printed once the port is open
    assert "Ctrl-C stops" in banner, banner
    assert os.path.islink(link)
    return process


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_emulator_stops_cleanly(tmp_path, sig):
    link = str(tmp_path / "onemo.pty")
    process = _start(["emulate", "onemo", "--port", f"pty:{link}"], link)
    port = open_host_end(link)
    port.write(b"AT\r")
    assert port.read_until(b"OK\r\n").endswith(b"OK\r\n")
    port.close()
    process.send_signal(sig)
    assert process.wait(timeout=10) == 0
    assert "emulator stopped" in process.stderr.read()
    assert not os.path.lexists(link)  # the pty link is removed on exit


@pytest.mark.timeout(60)
def test_bridge_stops_cleanly(tmp_path):
    module_link, host_link = str(tmp_path / "module.pty"), str(tmp_path / "host.pty")
    emulator = _start(["emulate", "onemo", "--port", f"pty:{module_link}"], module_link)
    bridge = _start(["bridge", "--host", f"pty:{host_link}", "--host-dialect", "neoway",
                     "--module", module_link, "--module-dialect", "onemo"], host_link)
    port = open_host_end(host_link)
    port.write(b"AT+CSQ\r")
    assert b"+CSQ:" in port.read_until(b"OK\r\n")
    port.close()
    for process in (bridge, emulator):
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    assert not os.path.lexists(host_link) and not os.path.lexists(module_link)
