"""What the public ML307C driver (ML307C.c, tests/firmware/ml307c_driver_https_cached.yaml) needs of
a module, each shown on its own:

- AT+CCLK? (27.007 8.15) gives the network's time, "yy/MM/dd,hh:mm:ss+zz" (zz: quarter hours),
  from the module's injectable wall clock, on both emulators and through the bridge;
- the ML307C model profile accepts AT+MSSLCFG="sni" (the SSL manual lists it for MR880A only; the
  driver, written for the ML307C, requires OK), and the setting decides whether the TLS ClientHello
  carries the server name; ML307R still refuses it, as its manual says;
- bare AT+CGSN on an ML307C is its alphanumeric serial number, AT+CGSN=1 the IMEI (the driver's note);
- through the bridge, the MODEL (ATI's model line, AT+CGMM/GMM, AT+CGMI) is the profile of the
  firmware's module (--host-model), while the IMEI, IMSI and revision are the real module's.
"""
from __future__ import annotations

import calendar
import re

import pytest

from support.bridged import bridged
from support.emulated import emulator
from support.firmware import Replay, RouteServer
from support.servers import server_context

pytestmark = pytest.mark.timeout(60)

OK = b"\r\nOK\r\n"
# 2025-06-01 04:05:06 UTC; a Chinese network's local time is UTC+8 (+32 quarter hours).
FIXED = calendar.timegm((2025, 6, 1, 4, 5, 6, 0, 0, 0))
CCLK_AT_FIXED = b'\r\n+CCLK: "25/06/01,12:05:06+32"\r\n' + OK


@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
def test_cclk_is_the_network_time_from_the_injected_clock(dialect, tmp_path):
    with emulator(dialect, tmp_path) as (host, runner):
        runner.side.identity.clock = lambda: FIXED
        assert host.transact("AT+CCLK?") == CCLK_AT_FIXED
        runner.side.identity.clock = lambda: FIXED + 86400 * 365 + 3600
        assert host.transact("AT+CCLK?") == b'\r\n+CCLK: "26/06/01,13:05:06+32"\r\n' + OK


def test_cclk_by_default_is_todays_date(tmp_path):
    """Without an injected clock the answer is the current date (the driver refuses one before 2024)."""
    import time

    with emulator("onemo", tmp_path) as (host, _runner):
        answer = host.transact("AT+CCLK?")
    expected = time.strftime("%y/%m/%d", time.gmtime(time.time() + 8 * 3600))
    assert re.fullmatch(rb'\r\n\+CCLK: "(\d\d/\d\d/\d\d),\d\d:\d\d:\d\d\+32"\r\n\r\nOK\r\n', answer), answer
    assert answer[10:18].decode() == expected or answer[10:12] >= b"24"  # a midnight crossing gives the next day


@pytest.mark.parametrize("host_dialect,module_dialect", [("onemo", "neoway"), ("neoway", "onemo")])
def test_cclk_through_the_bridge_is_the_modules_clock(host_dialect, module_dialect, tmp_path):
    with bridged(host_dialect, module_dialect, tmp_path) as (fw, _bridge, module):
        module.side.identity.clock = lambda: FIXED
        assert fw.transact("AT+CCLK?") == CCLK_AT_FIXED


def _https_get(port: int, server_port: int, sni: str, ca_pem: str) -> None:
    steps = [
        {"send": 'AT+MSSLCERTWR="ca.pem",0,${data_len}\r\n', "data_text": ca_pem, "expect": {"prompt": ">", "final": "OK"}},
        {"send": 'AT+MSSLCFG="cert",1,"ca.pem"\r\n', "expect": {"final": "OK"}},
        {"send": 'AT+MSSLCFG="auth",1,1\r\n', "expect": {"final": "OK"}},
        {"send": f'AT+MSSLCFG="sni",1,{sni}\r\n', "expect": {"final": "OK"}},
        {"send": 'AT+MSSLCFG="sni",1\r\n', "expect": {"lines": [rf'^\+MSSLCFG: "sni",1,{sni}\r?$'], "final": "OK"}},
        {"send": f'AT+MHTTPCREATE="https://iot.example.com:{server_port}"\r\n',
         "expect": {"capture": {"id": r"^\+MHTTPCREATE: (\d)"}, "final": "OK"}},
        {"send": 'AT+MHTTPCFG="ssl",${id},1,1\r\n', "expect": {"final": "OK"}},
        {"send": 'AT+MHTTPREQUEST=${id},1,0,"/sni"\r\n', "expect": {"final": "OK"}},
        {"wait": {"match": r'\+MHTTPURC: "header",${id},200,', "timeout": 10}},
    ]
    Replay(port, {"ca_pem": ca_pem}).run(steps)


