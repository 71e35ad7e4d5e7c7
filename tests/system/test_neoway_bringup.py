"""Start-up and data-link commands of N58 firmware outside the HTTP chapter (N58 AT manual v2.0:
AT+CCID 4.10, AT+XGAUTH 4.21, AT+NETAPN 6.1, AT+XIIC 6.2, AT+DNSSERVER 6.16), on the emulator and
through bridges.  Expectations come from the manual's formats and from how RT-Thread's at_device
n58 driver (class/n58/at_device_n58.c) parses them: "+CCID: %s", the prefix "+XIIC:    " then
"%*[^,],%s", "+DNSSERVER: dns1:%[^,],dns2:%s", and "ERROR" anywhere in AT+XIIC?'s answer fails.
"""
from __future__ import annotations

import ipaddress
import re

import pytest

from bridge.at.dialect import load
from bridge.neoway.module.side import NeowayModuleSide
from support.bridged import bridged
from support.servers import BlobServer, blob_bytes
from support.neoway_bridged import recv0, session
from support.neoway_emulated import OK, ask, neoway, wait_for

HOST = "www.neoway.com.cn"
ERROR = b"\r\nERROR\r\n"
CLOSED = b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n"


def rt_thread_ccid(answer: bytes) -> str:
    """at_resp_parse_line_args_by_kw(resp, "+CCID:", "+CCID: %s", ccid)"""
    line = next(line for line in answer.split(b"\r\n") if b"+CCID:" in line)
    return re.match(rb"\+CCID: (\S+)", line).group(1).decode()


def rt_thread_xiic_ip(answer: bytes) -> str:
    """at_resp_parse_line_args_by_kw(resp, "+XIIC:    ", "+XIIC:%*[^,],%s", ipaddr); ERROR fails."""
    assert b"ERROR" not in answer
    line = next(line for line in answer.split(b"\r\n") if b"+XIIC:    " in line)
    return re.match(rb"\+XIIC:[^,]*,(\S+)", line).group(1).decode()


def rt_thread_dns(answer: bytes) -> tuple[str, str]:
    """"+DNSSERVER: dns1:%[^,],dns2:%s", each then given to inet_aton."""
    line = next(line for line in answer.split(b"\r\n") if line.startswith(b"+DNSSERVER: "))
    found = re.match(rb"\+DNSSERVER: dns1:([^,]*),dns2:(\S+)", line)
    return str(ipaddress.IPv4Address(found.group(1).decode())), str(ipaddress.IPv4Address(found.group(2).decode()))


def fresh(**options) -> NeowayModuleSide:
    """A Neoway module side in memory, echo off."""
    side = NeowayModuleSide(load("neoway"), **options)
    assert drive(side, "ATE0").endswith(OK)
    return side


def drive(side: NeowayModuleSide, line: str) -> bytes:
    side.receive_data(line.encode() + b"\r", 0.0)
    return side.data_to_send()


# ---- the emulator ------------------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_rt_thread_n58_start_up(tmp_path):
    """n58_init_thread_entry's sequence up to AT+RECVMODE, then n58_netdev_set_info's queries."""
    with neoway(tmp_path, link=False) as (fw, side):
        assert ask(fw, "ATI").endswith(OK)
        answer = ask(fw, "AT+CCID")
        assert answer.endswith(OK) and re.fullmatch(r"\d{19,20}", rt_thread_ccid(answer))
        for query in ("AT+CREG?", "AT+CEREG?"):
            assert re.search(rb"\+C?E?REG: 0,[15]\r\n", ask(fw, query))
        assert ask(fw, "AT+CSQ").endswith(OK)
        assert ask(fw, "AT+COPS=3,0") == OK
        assert ask(fw, "AT+COPS?").endswith(OK)
        assert rt_thread_xiic_ip(ask(fw, "AT+XIIC?")) == "0.0.0.0"  # a fresh N58: PPP down
        assert ask(fw, "AT+XIIC=1", timeout=20) == OK
        ip = rt_thread_xiic_ip(ask(fw, "AT+XIIC?"))
        assert ipaddress.IPv4Address(ip) != ipaddress.IPv4Address("0.0.0.0")
        assert rt_thread_dns(ask(fw, "AT+DNSSERVER?"))
        assert ask(fw, "AT+DNSSERVER=1,114.114.114.114") == OK
        assert rt_thread_dns(ask(fw, "AT+DNSSERVER?"))[0] == "114.114.114.114"


