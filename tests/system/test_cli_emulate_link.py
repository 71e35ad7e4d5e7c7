"""`atbridge emulate neoway --link up|down`: the emulated N58's data link at power-on, as
firmware reads it with AT+XIIC? ("+XIIC:    <state>,<ip>", RT-Thread at_device n58 parses
"+XIIC:%*[^,],%s").  Run as a user runs it."""
import re
import signal
import subprocess
import sys

import pytest

from bridge.io.ports import open_host_end


def _emulate(tmp_path, *options):
    link = str(tmp_path / "n58.pty")
    process = subprocess.Popen([sys.executable, "-m", "bridge.app.cli", "emulate", "neoway", "--port", f"pty:{link}", *options],
                               stderr=subprocess.PIPE, text=True)
    banner = process.stderr.readline()
    return process, banner, link


def _xiic(link: str) -> bytes:
    port = open_host_end(link)
    try:
        port.write(b"ATE0\r")
        port.read_until(b"OK\r\n")
        port.write(b"AT+XIIC?\r")
        return port.read_until(b"OK\r\n")
    finally:
        port.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("option,state", [((), "0"), (("--link", "down"), "0"), (("--link", "up"), "1")])
def test_link_state_at_power_on(tmp_path, option, state):
    process, banner, link = _emulate(tmp_path, *option)
    try:
        assert "Ctrl-C stops" in banner, banner
        answer = _xiic(link)
        found = re.search(rb"\+XIIC:\s*(\d),\s*([0-9.]+)\r\n", answer)
        assert found and found.group(1) == state.encode(), answer
        assert (found.group(2) != b"0.0.0.0") == (state == "1")
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_link_is_refused_for_onemo(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bridge.app.cli", "emulate", "onemo", "--port", f"pty:{tmp_path}/x", "--link", "up"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--link applies to the neoway emulator only" in result.stderr


def test_help_documents_the_defaults():
    emulate = subprocess.run([sys.executable, "-m", "bridge.app.cli", "emulate", "--help"], capture_output=True, text=True, timeout=60).stdout
    assert "--link [up|down]" in emulate and "default: down" in emulate
    bridge = subprocess.run([sys.executable, "-m", "bridge.app.cli", "bridge", "--help"], capture_output=True, text=True, timeout=60).stdout
    assert "--fs-root DIRECTORY" in bridge and "temporary directory" in " ".join(bridge.split())