@pytest.mark.parametrize("sni,expected", [("1", ["iot.example.com"]), ("0", [None])])
def test_ml307c_sni_setting_decides_the_clienthello(sni, expected, tmp_path, ca):
    """With "sni" 1 the server sees the host name in the ClientHello; with 0 (the manual's default)
    none, and a verifying request still succeeds (the chain is checked)."""
    names: list = []
    tls = server_context(ca, names=("iot.example.com", "127.0.0.1"))
    tls.sni_callback = lambda _sock, name, _ctx: names.append(name)
    routes = [{"method": "GET", "path": "/sni", "status": 200, "body_text": "ok"}]
    with RouteServer(routes, {}, tls_context=tls) as server:
        with emulator("onemo", tmp_path, hosts={"iot.example.com": ["127.0.0.1"]}, model="ML307C") as (host, _r):
            _https_get(host.port, server.port, sni, ca.cert_pem.bytes().decode())
    assert names == expected
    assert [(r.method, r.path) for r in server.received] == [("GET", "/sni")]


def test_ml307r_refuses_the_sni_setting(tmp_path):
    """SSL manual V5.4.5, footnote 3: only the MR880A (and, by its driver, the ML307C) has it."""
    with emulator("onemo", tmp_path) as (host, runner):
        assert runner.side.profile.name == "ML307R"
        answer = host.transact('AT+MSSLCFG="sni",1,1')
        assert answer.endswith(b"\r\n") and b"+CME ERROR:" in answer
        assert host.transact('AT+MSSLCFG="auth",1,1') == OK


def test_ml307c_bare_cgsn_is_its_serial_and_cgsn_1_the_imei(tmp_path):
    with emulator("onemo", tmp_path, model="ML307C") as (host, runner):
        imei = runner.side.identity.imei
        bare = host.transact("AT+CGSN")
        assert bare.endswith(OK) and imei.encode() not in bare
        assert re.search(rb"\r\n[0-9A-Z]*[A-Z][0-9A-Z]*\r\n", bare), bare
        assert host.transact("AT+CGSN=1") == f"\r\n+CGSN: {imei}\r\n".encode() + OK


def test_bridged_model_is_the_firmwares_and_the_rest_the_modules(tmp_path):
    """ML307C firmware on an N58: ATI, AT+CGMM, AT+GMM name the ML307C (the driver refuses any other
    model; esp-ml307 picks its driver by AT+CGMM); the revision, IMEI and IMSI are the N58's."""
    with bridged("onemo", "neoway", tmp_path, host_model="ML307C") as (fw, _bridge, module):
        ident = module.side.identity
        ident.revision, ident.imei, ident.imsi = "N58-R07-STD-BZ-003", "355897043139120", "460001122334455"
        ati = fw.transact("ATI")
        assert ati.endswith(OK) and b"\r\nML307C\r\n" in ati and b"N58\r\n" not in ati
        assert b"Revision: N58-R07-STD-BZ-003\r\n" in ati
        for command in ("AT+CGMM", "AT+GMM"):
            assert fw.transact(command) == b"\r\nML307C\r\n" + OK
        assert b"N58" not in fw.transact("AT+CGMI")
        assert fw.transact("AT+CGMR") == b"\r\nN58-R07-STD-BZ-003\r\n" + OK
        assert fw.transact("AT+CGSN=1") == b"\r\n+CGSN: 355897043139120\r\n" + OK
        assert fw.transact("AT+CIMI") == b"\r\n460001122334455\r\n" + OK


def test_bridged_model_defaults_to_the_dialects_default(tmp_path):
    """Neoway firmware on a OneMO module without --host-model: the N58 (neoway.yaml's default), not
    the OneMO module's ML307R; its IMEI stays the module's."""
    with bridged("neoway", "onemo", tmp_path) as (fw, _bridge, module):
        cgmm = fw.transact("AT+CGMM")
        assert b"N58" in cgmm and b"ML307" not in cgmm and cgmm.endswith(OK)
        ati = fw.transact("ATI")
        assert b"N58" in ati and b"ML307" not in ati
        assert module.side.identity.imei.encode() in fw.transact("AT+CGSN")
