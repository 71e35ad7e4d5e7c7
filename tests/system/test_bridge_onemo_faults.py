"""Failures through the bridge (OneMO firmware -> bridge -> emulated Neoway module, real ptys,
loopback servers) reach the firmware as the OneMO codes of the manual's chapter 5 and 3.10, and
never as a hang: a refused connection, an unknown name (told apart with AT+CDNSGIP), TLS failures, a response timeout, a close
mid-body, and what the Neoway module cannot carry (large uploads, a certificate written with
AT+MSSLCERTWR).  Also the start-up: the bridge brings the Neoway data link up itself."""
from __future__ import annotations

import time

import pytest

from support.servers import BlobServer, CloseMidBodyServer, RefusedPort, StallServer, blob_bytes, make_ca, server_context
from support.onemo_bridged import OK, Trace, create, err_code, get, onemo_bridge
from support.onemo_emulated import cme

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def module(tmp_path):
    with onemo_bridge(tmp_path, hosts={"known.test": ["127.0.0.1"]}) as module:
        yield module


def test_the_bridge_brings_the_neoway_data_link_up(tmp_path, blob_server):
    """The emulated Neoway module starts with its data link down (as from power-up); the bridge's
    start-up asks AT+XIIC? and brings it up with AT+XIIC=1, so the firmware's first request works."""
    trace = Trace()
    with onemo_bridge(tmp_path, trace=trace) as module:
        create(module, blob_server.url(""))
        assert get(module, "/blob/9?seed=1")[1] == blob_bytes(9, 1)
        assert module.neoway.side.link.up
    sent = trace.sent_to_module()
    assert sent.index(b"AT+XIIC?\r") < sent.index(b"AT+XIIC=1\r") < sent.index(b"AT+HTTPSETUP\r")


def test_a_refused_connection_is_err_2(module):
    create(module, f"http://127.0.0.1:{RefusedPort()}")
    module.ok('AT+MHTTPREQUEST=0,1,0,"/x"')
    assert err_code(module) == 2
    module.alive()


def test_an_unknown_name_is_err_1(tmp_path, blob_server):
    """A Neoway module answers AT+HTTPSETUP with the same ERROR for a failed lookup and a failed
    connect (neoway.yaml).  The bridge then asks the module's DNS query, AT+CDNSGIP, whose
    "+CDNSGIP: 0,8" after its OK says the lookup failed: err 1, the manual's code for it."""
    trace = Trace()
    with onemo_bridge(tmp_path, hosts={"known.test": ["127.0.0.1"]}, trace=trace) as module:
        create(module, "http://unknown.test/")
        module.ok('AT+MHTTPREQUEST=0,1,0,"/x"')
        assert err_code(module) == 1
        create(module, f"http://known.test:{blob_server.port}")  # names the module resolves work
        assert get(module, "/blob/3?seed=3", 1)[1] == blob_bytes(3, 3)
        module.alive()
    sent = trace.sent_to_module()
    assert sent.count(b'AT+CDNSGIP="unknown.test"\r') == 1 and sent.count(b"AT+CDNSGIP") == 1
    assert sent.index(b"AT+HTTPSETUP\r") < sent.index(b"AT+CDNSGIP")


def test_a_refused_connection_to_a_name_the_module_resolves_is_still_err_2(module):
    """The point of asking AT+CDNSGIP: a name that resolves (the hosts map) with nothing
    listening is a failed connect, err 2, not a failed lookup."""
    create(module, f"http://known.test:{RefusedPort()}")
    module.ok('AT+MHTTPREQUEST=0,1,0,"/x"')
    assert err_code(module) == 2
    module.alive()


def test_an_unknown_https_name_is_err_1(module, blob_server):
    """AT+HTTPSSETUP's ERROR for a name the module cannot resolve: err 1 as well (no TLS check
    with a plain link to a name that does not resolve); a known name still gets err 4 for TLS."""
    httpid = create(module, "https://unknown.test/")
    module.ok(f'AT+MHTTPREQUEST={httpid},1,0,"/x"')
    assert err_code(module, httpid) == 1
    httpid = create(module, f"https://known.test:{blob_server.port}")  # a plain HTTP server: TLS fails
    module.ok(f'AT+MHTTPREQUEST={httpid},1,0,"/blob/1"')
    assert err_code(module, httpid) == 4


def test_tls_failures_are_err_4(module, blob_server):
    """A TLS handshake that fails (an https instance against a plain HTTP server; server
    verification without a CA the Neoway module trusts) is err 4, told apart from a failed connect."""
    create(module, f"https://127.0.0.1:{blob_server.port}")
    module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/1"')
    assert err_code(module) == 4
    ca = make_ca()
    with BlobServer(tls_context=server_context(ca)) as server:
        create(module, f"https://127.0.0.1:{server.port}")
        module.ok('AT+MSSLCFG="auth",2,1')  # verify the server; no certificate selected
        module.ok('AT+MHTTPCFG="ssl",1,1,2')
        module.ok('AT+MHTTPREQUEST=1,1,0,"/blob/1"')
        assert err_code(module, 1) == 4
        module.ok('AT+MSSLCFG="auth",2,0')
        assert get(module, "/blob/4?seed=4", 1)[1] == blob_bytes(4, 4)  # without verification it works


