"""OneMO bring-up (issue 9, section 2): AT+MCCID and AT+MIPCALL as OneMO's general AT manual
(4.6, 4.17) states them and public firmware parses them -- esp-ml307 ml307_at_modem.cc
(HandleUrc: "MCCID" argument 0 is the ICCID; "MIPCALL" argument 1 == 1 means up, argument 2 is
the IP) and STM32 GPRS drivers (sscanf "+MIPCALL: %d,%d", waiting for the "+MIPCALL:" line).

- against the OneMO emulator on a real pty;
- the OneMO host side (a OneMO module behind a bridge) carrying out model.ModuleOp, in memory
  against the OneMO emulator's own module side, and over a real bridge from Neoway firmware.
"""
from __future__ import annotations

import re

import pytest

from bridge.at.dialect import load
from bridge.registry import make_module_side
from bridge.at.frames import Info
from bridge.model import ErrorKind, ModuleAnswer, ModuleCall, ModuleOp
from bridge.device.fs import ModuleFileSystem
from bridge.onemo.host.side import OnemoHostSide
from support.onemo_emulated import OK, running_module

pytestmark = pytest.mark.timeout(60)

MIPCALL_UP = re.compile(r'^\+MIPCALL: (\d+),1,"(\d+\.\d+\.\d+\.\d+)"$')


@pytest.fixture
def module(tmp_path):
    with running_module(tmp_path) as module:
        yield module


def test_mccid_as_esp_ml307_reads_it(module):
    [answer] = module.ok("AT+MCCID")
    assert isinstance(answer, Info) and answer.name == "+MCCID"
    iccid = answer.get("iccid")
    assert iccid is not None and re.fullmatch(r"\d{19,20}", iccid)  # unquoted, as the manual's example
    assert iccid == module.runner.side.identity.iccid
    assert module.ok("AT+MCCID=?") == []


def test_iccid_as_the_rt_thread_ml307_driver_reads_it(module):
    """RT-Thread at_device class/ml307 sends AT+ICCID (up to 10 times) and needs a "+ICCID:" line."""
    [answer] = module.ok("AT+ICCID")
    assert answer.name == "+ICCID" and answer.get("iccid") == module.runner.side.identity.iccid


def test_mdnscfg_as_rt_thread_uses_it(module):
    """AT+MDNSCFG="priority",0 then AT+MDNSCFG="ip", parsed as +MDNSCFG: "ip",<quoted servers>."""
    module.ok('AT+MDNSCFG="priority",0')
    [servers] = module.ok('AT+MDNSCFG="ip"')
    assert re.match(r'\+MDNSCFG: "ip","\d+\.\d+\.\d+\.\d+"', servers.raw.decode())
    module.ok('AT+MDNSCFG="ip","114.114.114.114","8.8.8.8"')
    assert module.ok('AT+MDNSCFG="ip"')[0].raw.strip() == b'+MDNSCFG: "ip","114.114.114.114","8.8.8.8"'
    module.ok('AT+MDNSCFG="priority",1')
    assert module.ok('AT+MDNSCFG="priority"')[0].raw.strip() == b'+MDNSCFG: "priority",1'
    module.fails('AT+MDNSCFG="priority",2', 50)
    module.fails('AT+MDNSCFG="nosuch"', 50)


def test_mipcall_state_up_at_power_on(module):
    """Autoconn (MUECONFIG default 1): cid 1 is up at power-on, so esp-ml307's AT+MIPCALL? poll
    finds argument 1 == 1 and an IP in argument 2."""
    [line] = module.ok("AT+MIPCALL?")
    assert line.name == "+MIPCALL" and line.get("cid") == "1" and line.get("state") == "1"
    assert re.fullmatch(r'"?\d+\.\d+\.\d+\.\d+"?', line.get("ip") or "")
    [test] = module.ok("AT+MIPCALL=?")
    assert test.raw.strip() == b"+MIPCALL: (0-1),(0-16)"


def test_mipcall_down_and_up_again(module):
    assert module.ok("AT+MIPCALL=0,1") == []
    [line] = module.ok("AT+MIPCALL?")
    assert line.get("state") == "0" and not line.get("ip")
    module.send("AT+MIPCALL=1,1\r")
    assert module.next() == OK
    urc = module.next()  # the result comes after OK, as the manual's example
    assert isinstance(urc, Info) and MIPCALL_UP.match(urc.raw.decode().strip()), urc
    assert module.ok("AT+MIPCALL=1,1") == []  # already connected: OK only (4.17)
    module.alive()


