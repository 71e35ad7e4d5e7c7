"""Faults as system tests: firmware on a real pty, the real bridge, an emulated module of the other
dialect on a second pty doing real HTTP to loopback servers.  For each fault: what the firmware
sees, asserted in its own dialect, and that the NEXT request -- sent at once -- succeeds.

Also here: stale module state left by earlier firmware (a Neoway link up, OneMO instances
created) does not break the first request of a fresh bridge, and each kind of stall is reported
with the code the compatibility table (the README's "Error codes the firmware gets", generated
from bridge/bridging/compatibility.yaml) gives for it.

Elsewhere, not repeated: module port killed and recreated, firmware port reopened
(tests/system/test_bridge_reconnect.py); a firmware that reads slowly or stops reading
(tests/system/test_io_backpressure.py)."""
from __future__ import annotations

import re
import time

import pytest
import yaml

from support.faults import rig
from support.servers import BlobServer, CloseMidBodyServer, RawServer, StallServer, blob_bytes, make_ca, server_context
from support.neoway_bridged import CLOSED, CLOSED_RE, HOST, HOSTS, NO_SOCKET, OK, ask, recv0, setup, wait_for
from support.onemo_bridged import create, err_code, get
from support.onemo_emulated import Module
from support.paths import REPO

pytestmark = pytest.mark.timeout(60)

COMPATIBILITY = REPO / "bridge" / "bridging" / "compatibility.yaml"
UNKNOWN = "nowhere.test"  # in no hosts map


def onemo_codes() -> dict[str, int]:
    """The OneMO "err" codes by the name the compatibility table gives them ("response timeout" -> 6)."""
    tables = yaml.safe_load(COMPATIBILITY.read_text())["tables"]
    codes = {}
    for row in tables["onemo-on-neoway-errors"]["rows"]:
        match = re.fullmatch(r"`err (\d+)` \((.+)\)", row["cells"][0])
        if match:
            codes[match.group(2)] = int(match.group(1))
    return codes


# ---- OneMO firmware -> bridge -> Neoway module ------------------------------------------------


@pytest.fixture
def onemo(tmp_path):
    with rig("onemo", "neoway", tmp_path, hosts={"known.test": ["127.0.0.1"]}) as r:
        r.module = Module(r.firmware)
        yield r
    assert "Traceback" not in r.log.getvalue()


def next_onemo_request_works(module: Module, server: BlobServer, httpid: int = 3) -> None:
    create(module, server.url(""))
    assert get(module, "/blob/5000?seed=8", httpid)[1] == blob_bytes(5000, 8)


def test_onemo_server_resets_mid_body(onemo):
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
    with RawServer(head + b"\xab" * 3000, reset=True) as broken, BlobServer() as server:
        create(onemo.module, broken.url(""))
        onemo.module.ok('AT+MHTTPREQUEST=0,1,0,"/x"')
        assert err_code(onemo.module) == onemo_codes()["connection closed"]
        next_onemo_request_works(onemo.module, server, 1)


@pytest.mark.timeout(150)
def test_onemo_server_never_answers_then_a_healthy_one_at_once(onemo):
    """The issue's poisoning: the request after a timed-out one, to a healthy server, sent at once.
    A Neoway module still waiting for the stalled response answers nothing until its own time has
    run (the emulated one: up to a minute); the next request waits for it, uncharged, and works."""
    with StallServer() as stall, BlobServer() as server:
        create(onemo.module, stall.url(""))
        onemo.module.ok('AT+MHTTPCFG="timeout",0,10,1')
        onemo.module.ok('AT+MHTTPREQUEST=0,1,0,"/x"')
        assert err_code(onemo.module) == onemo_codes()["response timeout"]
        create(onemo.module, server.url(""))
        onemo.module.ok('AT+MHTTPREQUEST=1,1,0,"/blob/5000?seed=8"')
        assert onemo.module.response(1, "GET", timeout=90)[1] == blob_bytes(5000, 8)