def test_server_verification_with_a_written_ca(module):
    """AT+MSSLCERTWR writes the CA into the bridge (the OneMO module the firmware sees); the
    bridge hands it to the Neoway module (which writes it to its own file system and names it in
    HTTPSCFG "cacert"), so a request that verifies the server works -- issue 9, section 4 -- and
    one with a CA that did not sign the server fails as OneMO's TLS error (err 4), unsent."""
    ca = make_ca()
    with BlobServer(tls_context=server_context(ca)) as server:
        pem = ca.cert_pem.bytes().replace(b"\n", b"\r\n")
        module.ok(f'AT+MSSLCERTWR="s.ca",0,{len(pem)},"' + pem.decode().replace("\r\n", "\\r\\n") + '"')
        assert module.fs.read_bytes("/ssl/s.ca") == pem  # kept by the bridge
        module.ok('AT+MSSLCFG="cert",1,"s.ca"')
        module.ok('AT+MSSLCFG="auth",1,1')
        create(module, f"https://127.0.0.1:{server.port}")
        module.ok('AT+MHTTPCFG="ssl",0,1,1')
        assert get(module, "/blob/10")[1] == blob_bytes(10, 0)
        module.ok(f'AT+MHTTPDLFILE="https://127.0.0.1:{server.port}/blob/10","/x.bin",0,,0,1')
        assert module.urc("header").int("code") == 200
        assert module.next(20).get("percent") == "100" and module.fs.read_bytes("/x.bin") == blob_bytes(10, 0)
        other = make_ca().cert_pem.bytes().replace(b"\n", b"\r\n")
        module.ok(f'AT+MSSLCERTWR="s.ca",0,{len(other)},"' + other.decode().replace("\r\n", "\\r\\n") + '"')
        requests = len(server.requests)
        module.ok('AT+MHTTPREQUEST=0,1,0,"/blob/10"')
        assert module.urc("err", timeout=20).int("error_code") == 4
        assert len(server.requests) == requests


def test_a_close_mid_body_is_err_5(module):
    with CloseMidBodyServer(total=10000, sent=3000) as server:
        create(module, f"http://127.0.0.1:{server.port}")
        module.ok('AT+MHTTPREQUEST=0,1,0,"/x"')
        head = module.urc("header")
        assert head.int("code") == 200 and b"Content-Length: 10000" in head.payload
        received = 0
        while True:
            frame = module.next(20)
            if frame.variant == "err":
                break
            assert frame.variant == "content" and frame.int("content_len") == 10000
            received = frame.int("sum_len")
        assert frame.int("error_code") == 5 and received <= 3000
    module.alive()


def test_uploads_the_neoway_module_cannot_carry(module, blob_server):
    """AT+HTTPACTION takes at most 2048 bytes: content beyond that is refused with 23 (memory),
    a request whose head and body together exceed it with 50 (parameter error), before anything
    is sent; in chunked mode the piece that overflows gets 23 and the request ends with err 8."""
    create(module, blob_server.url(""))
    module.send("AT+MHTTPCONTENT=0,1,2000\r")
    module.prompt()
    module.send(b"a" * 2000)
    assert module.until_final() == [OK]
    module.fails('AT+MHTTPCONTENT=0,0,0,"' + "b" * 49 + '"', 23)  # 2049 in all
    module.ok('AT+MHTTPCONTENT=0,0,0,"' + "b" * 48 + '"')  # 2048: fits
    module.ok('AT+MHTTPHEADER=0,0,0,"Content-Type: application/octet-stream"')  # raw request: head + 2048
    module.fails('AT+MHTTPREQUEST=0,3,0,"/echo/sha256"', 50)
    assert blob_server.requests == [] or blob_server.requests[-1][1] != "/echo/sha256"
    module.ok("AT+MHTTPHEADER=0,2")
    module.ok('AT+MHTTPHEADER=0,0,0,"Content-Type: text/plain"')  # typed POST: the body alone counts
    head, body = get(module, "/echo", method=2, name="POST")
    assert body == b"a" * 2000 + b"b" * 48
    module.ok('AT+MHTTPCFG="chunked",0,1')
    module.ok('AT+MHTTPREQUEST=0,2,0,"/echo"')
    module.urc("ind")
    module.send("AT+MHTTPCONTENT=0,1,2000\r")
    module.prompt()
    module.send(b"c" * 2000)
    assert module.until_final() == [OK]
    module.send("AT+MHTTPCONTENT=0,0,100\r")
    module.prompt()
    module.send(b"d" * 100)
    assert module.until_final() == [cme(23)]
    assert module.urc("err").int("error_code") == 8
    module.ok('AT+MHTTPREQUEST=0,2,0,"/echo"')  # the instance is free again
    module.urc("ind")
    module.ok('AT+MHTTPCONTENT=0,0,0,"small"')
    assert module.response(0, "POST")[1] == b"small"


def test_a_response_timeout_is_err_6(module):
    """MHTTPCFG "timeout" <rsp_timeout> shorter than the Neoway module's 30 s is kept by the
    bridge: err 6 when it runs out.  (Last here: the Neoway module itself stays busy until its
    own timeout, and the bridge closes the link after it.)"""
    with StallServer() as server:
        create(module, f"http://127.0.0.1:{server.port}")
        module.ok('AT+MHTTPCFG="timeout",0,10,1')
        started = time.monotonic()
        module.ok('AT+MHTTPREQUEST=0,1,0,"/x"')
        assert err_code(module) == 6
        assert 0.9 <= time.monotonic() - started < 5
        assert server.received.is_set()
