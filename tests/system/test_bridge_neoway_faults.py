"""Failures through the bridge, each from a real fault the OneMO module meets (a refused port, a
name the hosts map lacks, TLS with the wrong CA, a server that stalls, one that closes in the
middle of its body), reported to the firmware in Neoway's words -- and the bridge then serves the
next request correctly on the same session.

A OneMO module connects with each request, not ahead of it (there is no connect-only command),
so HTTPSETUP through the bridge says OK without touching the network and the fault shows at
HTTPACTION, the way a Neoway module reports a socket it cannot open: "+HTTPACTION: SOCKET ID
OPEN FAILED" (HTTPSACTION: ERROR, its manual's only failure answer)."""
from __future__ import annotations

import io

import pytest

from support import neoway_faults
from support.servers import (
    BlobServer,
    CloseMidBodyServer,
    RefusedPort,
    StallServer,
    blob_bytes,
    install_ca,
    make_ca,
    server_context,
)
from support.neoway_bridged import (
    CLOSED,
    CLOSED_RE,
    ERROR,
    HOST,
    NO_SOCKET,
    OK,
    action,
    ask,
    bridge_fs,
    recv0,
    session,
    setup,
    through_the_bridge,
    trace_records,
    wait_for,
)


def next_request_works(fw, server, family: str = "HTTP", size: int = 3000, seed: int = 9) -> None:
    """A whole GET on the same session after the fault: the bridge is back to normal."""
    setup(fw, f"{HOST}:{server.port}/blob/{size}?seed={seed}", family=family, recvmode=0)
    assert ask(fw, f"AT+{family}ACTION=0") == OK
    assert recv0(fw, family)[1] == blob_bytes(size, seed)


@pytest.mark.timeout(10)
def test_refused_connection(tmp_path):
    port = RefusedPort()
    with BlobServer() as server, session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{port}/")
        assert ask(fw, "AT+HTTPACTION=0") == NO_SOCKET
        assert ask(fw, "AT+HTTPACTION=0") == NO_SOCKET  # the link is down: HTTPSETUP first
        assert ask(fw, "AT+FILEHTTPACTION=0,0,10") == ERROR  # no HTTP link either
        next_request_works(fw, server)


@pytest.mark.timeout(10)
def test_name_not_in_the_hosts_map(tmp_path):
    with BlobServer() as server, session(tmp_path) as (fw, bridge, module):
        setup(fw, f"unknown.example:{server.port}/blob/1")
        assert ask(fw, "AT+HTTPACTION=0") == NO_SOCKET
        assert ask(fw, "AT+HTTPGET=0") == OK  # OK at once; the download fails in background
        assert wait_for(fw, r"\+HTTPGETRPT: [^\r]*\r\n") == b"\r\n+HTTPGETRPT: 11\r\n"
        assert ask(fw, "AT+HTTPGETSTAT?") == b"\r\n+HTTPGETSTAT: 11\r\n" + OK
        assert server.connections == 0  # nothing got as far as the server
        next_request_works(fw, server)


@pytest.mark.timeout(10)
def test_cdnsgip_is_answered_error(tmp_path):
    """AT+CDNSGIP (the N58's DNS query): the OneMO module behind has no DNS query the bridge uses,
    so the bridge answers ERROR, as N58 firmware without the command would; nothing goes to the
    module."""
    trace = io.BytesIO()
    with session(tmp_path, hosts={"known.test": ["127.0.0.1"]}, trace=trace) as (fw, bridge, module):
        assert ask(fw, 'AT+CDNSGIP="known.test"') == ERROR
        assert ask(fw, "AT+CDNSGIP=known.test") == ERROR
        assert ask(fw, "AT") == OK
    to_module = [r["data"] for r in trace_records(trace) if r.get("dir") == "bridge->module"]
    assert to_module and not any("CDNSGIP" in str(data) for data in to_module)


@pytest.mark.timeout(15)
def test_tls_with_the_wrong_ca(tmp_path, ca):
    other = make_ca()
    with BlobServer(server_context(ca, names=(HOST,))) as server, session(tmp_path) as (fw, bridge, module):
        install_ca(bridge_fs(tmp_path), other, "wrong.pem")
        install_ca(bridge_fs(tmp_path), ca, "right.pem")
        assert ask(fw, 'AT+HTTPSCFG="authmode",1') == OK
        assert ask(fw, 'AT+HTTPSCFG="cacert","wrong.pem"') == OK
        setup(fw, f"{HOST}:{server.port}/blob/10", family="HTTPS")
        assert ask(fw, "AT+HTTPSACTION=0") == ERROR
        # the handshake really failed (the server notes it after the client has given up)
        assert server.tls_failed.wait(5) and server.connections == 1
        assert server.requests == []
        assert ask(fw, 'AT+HTTPSCFG="cacert","missing.pem"') == OK  # a file the bridge does not have:
        assert ask(fw, "AT+HTTPSSETUP") == OK  # the name goes on, the module is assumed to hold it
        assert ask(fw, "AT+HTTPSACTION=0") == ERROR  # it does not: no verified connection
        assert server.requests == []
        assert ask(fw, 'AT+HTTPSCFG="cacert","right.pem"') == OK
        next_request_works(fw, server, "HTTPS")