@pytest.mark.timeout(20)
def test_xiic_0_takes_the_link_down_and_closes_the_http_link(tmp_path):
    with BlobServer() as server, neoway(tmp_path) as (fw, side):
        assert ask(fw, f"AT+HTTPPARA=url,{HOST}:{server.port}/blob/5") == OK
        assert ask(fw, "AT+HTTPSETUP") == OK
        assert ask(fw, "AT+XIIC=0") == OK
        assert wait_for(fw, r"\+HTTPCLOSED: [^\r]*\r\n") == CLOSED
        assert ask(fw, "AT+XIIC?") == b"\r\n+XIIC:    0,0.0.0.0\r\n" + OK
        assert ask(fw, "AT+HTTPSETUP") == ERROR  # no data link
        assert ask(fw, "AT+XIIC=0") == OK  # already down: OK, nothing closes
        assert ask(fw, "AT+XIIC=1") == OK
        assert ask(fw, "AT+HTTPSETUP") == OK
        assert ask(fw, "AT+HTTPACTION=0") == OK
        assert wait_for(fw, r"\+HTTPCLOSED: [^\r]*\r\n").split(b"\r\n\r\n", 1)[1].startswith(blob_bytes(5, 0))


def test_power_on_link_state():
    """A fresh N58 has PPP down; link_up=True (atbridge emulate neoway --link up) starts it up."""
    assert drive(fresh(), "AT+XIIC?") == b"\r\n+XIIC:    0,0.0.0.0\r\n" + OK
    up = fresh(link_up=True)
    assert re.fullmatch(rb"\r\n\+XIIC:    1,\d+\.\d+\.\d+\.\d+\r\n\r\nOK\r\n", drive(up, "AT+XIIC?"))


@pytest.mark.parametrize("line, answer", [
    ('AT+NETAPN="CMNET","",""', OK),
    ("AT+NETAPN=CMNET,,", ERROR),                       # the manual: the parameters need double quotes
    ('AT+NETAPN="CMNET"', ERROR),
    ('AT+XGAUTH=1,1,"gsm","1234"', OK),                 # the manual's example
    ('AT+XGAUTH=1,0', OK),
    ('AT+XGAUTH=1,1', ERROR),                           # PAP needs <name> and <pwd>
    ('AT+XGAUTH=8,1,"a","b"', ERROR),                   # <cid> 1-7
    ('AT+XGAUTH=1,3,"a","b"', ERROR),                   # <auth> 0-2
    ("AT+XGAUTH=?", b"\r\n+XGAUTH: (1-7),(0-2),32,32\r\n" + OK),
    ("AT+DNSSERVER=3,1.2.3.4", ERROR),
    ("AT+DNSSERVER=1,256.5.5.5", ERROR),
    ("AT+CCID=1", ERROR),
    ("AT+RECVMODE=1", OK),                              # 6.5; RT-Thread n58 ends its start-up with it
    ("AT+RECVMODE=0,1", OK),
    ("AT+RECVMODE=2", ERROR),
    ("AT+RECVMODE=?", b"\r\n+RECVMODE: (0-1),(0-1)\r\n" + OK),
    ("AT+CGSN", b"\r\n+CGSN: 861234567890123\r\n" + OK),   # 4.8: with the prefix (RT-Thread: "+CGSN: %s")
])
def test_setting_forms(line, answer):
    assert drive(fresh(), line) == answer


def test_netapn_is_read_back():
    side = fresh()
    assert drive(side, "AT+NETAPN?") == b'\r\n+NETAPN: "","",""\r\n' + OK  # the manual's fresh module
    assert drive(side, 'AT+NETAPN="cmnet","card","card"') == OK
    assert drive(side, "AT+NETAPN?") == b'\r\n+NETAPN: "cmnet","card","card"\r\n' + OK


# ---- bridged: the module behind answers ----------------------------------------------------------------


