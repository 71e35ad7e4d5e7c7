"""Neoway mode 99 (AT+HTTPACTION=99 / AT+HTTPSACTION=99): the packet goes to the server as the
firmware wrote it, whether or not it ends with CRLF.

A custom PUT or POST ends with its body: the manual's own AT+HTTPSACTION=99 example (9.13) ends
with the data to be sent, and public tracker firmware sends
``...Content-Length: 22\\r\\n\\r\\n{"status": "ACCEPTED"}`` with nothing after the body.  A real
module does not parse the packet; it sends it.  Checked against a real loopback server, directly
on the emulator and through the bridge to the OneMO emulator.
"""
from __future__ import annotations

import pytest

from support.servers import server_context
from support.neoway_bridged import action, session
from support.neoway_emulated import OK, Canned, ask, neoway, wait_for

HOST = "www.neoway.com.cn"
BODY = b'{"status": "ACCEPTED"}'
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
CLOSED = {"HTTP": r"\r\n\+HTTPCLOSED: HTTP Link Closed\r\n", "HTTPS": r"\r\n\+HTTPSCLOSED: HTTPS Link Closed\r\n"}


def tracker_packet(method: str = "PUT", body: bytes = BODY) -> bytes:
    """The tracker's packet: headers, the empty line, the JSON body -- and nothing after it."""
    assert len(BODY) == 22
    return (f"{method} /api/v1/devices/42/status HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer t0k3n\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def send_packet(fw, family: str, port: int, packet: bytes) -> bytes:
    """HTTP(S)PARA url, HTTP(S)SETUP, HTTP(S)ACTION=99 with the packet; the answer to the packet."""
    assert ask(fw, f"AT+{family}PARA=url,{HOST}:{port}/ignored") == OK
    assert ask(fw, f"AT+{family}SETUP") == OK
    return action(fw, f"AT+{family}ACTION=99,{len(packet)}", packet)


def check_arrived(server: Canned, method: str, body: bytes) -> None:
    assert server.done.wait(5), "the request never reached the server"
    seen = server.seen[0]
    assert (seen.method, seen.target, seen.body) == (method, "/api/v1/devices/42/status", body)
    assert ("Content-Length", str(len(body))) in seen.headers
    assert ("Authorization", "Bearer t0k3n") in seen.headers


@pytest.mark.timeout(15)
@pytest.mark.parametrize("ending", [b"", b"\r\n"], ids=["body-last", "crlf-after-body"])
def test_put_with_json_body_directly(tmp_path, ending):
    with Canned(RESPONSE) as server, neoway(tmp_path) as (fw, side):
        assert send_packet(fw, "HTTP", server.port, tracker_packet() + ending) == OK
        assert wait_for(fw, CLOSED["HTTP"]).startswith(b"\r\n+HTTPRECV:\r\n" + RESPONSE)
    check_arrived(server, "PUT", BODY)


@pytest.mark.timeout(15)
def test_httpsaction_99_post_ending_with_its_body_directly(tmp_path, ca):
    """The manual's 9.13 example: a POST to mybank.icbc.com.cn whose packet ends with the data."""
    data = b"a=1&b=2&c3"
    packet = (b"POST /api/v1/devices/42/status HTTP/1.1\r\nConnection: close\r\nHost: mybank.icbc.com.cn\r\n"
              b"Authorization: Bearer t0k3n\r\nContent-Length: 10\r\n"
              b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" + data)
    with Canned(RESPONSE, tls_context=server_context(ca, names=(HOST,))) as server, neoway(tmp_path) as (fw, side):
        assert send_packet(fw, "HTTPS", server.port, packet) == OK
        assert wait_for(fw, CLOSED["HTTPS"]).startswith(b"\r\n+HTTPSRECV:\r\n" + RESPONSE)
    check_arrived(server, "POST", data)


@pytest.mark.timeout(15)
@pytest.mark.parametrize("method", ["PATCH", "OPTIONS"])
def test_methods_beyond_get_post_put_delete_head_directly(tmp_path, method):
    with Canned(RESPONSE) as server, neoway(tmp_path) as (fw, side):
        assert send_packet(fw, "HTTP", server.port, tracker_packet(method)) == OK
        wait_for(fw, CLOSED["HTTP"])
    check_arrived(server, method, BODY)


@pytest.mark.timeout(20)
def test_put_with_json_body_bridged(tmp_path):
    """Neoway firmware -> bridge -> OneMO emulator: the packet is parsed into the request model
    and reaches the server with its method, target, headers and the whole body."""
    with Canned(RESPONSE) as server, session(tmp_path) as (fw, bridge, module):
        assert send_packet(fw, "HTTP", server.port, tracker_packet()) == OK
        text = wait_for(fw, CLOSED["HTTP"])
        assert text.startswith(b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\n") and text.split(b"\r\n\r\n", 1)[1].startswith(b"ok")
    check_arrived(server, "PUT", BODY)