@pytest.mark.timeout(15)
@pytest.mark.parametrize("recvmode", ["0", "1"])
def test_server_that_stalls(tmp_path, recvmode):
    """No answer within the response timeout (set to 1 s here): OK, then the link closes."""
    with StallServer() as stall, BlobServer() as server, session(tmp_path, response_timeout=1.0) as (fw, bridge, module):
        setup(fw, f"{HOST}:{stall.port}/", recvmode=recvmode)
        assert ask(fw, "AT+HTTPACTION=0", timeout=8) == OK
        assert wait_for(fw, r"\r\n\+HTTP[^\r]*\r\n", timeout=8) == CLOSED["HTTP"]
        assert stall.received.is_set()
        assert ask(fw, "AT+HTTPACTION=0") == NO_SOCKET
        next_request_works(fw, server)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("recvmode", ["0", "1"])
def test_server_that_closes_mid_body(tmp_path, recvmode):
    """What arrived, then +HTTPCLOSED: the firmware sees a body short of its Content-Length."""
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"\xab" * 100
    with CloseMidBodyServer(total=1000, sent=100) as broken, BlobServer() as server, session(tmp_path) as (fw, bridge, module):
        setup(fw, f"{HOST}:{broken.port}/", recvmode=recvmode)
        assert ask(fw, "AT+HTTPACTION=0") == OK
        text = wait_for(fw, CLOSED_RE["HTTP"])
        if recvmode == "0":
            assert text == b"\r\n+HTTPRECV:\r\n" + raw + CLOSED["HTTP"]
        else:
            pieces = text[: -len(CLOSED["HTTP"])].split(b"\r\n+HTTPRECV: ")[1:]
            assert b"".join(piece.split(b",", 1)[1] for piece in pieces) == raw + b"\r\n"
        next_request_works(fw, server)


@pytest.mark.timeout(10)
def test_data_after_the_prompt_that_never_comes(tmp_path):
    """Not a network fault, but the other way a request fails before it is sent."""
    with BlobServer() as server, session(tmp_path, input_timeout=0.5) as (fw, bridge, module):
        setup(fw, f"{HOST}:{server.port}/echo")
        assert ask(fw, "AT+HTTPACTION=2,10") == b"\r\n>"
        fw.send(b"abc")
        assert wait_for(fw, r"\r\n\+HTTPACTION: [^\r]*\r\n", timeout=5) == b"\r\n+HTTPACTION: OPERATION EXPIRED\r\n"
        assert server.requests == []
        assert action(fw, "AT+HTTPACTION=2,3", b"xyz") == OK  # the link is still up
        assert recv0(fw)[1] == b"xyz"


# ---- the Neoway emulator's own fault conversations, through the bridge unchanged ------------------


def bridge_root(tmp_path):
    """The bridge's file system: what the firmware's paths name when the bridge is its module."""
    return tmp_path / "bridge-fs"


@pytest.mark.timeout(10)
@pytest.mark.parametrize("family", ["HTTP", "HTTPS"])
@pytest.mark.parametrize("sent", [b"", b"half"])
def test_emulator_data_after_prompt_never_comes(tmp_path, ca, family, sent):
    answer = b"\r\n+HTTPACTION: OPERATION EXPIRED\r\n" if family == "HTTP" else ERROR
    neoway_faults.data_after_prompt_never_comes(tmp_path, ca, family, answer, sent, neoway=through_the_bridge)


@pytest.mark.timeout(10)
def test_emulator_data_link_down(tmp_path):
    neoway_faults.data_link_down(tmp_path, neoway=through_the_bridge)


@pytest.mark.timeout(20)
def test_emulator_bad_commands_are_errors(tmp_path):
    """Every bad Neoway command: ERROR (+CME ERROR: 53 for FILEHTTPACTION), the bridge's own or,
    for lines that are no Neoway HTTP command (AT+NOSUCH, ATX, hello), the OneMO module's."""
    neoway_faults.bad_commands_are_errors(tmp_path, neoway=through_the_bridge, fs_root=bridge_root)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("raw", [b"GET / HTTP/1.1\r\nHost: x\r\n\r", b"OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n",
                                 b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc\r\n", b"not http at all\r\n"])
def test_emulator_bad_raw_requests_are_errors(tmp_path, raw):
    neoway_faults.bad_raw_requests_are_errors(tmp_path, raw, neoway=through_the_bridge)


@pytest.mark.timeout(30)
def test_emulator_random_bytes(tmp_path):
    """100 KB of noise: every line an error (the bridge's, or the OneMO module's for the lines it
    forwards), AT+CGSN then answered by the module, and the bridge still serving."""
    neoway_faults.random_bytes(tmp_path, neoway=through_the_bridge)