def test_onemo_wrong_ca(onemo):
    ca, other = make_ca(), make_ca()
    with BlobServer(tls_context=server_context(ca)) as server, BlobServer() as plain:
        pem = other.cert_pem.bytes().replace(b"\n", b"\r\n")
        onemo.module.ok(f'AT+MSSLCERTWR="s.ca",0,{len(pem)},"' + pem.decode().replace("\r\n", "\\r\\n") + '"')
        onemo.module.ok('AT+MSSLCFG="cert",1,"s.ca"')
        onemo.module.ok('AT+MSSLCFG="auth",1,1')
        create(onemo.module, f"https://127.0.0.1:{server.port}")
        onemo.module.ok('AT+MHTTPCFG="ssl",0,1,1')
        onemo.module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/10"')
        assert err_code(onemo.module) == onemo_codes()["SSL handshake failed"]
        assert server.requests == []
        next_onemo_request_works(onemo.module, plain, 1)


def test_onemo_dns_failure(onemo):
    with BlobServer() as server:
        create(onemo.module, f"http://{UNKNOWN}:{server.port}/")
        onemo.module.ok('AT+MHTTPREQUEST=0,1,0,"/x"')
        assert err_code(onemo.module) == onemo_codes()["DNS failed"]
        create(onemo.module, f"http://known.test:{server.port}")
        assert get(onemo.module, "/blob/700?seed=2", 1)[1] == blob_bytes(700, 2)


# ---- Neoway firmware -> bridge -> OneMO module ------------------------------------------------


@pytest.fixture
def neoway(tmp_path):
    with rig("neoway", "onemo", tmp_path, hosts=HOSTS) as r:
        assert ask(r.firmware, "AT+XIIC=1") == OK
        yield r
    assert "Traceback" not in r.log.getvalue()


def next_neoway_request_works(fw, server: BlobServer) -> None:
    setup(fw, f"{HOST}:{server.port}/blob/5000?seed=8", recvmode=0)
    assert ask(fw, "AT+HTTPACTION=0") == OK
    assert recv0(fw)[1] == blob_bytes(5000, 8)


def test_neoway_server_resets_mid_body(neoway):
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
    with RawServer(head + b"\xab" * 3000, reset=True) as broken, BlobServer() as server:
        fw = neoway.firmware
        setup(fw, f"{HOST}:{broken.port}/", recvmode=0)
        assert ask(fw, "AT+HTTPACTION=0") == OK
        text = wait_for(fw, CLOSED_RE["HTTP"], timeout=20)
        received = text[len(b"\r\n+HTTPRECV:\r\n"):-len(CLOSED["HTTP"])]
        assert received.startswith(head) and len(received) - len(head) < 100000  # short: the link closed
        next_neoway_request_works(fw, server)


def test_neoway_server_never_answers_then_a_healthy_one_at_once(neoway):
    with StallServer() as stall, BlobServer() as server:
        fw = neoway.firmware
        neoway.bridge.engine.module_side.response_timeout = 1.0
        setup(fw, f"{HOST}:{stall.port}/", recvmode=0)
        assert ask(fw, "AT+HTTPACTION=0", timeout=8) == OK
        assert wait_for(fw, r"\r\n\+HTTP[^\r]*\r\n", timeout=8) == CLOSED["HTTP"]
        neoway.bridge.engine.module_side.response_timeout = 30.0
        next_neoway_request_works(fw, server)


def test_neoway_dns_failure(neoway):
    with BlobServer() as server:
        fw = neoway.firmware
        assert ask(fw, f"AT+HTTPPARA=url,{UNKNOWN}:{server.port}/") == OK
        answer = ask(fw, "AT+HTTPSETUP")
        if answer == OK:  # the OneMO module connects with the request: the failure shows there
            answer = ask(fw, "AT+HTTPACTION=0", timeout=20)
        assert answer in (b"\r\nERROR\r\n", NO_SOCKET), answer
        next_neoway_request_works(fw, server)


# ---- stale module state ------------------------------------------------------------------------


