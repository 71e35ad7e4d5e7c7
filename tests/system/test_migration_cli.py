"""The migration commands as a user runs them, as real processes on real ptys: `atbridge tap`
between a firmware script from tests/firmware/ and the emulator of its dialect, then `atbridge check`
of the capture and `atbridge replay --server-map` through the bridge to the other dialect."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.registry import make_module_side
from bridge.io.emulator import ModuleRunner
from bridge.app.migration.check import CARRIED, DIFFERENT
from bridge.device.hosts import HostsResolver
from bridge.device.fs import ModuleFileSystem
from bridge.net import NetworkExecutor
from bridge.io.ports import PtyPort, open_host_end
from support.firmware import Replay, RouteServer, check_received, hosts_map, load_scripts, other_dialect

pytestmark = pytest.mark.timeout(120)
SCRIPTS = dict(load_scripts())
# One script per dialect: the firmware's own sequence, byte for byte.
TAPPED = {"neoway": "yatt_stm32_n58_v1_get_head", "onemo": "maysrp_micropython_ml307_readme"}
ATBRIDGE = [sys.executable, "-m", "bridge.app.cli"]
# Every form each tapped script uses, with the status its row of the compatibility tables gives
# (README, "Compatibility"): the N58 script's HTTPSETUP is partly mapped (OneMO has no connect-only
# command), the ML307 script's MHTTPCONTENT is limited to 2048 bytes on a Neoway module; 3GPP
# basics and their URCs pass through.
EXPECTED = {
    "neoway": {**{form: CARRIED for form in (
        "AT", "ATE0", "AT+CGSN", "AT+CGMR", "AT+CPIN?", "AT+CIMI", "AT+CSQ", "AT+CREG=2", "AT+CREG?", "AT+CREG=0",
        "AT+CGATT?", 'AT+CGDCONT=<cid>,"IP",<apn>', "AT+XGAUTH=<cid>,1,<name>,<pwd>", "AT+XIIC=1", "AT+XIIC?",
        "AT+HTTPPARA=url,<value>", "AT+HTTPPARA=port,<value>", "AT+HTTPACTION=0", "AT+HTTPACTION=1",
        "+CREG", "+HTTPRECV", "+HTTPCLOSED")},
        "AT+HTTPSETUP": DIFFERENT},
    "onemo": {**{form: CARRIED for form in (
        "AT+MHTTPCREATE=<host>", "AT+MHTTPREQUEST=<httpid>,1,<length>,<path>", "AT+MHTTPHEADER=<httpid>",
        "AT+MHTTPHEADER=<httpid>,1,<length>,<header>", "AT+MHTTPHEADER=<httpid>,0,<length>,<header>",
        "AT+MHTTPREQUEST=<httpid>,2,<length>,<path>", '+MHTTPURC "header"', '+MHTTPURC "content"', "+CME ERROR: 3")},
        "AT+MHTTPCONTENT=<httpid>,0,<length>,<data>": DIFFERENT},
}


def _start(args: list[str]) -> subprocess.Popen:
    """Start an atbridge process and wait for its banner (it has opened its ports by then)."""
    process = subprocess.Popen(ATBRIDGE + args, stderr=subprocess.PIPE, text=True)
    banner = process.stderr.readline()
    assert banner.startswith("atbridge:"), banner
    return process


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0


def _tap(script: dict, workdir: Path, capture: Path, variables: dict[str, str]) -> None:
    dialect = script["dialect"]
    fs = ModuleFileSystem(str(workdir / "fs"))
    resolver = HostsResolver(hosts_map(script))
    executor = NetworkExecutor(resolver, fs)
    module_pty, firmware_pty = str(workdir / "module.pty"), str(workdir / "firmware.pty")
    emulator = ModuleRunner(make_module_side(dialect, fs, resolver=resolver), PtyPort(module_pty), executor.single).start()
    tap = _start(["tap", "--host", f"pty:{firmware_pty}", "--module", module_pty, "--dialect", dialect, "-o", str(capture)])
    port = open_host_end(firmware_pty)
    try:
        Replay(port, variables).run(script["steps"])
    finally:
        port.close()
        _stop(tap)
        emulator.stop()
        executor.close()
    assert not os.path.lexists(firmware_pty)


@pytest.mark.parametrize("dialect", sorted(TAPPED))
def test_tap_check_and_replay_a_corpus_script(tmp_path, dialect):
    script = SCRIPTS[TAPPED[dialect]]
    assert script["dialect"] == dialect
    capture = tmp_path / "capture.jsonl"
    variables: dict[str, str] = {}
    with RouteServer(script["server"].get("routes", []), variables) as server:
        variables["port"] = str(server.port)
        _tap(script, tmp_path, capture, variables)
        check_received(script["server"]["expect"], server.received, variables)  # the tap changed nothing
        server.received.clear()

        report = subprocess.run(ATBRIDGE + ["check", str(capture), "--from", dialect, "--to", other_dialect(dialect),
                                            "--format", "json"], capture_output=True, text=True, timeout=60)
        assert report.returncode == 0, report.stderr
        statuses = {row["form"]: row["status"] for row in json.loads(report.stdout)["rows"]}
        assert statuses == EXPECTED[dialect]

        server_map = tmp_path / "hosts"
        server_map.write_text("".join(f"127.0.0.1 {name}\n" for name in script.get("hosts", [])))
        replay = subprocess.run(ATBRIDGE + ["replay", str(capture), "--from", dialect, "--to", other_dialect(dialect),
                                            "--server-map", str(server_map), "--timeout", "15"],
                                capture_output=True, text=True, timeout=100)
        assert replay.returncode == 0, replay.stdout + replay.stderr
        check_received(script["server"]["expect"], server.received, variables)  # the same requests again