@pytest.mark.timeout(40)
def test_bring_up_reaches_a_neoway_module_behind_a_bridge(tmp_path):
    """N58 firmware -> bridge -> Neoway emulator: each bring-up command is the module's own
    (ModuleCall -> the Neoway host side's AT+XIIC / AT+CCID / AT+NETAPN / AT+XGAUTH), so the
    answers are the module's, not the bridge's."""
    with BlobServer() as server, bridged("neoway", "neoway", tmp_path, hosts={HOST: ["127.0.0.1"]}) as (fw, bridge, module):
        module.side.identity.iccid = "89860002190810001367"
        module.side.identity.ip = "10.107.216.162"
        assert rt_thread_ccid(ask(fw, "AT+CCID")) == "89860002190810001367"
        assert ask(fw, 'AT+NETAPN="ctnet","",""') == OK
        assert ask(fw, 'AT+XGAUTH=1,1,"card","card"') == OK
        assert module.side.bringup.apn == ("ctnet", "", "")
        assert module.side.bringup.auth == {"1": ("1", "card", "card")}
        ask(fw, "AT+XIIC?")
        assert ask(fw, "AT+XIIC=1", timeout=30) == OK
        assert module.side.link.up
        assert rt_thread_xiic_ip(ask(fw, "AT+XIIC?")) == "10.107.216.162"
        assert ask(fw, f"AT+HTTPPARA=url,{HOST}:{server.port}/blob/7") == OK
        assert ask(fw, "AT+HTTPSETUP") == OK
        assert ask(fw, "AT+HTTPACTION=0", timeout=15) == OK
        assert recv0(fw)[1] == blob_bytes(7, 0)
        assert ask(fw, "AT+XIIC=0") == OK
        assert not module.side.link.up
        assert ask(fw, "AT+XIIC?") == b"\r\n+XIIC:    0,0.0.0.0\r\n" + OK


@pytest.mark.timeout(20)
def test_identity_of_the_onemo_module_in_the_n58_form(tmp_path):
    """AT+CGSN through the bridge: the OneMO module's IMEI (27.007: a bare line), written as an N58
    writes it, "+CGSN: <imei>" (manual 4.8), which is what RT-Thread's n58 driver parses."""
    with session(tmp_path) as (fw, bridge, module):
        module.side.identity.imei = "355897043139120"
        answer = ask(fw, "AT+CGSN")
        assert answer == b"\r\n+CGSN: 355897043139120\r\n" + OK


@pytest.mark.timeout(30)
def test_httpsetup_is_never_refused_while_xiic_says_up_bridged_to_onemo(tmp_path):
    with BlobServer() as server, session(tmp_path, link=False) as (fw, bridge, module):
        answer = ask(fw, "AT+XIIC?")
        if b"+XIIC:    1," not in answer:
            assert ask(fw, "AT+XIIC=1", timeout=20) == OK
            answer = ask(fw, "AT+XIIC?")
        assert b"+XIIC:    1," in answer and answer.endswith(OK)
        assert ask(fw, f"AT+HTTPPARA=url,{HOST}:{server.port}/blob/4") == OK
        assert ask(fw, "AT+HTTPSETUP") == OK
        assert ask(fw, "AT+HTTPACTION=0") == OK
        assert recv0(fw)[1] == blob_bytes(4, 0)


@pytest.mark.timeout(40)
def test_xiic_0_and_1_take_the_onemo_modules_link_down_and_up(tmp_path):
    """Bridged to OneMO, XIIC=0 and XIIC=1 are the module's own PDP deactivation and activation, and
    XIIC? then reports the module's state."""
    with BlobServer() as server, session(tmp_path) as (fw, bridge, module):
        assert ask(fw, "AT+XIIC=0", timeout=20) == OK
        assert ask(fw, "AT+XIIC?") == b"\r\n+XIIC:    0,0.0.0.0\r\n" + OK
        assert ask(fw, f"AT+HTTPPARA=url,{HOST}:{server.port}/blob/6") == OK
        assert ask(fw, "AT+HTTPSETUP") == ERROR  # no data link
        assert ask(fw, "AT+XIIC=1", timeout=30) == OK
        assert rt_thread_xiic_ip(ask(fw, "AT+XIIC?")) == module.side.identity.ip
        assert ask(fw, "AT+HTTPSETUP") == OK
        assert ask(fw, "AT+HTTPACTION=0") == OK
        assert recv0(fw)[1] == blob_bytes(6, 0)
