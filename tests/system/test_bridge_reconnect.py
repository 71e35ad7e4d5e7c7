"""Module loss and return, over real ptys: the module's pty goes away in the middle of a request
(the emulator stopped, as an unplugged module or a USB reset), and a new one appears on the same
path.  The firmware's request in flight ends with its own dialect's report of a lost link, the
commands it sends meanwhile get its dialect's error at once, the bridge reopens the path with
back-off, re-synchronises the module (a fresh host side's start-up) and the next request works.
The firmware's port: closed and reopened, the next request works.  No traceback, ever."""
from __future__ import annotations

import signal

import pytest

from bridge.registry import make_module_side
from bridge.io.emulator import ModuleRunner
from bridge.device.hosts import HostsResolver
from bridge.device.fs import ModuleFileSystem
from bridge.net import NetworkExecutor
from bridge.io.ports import PtyPort
from support.bridged import cli_bridged
from support.faults import rig
from support.servers import BlobServer, StallServer, blob_bytes
from support.neoway_bridged import CLOSED_RE, HOST, HOSTS, OK, ask, recv0, setup, wait_for
from support.onemo_bridged import create, err_code, get
from support.onemo_emulated import Module

pytestmark = pytest.mark.timeout(60)

ERROR = b"\r\nERROR\r\n"


def onemo_lost_link_code() -> str:
    """The <error_code> a OneMO module reports in +MHTTPURC "err" for a connection that broke."""
    from bridge.at.dialect import load
    from bridge.model import ErrorKind

    return load("onemo").report_token("async", ErrorKind.CONNECTION_CLOSED)


def test_onemo_firmware_sees_err_when_the_neoway_module_goes_and_works_when_it_is_back(tmp_path):
    with StallServer() as stall, BlobServer() as blob, rig("onemo", "neoway", tmp_path) as r:
        module = Module(r.firmware)
        create(module, stall.url(""))
        module.ok('AT+MHTTPREQUEST=0,1,0,"/x"')
        assert stall.received.wait(10)
        r.stop_module()
        assert err_code(module, 0, timeout=5) == int(onemo_lost_link_code())  # its own report, at once
        assert r.firmware.transact("AT+CSQ", timeout=5).endswith(ERROR)  # away: an error, never silence
        create(module, blob.url(""))  # OneMO instances are the firmware's own: creating one still works
        module.ok('AT+MHTTPREQUEST=1,1,0,"/blob/10?seed=2"')
        assert err_code(module, 1, timeout=5) in (1, 2)  # no link to reach the server by
        r.start_module()
        r.log.wait_for("re-synchronising")
        assert get(module, "/blob/3000?seed=1", 1)[1] == blob_bytes(3000, 1)
    log = r.log.getvalue()
    assert "lost" in log and "reopened" in log and "Traceback" not in log


def test_neoway_firmware_sees_the_link_closed_when_the_onemo_module_goes_and_works_when_it_is_back(tmp_path):
    with StallServer() as stall, BlobServer() as blob, rig("neoway", "onemo", tmp_path, hosts=HOSTS) as r:
        fw = r.firmware
        assert ask(fw, "AT+XIIC=1") == OK
        setup(fw, f"{HOST}:{stall.port}/x", recvmode=0)
        fw.command("AT+HTTPACTION=0")
        assert stall.received.wait(10)
        r.stop_module()
        seen = wait_for(fw, CLOSED_RE["HTTP"] + "|" + r"\r\n\+HTTPACTION: [^\r]*\r\n", timeout=5)
        assert b"+HTTPCLOSED" in seen or b"+HTTPACTION:" in seen
        assert ask(fw, "AT+CSQ", timeout=5) == ERROR
        assert ask(fw, f"AT+HTTPPARA=url,{HOST}:{blob.port}/blob/10") == OK  # local settings still kept
        assert ask(fw, "AT+HTTPSETUP", timeout=5) == ERROR  # no module: no link
        r.start_module()
        r.log.wait_for("re-synchronising")
        setup(fw, f"{HOST}:{blob.port}/blob/5000?seed=4", recvmode=0)
        assert ask(fw, "AT+HTTPACTION=0") == OK
        assert recv0(fw)[1] == blob_bytes(5000, 4)
    assert "Traceback" not in r.log.getvalue()