def test_mipcall_and_cgact_agree(module):
    """RT-Thread's ML307 link check reads AT+MIPCALL? and AT+CGACT?: one context state for both."""
    module.ok("AT+MIPCALL=0,1")
    assert module.ok("AT+CGACT?")[0].raw.strip() == b"+CGACT: 1,0"
    module.ok("AT+CGACT=1,1")
    assert module.ok("AT+MIPCALL?")[0].get("state") == "1"


def test_mipcall_refusals(module):
    module.fails("AT+MIPCALL=1", 50)  # ML30x: <cid> may not be omitted
    module.fails("AT+MIPCALL=2,1", 50)
    module.fails("AT+MIPCALL=1,17", 50)
    assert module.command("AT+MIPCALL=1,5")[-1] != OK  # context 5 is not defined (AT+CGDCONT)
    module.ok('AT+CGDCONT=5,"IP","cmiot"')
    module.send("AT+MIPCALL=1,5\r")
    assert module.next() == OK and module.next().get("cid") == "5"


def test_cgauth_sets_the_contexts_authentication(module):
    """4.13: authentication for the context goes with AT+CGAUTH (27.007)."""
    module.ok('AT+CGAUTH=1,2,"user","pw"')
    assert module.runner.side.bring_up.auth[1] == ("2", "user", "pw")
    module.ok("AT+CGAUTH=1,0")
    module.fails("AT+CGAUTH=1,3", 50)


def test_esp_ml307_boot_then_a_request(module, blob_server):
    """ml307_at_modem.cc: MHTTPDEL=0..3 (answers ignored), AT+MCCID, AT+MIPCALL? until up, then HTTP."""
    for httpid in range(4):
        module.command(f"AT+MHTTPDEL={httpid}")
    assert module.ok("AT+MCCID")[0].name == "+MCCID"
    assert module.ok("AT+MIPCALL?")[0].int("state") == 1
    module.ok(f'AT+MHTTPCREATE="{blob_server.url("")}"')
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/10"')
    head, _ = module.response()
    assert head.int("code") == 200


# ---- the OneMO host side carrying out ModuleOp, against the emulator's module side -----------


class Wire:
    """The OneMO host side and the OneMO emulator's module side joined in memory (sans-I/O)."""

    def __init__(self, tmp_path) -> None:
        self.side = make_module_side("onemo", ModuleFileSystem(str(tmp_path / "fs")))
        self.host = OnemoHostSide()
        self.sent: list[bytes] = []
        self.pump()
        assert self.host.ready is True

    def pump(self) -> None:
        for _ in range(200):
            out = self.host.data_to_send()
            if out:
                self.sent += [line for line in out.split(b"\r") if line]
                self.side.receive_data(out, 1.0)
            back = self.side.data_to_send()
            if back:
                self.host.receive_data(back, 1.0)
            if not out and not back:
                return

    def call(self, op: ModuleOp, *args: str) -> ModuleAnswer:
        token = self.host.module_call(ModuleCall(op, args))
        self.sent.clear()
        self.pump()
        answers = self.host.take_module_answers()
        assert [t for t, _ in answers] == [token], answers
        return answers[0][1]


def test_host_side_link_state_up_down_and_iccid(tmp_path):
    wire = Wire(tmp_path)
    ip = wire.side.identity.ip
    assert wire.call(ModuleOp.LINK_STATE) == ModuleAnswer(True, ("1", ip))
    assert wire.sent == [b"AT+MIPCALL?"]
    assert wire.call(ModuleOp.LINK_DOWN, "1").ok and wire.sent == [b"AT+MIPCALL=0,1"]
    assert wire.call(ModuleOp.LINK_STATE).values[0] == "0"
    assert wire.call(ModuleOp.LINK_UP, "1") == ModuleAnswer(True, (ip,))
    assert wire.sent == [b"AT+MIPCALL?", b"AT+MIPCALL=1,1"]
    assert wire.call(ModuleOp.LINK_UP, "1") == ModuleAnswer(True, (ip,))  # already up: no MIPCALL=1 (no URC would come)
    assert wire.sent == [b"AT+MIPCALL?"]
    assert wire.call(ModuleOp.ICCID) == ModuleAnswer(True, (wire.side.identity.iccid,))
    assert wire.sent == [b"AT+MCCID"]