def test_a_link_left_up_on_the_neoway_module_does_not_break_the_first_request(tmp_path):
    """Earlier firmware (or a crash) left the Neoway module's HTTP link up; a fresh bridge's
    start-up closes it (AT+HTTPCLOSE), so OneMO firmware's first request works.  Before: "err",0,2
    until someone typed AT+HTTPCLOSE."""
    from bridge.io.ports import open_host_end
    from bridge.app.demo.firmware import HostEnd

    def leave_a_link_up(module_pty: str, port: int) -> None:
        earlier = HostEnd(open_host_end(module_pty))
        try:
            for line in ("ATE0", "AT+XIIC=1", f"AT+HTTPPARA=url,127.0.0.1:{port}/", "AT+HTTPSETUP"):
                assert earlier.transact(line).endswith(OK), line
        finally:
            earlier.port.close()

    with BlobServer() as server, rig("onemo", "neoway", tmp_path, prepare=lambda pty: leave_a_link_up(pty, server.port)) as r:
        module = Module(r.firmware)
        create(module, server.url(""))
        assert get(module, "/blob/900?seed=3")[1] == blob_bytes(900, 3)
    sent = r.trace.getvalue()
    assert b"AT+HTTPCLOSE" in sent


def test_instances_left_on_the_onemo_module_do_not_break_the_first_request(tmp_path):
    """Earlier firmware left every OneMO instance created; the bridge's start-up deletes them
    (AT+MHTTPDEL), so Neoway firmware's first request works."""
    from bridge.io.ports import open_host_end
    from bridge.app.demo.firmware import HostEnd

    def fill_the_instances(module_pty: str, port: int) -> None:
        earlier = HostEnd(open_host_end(module_pty))
        try:
            assert earlier.transact("ATE0").endswith(OK)
            answers = [earlier.transact(f'AT+MHTTPCREATE="http://127.0.0.1:{port}"') for _ in range(8)]
            assert any(b"ERROR" in a for a in answers), answers  # full: no free instance left
        finally:
            earlier.port.close()

    with BlobServer() as server, rig("neoway", "onemo", tmp_path, hosts=HOSTS,
                                     prepare=lambda pty: fill_the_instances(pty, server.port)) as r:
        assert ask(r.firmware, "AT+XIIC=1") == OK
        next_neoway_request_works(r.firmware, server)


# ---- each kind of stall against the table -----------------------------------------------------


STALLS = {
    # kind of stall: (the server, the OneMO rsp_timeout set or None, the table's name for the code)
    "never answers, rsp_timeout 1 s": (lambda: StallServer(), 1, "response timeout"),
    "head, then silence, rsp_timeout 1 s": (
        lambda: RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"\xab" * 100, hold=True), 1,
        "response timeout"),
    "part of the body, then a close": (lambda: CloseMidBodyServer(total=5000, sent=100), None, "connection closed"),
}


@pytest.mark.timeout(150)
@pytest.mark.parametrize("kind", list(STALLS))
def test_stall_kinds_match_the_compatibility_table(onemo, kind):
    make_server, rsp_timeout, name = STALLS[kind]
    with make_server() as stalled, BlobServer() as server:
        create(onemo.module, stalled.url(""))
        if rsp_timeout is not None:
            onemo.module.ok(f'AT+MHTTPCFG="timeout",0,10,{rsp_timeout}')
        onemo.module.ok('AT+MHTTPREQUEST=0,1,0,"/x"')
        assert err_code(onemo.module, timeout=20) == onemo_codes()[name]
        create(onemo.module, server.url(""))
        onemo.module.ok('AT+MHTTPREQUEST=1,1,0,"/blob/300?seed=1"')
        assert onemo.module.response(1, "GET", timeout=90)[1] == blob_bytes(300, 1)


@pytest.mark.timeout(150)
def test_a_stall_with_default_settings_is_the_tables_response_timeout(onemo):
    """No MHTTPCFG "timeout": the Neoway module's own response time runs out.  The table says
    err 6 (response timeout) for it; the issue found err 5."""
    with StallServer() as stall:
        create(onemo.module, stall.url(""))
        onemo.module.ok('AT+MHTTPREQUEST=0,1,0,"/x"')
        started = time.monotonic()
        assert err_code(onemo.module, timeout=120) == onemo_codes()["response timeout"]
        assert time.monotonic() - started >= 25  # the module's own 30 s (less nothing the bridge adds)