def test_the_bridge_waits_with_back_off_while_the_module_is_away(tmp_path):
    """Away for longer than several attempts: the bridge keeps trying (logged), and is back as
    soon as the path is there again."""
    with BlobServer() as blob, rig("onemo", "neoway", tmp_path) as r:
        module = Module(r.firmware)
        r.stop_module()
        r.log.wait_for("module port")
        r.log.wait_for("not back yet", timeout=5)
        for _ in range(3):  # errors, at once, however often the firmware asks
            assert r.firmware.transact("AT", timeout=5).endswith((OK, ERROR))  # AT is the bridge's own
            assert r.firmware.transact("AT+CSQ", timeout=5).endswith(ERROR)
        r.start_module()
        r.log.wait_for("re-synchronising")
        create(module, blob.url(""))
        assert get(module, "/blob/100?seed=5")[1] == blob_bytes(100, 5)


@pytest.mark.parametrize("host_dialect,module_dialect", [("onemo", "neoway"), ("neoway", "onemo")])
def test_the_firmware_port_closed_and_reopened(tmp_path, host_dialect, module_dialect):
    with BlobServer() as blob, rig(host_dialect, module_dialect, tmp_path, hosts=HOSTS) as r:
        r.reopen_firmware()
        r.firmware.transact("ATE0")
        if host_dialect == "onemo":
            module = Module(r.firmware)
            create(module, blob.url(""))
            assert get(module, "/blob/2000?seed=6")[1] == blob_bytes(2000, 6)
        else:
            assert ask(r.firmware, "AT+XIIC=1") == OK
            setup(r.firmware, f"{HOST}:{blob.port}/blob/2000?seed=6", recvmode=0)
            assert ask(r.firmware, "AT+HTTPACTION=0") == OK
            assert recv0(r.firmware)[1] == blob_bytes(2000, 6)


def test_the_cli_bridge_survives_the_module_restarting(tmp_path):
    """`atbridge bridge` as a user runs it: the emulator on its module path stops and a new one
    starts there; the process logs each step, keeps serving, and never prints a traceback."""
    said = []

    def until(text: str) -> None:
        for _ in range(50):  # bounded: the bridge says a few lines per step
            said.append(bridge.process.stderr.readline())
            if text in said[-1]:
                return
        raise AssertionError(said)

    with BlobServer() as blob, cli_bridged("onemo", "neoway", tmp_path) as (firmware, bridge, emulator):
        emulator.stop()
        until("lost")
        assert firmware.transact("AT+CSQ", timeout=5).endswith(ERROR)
        fs = ModuleFileSystem(str(tmp_path / "module-fs-2"))
        executor = NetworkExecutor(HostsResolver({}), fs)
        again = ModuleRunner(make_module_side("neoway", fs), PtyPort(str(tmp_path / "module.pty")), executor.single).start()
        try:
            until("re-synchronising")
            module = Module(firmware)
            create(module, blob.url(""))
            assert get(module, "/blob/10?seed=7")[1] == blob_bytes(10, 7)
            assert bridge.process.poll() is None
        finally:
            bridge.process.send_signal(signal.SIGINT)
            bridge.process.wait(timeout=10)
            again.stop()
            executor.close()
            fs.close()
    log = "".join(said) + bridge.log
    assert "Traceback" not in log and "reopened" in log
    assert bridge.process.returncode == 0


def test_sigterm_stops_the_bridge_while_it_waits_for_the_module(tmp_path):
    """Between two attempts to reopen the module's port the bridge waits on a timer, not in a
    sleep: SIGTERM ends it within 2 s, cleanly."""
    import time

    with cli_bridged("neoway", "onemo", tmp_path) as (firmware, bridge, emulator):
        emulator.stop()
        for _ in range(50):
            line = bridge.process.stderr.readline()
            if "not back yet" in line:
                break
        else:
            raise AssertionError("no back-off logged")
        started = time.monotonic()
        bridge.process.send_signal(signal.SIGTERM)
        assert bridge.process.wait(timeout=5) == 0
        assert time.monotonic() - started < 2
    assert "Traceback" not in bridge.log


def test_a_firmware_device_that_vanishes_and_comes_back(tmp_path):
    """The firmware's port is a device the bridge opens by path (a USB gadget): it vanishes and
    re-enumerates at the same path; the bridge reopens it and serves the next request."""
    with BlobServer() as blob, rig("onemo", "neoway", tmp_path, gadget=True) as r:
        module = Module(r.firmware)
        create(module, blob.url(""))
        assert get(module, "/blob/100?seed=1")[1] == blob_bytes(100, 1)
        r.gadget.unplug()
        r.log.wait_for("host port")
        r.gadget.replug()
        r.log.wait_for("host port " + r.host_pty + " reopened")
        r.firmware.transact("ATE0")
        assert get(module, "/blob/2000?seed=2")[1] == blob_bytes(2000, 2)  # the bridge kept instance 0
    assert "Traceback" not in r.log.getvalue()