def test_host_side_apn_and_auth(tmp_path):
    wire = Wire(tmp_path)
    assert wire.call(ModuleOp.SET_APN, "cmiot").ok
    assert wire.sent == [b'AT+CGDCONT=1,"IP","cmiot"']
    assert wire.side.identity.pdp[1][1] == "cmiot"
    auth = wire.call(ModuleOp.SET_AUTH, "1", "user", "secret")
    assert wire.sent == [b'AT+CGAUTH=1,1,"user","secret"']
    assert auth.ok and wire.side.bring_up.auth[1] == ("1", "user", "secret")
    assert wire.call(ModuleOp.SET_APN, 'bad"apn') == ModuleAnswer(False, error=ErrorKind.INVALID_PARAMETER)


def test_host_side_link_up_fails_as_the_module_says(tmp_path):
    wire = Wire(tmp_path)
    wire.side.identity.attached = False  # not attached: MIPCALL=1 is refused
    answer = wire.call(ModuleOp.LINK_UP, "1")
    assert wire.sent == [b"AT+MIPCALL?", b"AT+MIPCALL=1,1"]
    refused = load("onemo").report_token("sync", ErrorKind.NO_DATA_LINK)  # what the module answered
    assert answer == ModuleAnswer(False, error=load("onemo").error_kind("sync", refused))


def test_host_side_link_up_waits_for_the_mipcall_line():
    """OK first, the +MIPCALL: line later (cut anywhere): the answer comes with the line."""
    host = OnemoHostSide()
    host.receive_data(b"\r\nOK\r\n" * 6, 0.0)
    host.data_to_send()
    token = host.module_call(ModuleCall(ModuleOp.LINK_UP, ("1",)))
    assert host.data_to_send() == b"AT+MIPCALL?\r"
    host.receive_data(b"\r\n+MIPCALL: 1,0\r\n\r\nOK\r\n", 1.0)
    assert host.data_to_send() == b"AT+MIPCALL=1,1\r"
    host.receive_data(b"\r\nOK\r\n", 1.0)
    assert host.take_module_answers() == []
    host.receive_data(b'\r\n+MIPCALL: 1,1,"10.81.', 2.0)
    host.receive_data(b'41.153"\r\n', 2.0)
    assert host.take_module_answers() == [(token, ModuleAnswer(True, ("10.81.41.153",)))]
    assert host.take_unsolicited() == []


# ---- across a real bridge ----------------------------------------------------------------------


def test_neoway_firmware_brings_up_a_onemo_module(tmp_path):
    """Neoway firmware's AT+XIIC / AT+CCID reach the OneMO module as AT+MIPCALL / AT+MCCID (the
    Neoway module side asks ModuleOp, this host side carries them out)."""
    from support.bridged import bridged

    with bridged("neoway", "onemo", tmp_path) as (firmware, _bridge, onemo):
        link = onemo.side.bring_up
        assert re.search(rb"\+XIIC:\s*1,\s*" + onemo.side.identity.ip.encode(), firmware.transact("AT+XIIC?"))
        assert onemo.side.identity.iccid.encode() in firmware.transact("AT+CCID")
        assert firmware.transact("AT+XIIC=0").strip().endswith(b"OK") and 1 not in link.up
        assert re.search(rb"\+XIIC:\s*0,", firmware.transact("AT+XIIC?"))
        assert firmware.transact("AT+XIIC=1").strip().endswith(b"OK") and 1 in link.up


def test_onemo_firmware_brings_up_a_neoway_module(tmp_path):
    from support.onemo_bridged import onemo_bridge

    with onemo_bridge(tmp_path) as module:
        [iccid] = module.ok("AT+MCCID")
        assert re.fullmatch(r"\d{19,20}", iccid.get("iccid") or "")
        [state] = module.ok("AT+MIPCALL?")
        assert state.get("cid") == "1" and state.get("state") == "1"
        assert module.ok("AT+MIPCALL=0,1") == []
        assert module.ok("AT+MIPCALL?")[0].get("state") == "0"
        module.send("AT+MIPCALL=1,1\r")
        assert module.next() == OK and MIPCALL_UP.match(module.next().raw.decode().strip())
