"""Neoway AT+HTTPACTION answers OK once the request has been sent, as the manual's transcripts
show (9.3: OK, then "+HTTPRECV:" and the response); the response arrives unsolicited, and other
commands (firmware polls AT+CSQ while it waits) are served meanwhile, not held until the
response head arrives.  Checked against a loopback server that holds its response head until the
test lets it go: OK and +CSQ must both come while the server is still holding.
"""
from __future__ import annotations

import socket
import threading

import pytest

from support.servers import LoopbackServer
from support.bridged import bridged
from support.neoway_bridged import session
from support.neoway_emulated import OK, _read_request, ask, neoway, wait_for

HOST = "www.neoway.com.cn"
CSQ = b"\r\n+CSQ: "
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
CLOSED = r"\r\n\+HTTPCLOSED: HTTP Link Closed\r\n"


class HeldServer(LoopbackServer):
    """Reads a request, notes it (`received`), sends its response only once `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.received = threading.Event()
        self.release = threading.Event()
        self.seen = []

    def handle(self, conn: socket.socket) -> None:
        request = _read_request(conn)
        if request is None:
            return  # HTTPSETUP's connection, closed unused
        self.seen.append(request)
        self.received.set()
        if self.release.wait(20):
            conn.sendall(RESPONSE)

    def stop(self) -> None:
        self.release.set()
        super().stop()


def ok_before_the_head(fw, server: HeldServer, command: str = "AT+HTTPACTION=0") -> None:
    assert ask(fw, f"AT+HTTPPARA=url,{HOST}:{server.port}/slow") == OK
    assert ask(fw, "AT+HTTPSETUP") == OK
    assert ask(fw, command, timeout=8) == OK  # the server still holds its response head
    assert server.received.wait(5)  # OK said the request had gone out: it arrives
    answer = ask(fw, "AT+CSQ", timeout=8)
    assert answer.startswith(CSQ) and answer.endswith(OK), answer
    assert not server.release.is_set()
    server.release.set()
    text = wait_for(fw, CLOSED)
    assert text.startswith(b"\r\n+HTTPRECV:\r\n" + RESPONSE), text


@pytest.mark.timeout(30)
def test_ok_before_a_slow_response_and_csq_meanwhile(tmp_path):
    with HeldServer() as server, neoway(tmp_path) as (fw, side):
        ok_before_the_head(fw, server)
    assert server.seen[0].target == "/slow"


@pytest.mark.timeout(30)
def test_post_ok_before_a_slow_response(tmp_path):
    with HeldServer() as server, neoway(tmp_path) as (fw, side):
        assert ask(fw, f"AT+HTTPPARA=url,{HOST}:{server.port}/slow") == OK
        assert ask(fw, "AT+HTTPSETUP") == OK
        assert ask(fw, "AT+HTTPACTION=2,5,2").endswith(b"\r\n>")
        fw.send(b"{\"a\"}")
        assert wait_for(fw, r"\r\n(OK|ERROR)\r\n", timeout=8) == OK
        assert server.received.wait(5) and server.seen[0].body == b"{\"a\"}"
        answer = ask(fw, "AT+CSQ", timeout=8)
        assert answer.startswith(CSQ) and answer.endswith(OK)
        server.release.set()
        assert wait_for(fw, CLOSED).startswith(b"\r\n+HTTPRECV:\r\n" + RESPONSE)


@pytest.mark.timeout(40)
def test_ok_before_a_slow_response_bridged(tmp_path):
    with HeldServer() as server, session(tmp_path) as (fw, bridge, module):
        ok_before_the_head(fw, server)


@pytest.mark.timeout(40)
def test_ok_before_a_slow_response_bridged_to_a_neoway_module(tmp_path):
    """Through a bridge to a Neoway module, whose own OK says the request went out: the Neoway host
    side passes that on (RequestSent), so the firmware's OK does not wait for the head either."""
    with HeldServer() as server, bridged("neoway", "neoway", tmp_path, hosts={HOST: ["127.0.0.1"]}) as (fw, bridge, module):
        assert ask(fw, "AT+XIIC=1", timeout=30) == OK
        ok_before_the_head(fw, server)
