"""The Neoway module side never keeps a state that holds the firmware's commands for ever (the
wedges the sans-I/O fuzzer found, issue 10).  A real N58 answers every command line: a response
ends with its length or its link, and a request the module hears nothing more about ends within
the manual's timeouts (HTTPSETUP 30 s to connect, HTTPACTION 30 s for the server), with the
link closing ("+HTTPCLOSED: HTTP Link Closed", neoway.yaml's response_timeout report)."""
from __future__ import annotations

import pytest

from bridge.at.dialect import load
from bridge.model import BodyChunk, Connected, ConnectionClosed, RequestSent, ResponseEnd, ResponseHead
from bridge.roles.module import CancelRequest, StartRequest
from bridge.neoway.module.side import NeowayModuleSide
from bridge.device.fs import ModuleFileSystem

DIALECT = load("neoway")
OK = b"\r\nOK\r\n"
HEAD = ResponseHead(200, "OK", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n",
                    (("Content-Length", "3"), ("Connection", "close")))
# The manual's 9.13 raw HTTPSACTION=99 POST, asking the server to close after its response.
RAW_POST = (b"POST /icbc/perbank/index.jsp HTTP/1.1\r\nConnection: close\r\nHost: mybank.icbc.com.cn\r\n"
            b"Content-Length: 10\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nuserId=123\r\n")
SETUP_S, ACTION_S = (float(DIALECT.command(name).timeout) for name in ("HTTPSETUP", "HTTPACTION"))


class Module:
    """The side with its clock; the executor is the test, which answers by hand."""

    def __init__(self, tmp_path) -> None:
        self.side = NeowayModuleSide(DIALECT, fs=ModuleFileSystem(tmp_path))
        self.now = 0.0
        self.send(b"ATE0\rAT+XIIC=1\r")
        self.out()

    def send(self, data: bytes) -> None:
        self.side.receive_data(data, self.now)

    def out(self) -> bytes:
        return self.side.data_to_send()

    def started(self) -> int:
        actions = self.side.take_actions()
        assert len(actions) == 1 and isinstance(actions[0], StartRequest), actions
        return actions[0].token

    def events(self, token: int, *events) -> None:
        for event in events:
            self.side.handle_event(token, event, self.now)

    def link_up(self, family: str, **para: str) -> None:
        for name, value in {"url": "mybank.icbc.com.cn/icbc/perbank/index.jsp", **para}.items():
            self.send(b"AT+%sPARA=%s,%s\r" % (family.encode(), name.encode(), value.encode()))
        self.send(b"AT+%sSETUP\r" % family.encode())
        self.events(self.started(), Connected())
        assert self.out().endswith(OK + OK)

    def at_time(self, now: float) -> None:
        self.now = now
        due = self.side.next_deadline()
        if due is not None and due <= now:
            self.side.on_time(now)


@pytest.fixture
def module(tmp_path):
    return Module(tmp_path)


@pytest.mark.parametrize("keepalive", ["0", "1"])
def test_a_raw_request_asking_to_close_ends_with_its_response(module, keepalive):
    """HTTPSACTION=99 with "Connection: close", then HTTPSCLOSE: the response ends at its length and
    the link with it ("The server disconnects with the module after it finishes responding"),
    whether or not the executor reports the close -- so HTTPSCLOSE and AT are answered."""
    module.link_up("HTTPS", keepalive=keepalive)
    module.send(b"AT+HTTPSACTION=99,%d\r" % len(RAW_POST))
    assert module.out() == b"\r\n>"
    module.send(RAW_POST)
    token = module.started()
    module.events(token, RequestSent(), HEAD, BodyChunk(b"abc", 0, 3), ResponseEnd(3))  # no ConnectionClosed
    module.send(b"AT+HTTPSCLOSE\rAT\r")
    assert module.out() == (OK + b"\r\n+HTTPSRECV:\r\n" + HEAD.raw + b"\r\nabc"
                            + b"\r\n+HTTPSCLOSED: HTTPS Link Closed\r\n" + OK + OK)
    module.events(token, ConnectionClosed())  # late: the link is already closed
    assert module.out() == b""


def test_a_get_without_keepalive_closes_its_link_when_the_response_ends(module):
    module.link_up("HTTP")
    module.send(b"AT+HTTPACTION=0\r")
    module.events(module.started(), RequestSent(), HEAD, BodyChunk(b"abc", 0, 3), ResponseEnd(3))
    module.send(b"AT\r")
    assert module.out() == OK + b"\r\n+HTTPRECV:\r\n" + HEAD.raw + b"\r\nabc\r\n+HTTPCLOSED: HTTP Link Closed\r\n" + OK


def test_a_response_that_stops_coming_ends_within_the_manuals_timeouts(module):
    """recvmode 0 holds commands while the response streams; when the executor then says nothing
    more, the module side gives up after HTTPSETUP's plus HTTPACTION's timeout: the link closes,
    the request is cancelled, and the held HTTPCLOSE and AT are answered."""
    module.link_up("HTTP")
    module.send(b"AT+HTTPACTION=0\r")
    token = module.started()
    module.events(token, RequestSent(), HEAD, BodyChunk(b"a", 0, 3))
    module.send(b"AT+HTTPCLOSE\rAT\r")
    assert module.out() == OK + b"\r\n+HTTPRECV:\r\n" + HEAD.raw + b"\r\na"
    module.at_time(SETUP_S + ACTION_S - 0.5)
    assert module.out() == b""  # the executor may still report within its own bounds
    module.at_time(SETUP_S + ACTION_S + 0.5)
    assert module.side.take_actions() == [CancelRequest(token)]
    assert module.out() == b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n" + OK + OK
    assert module.side.next_deadline() is None


def test_every_event_restarts_the_bound(module):
    """A slow response that keeps coming is not cut: the bound counts silence, not the whole."""
    module.link_up("HTTP", recvmode="1")
    module.send(b"AT+HTTPACTION=0\r")
    token = module.started()
    module.events(token, RequestSent(), HEAD)
    for second in range(1, 4):
        module.at_time(second * (SETUP_S + ACTION_S - 1))
        module.events(token, BodyChunk(b"a", second - 1, 3))
    module.out()
    module.events(token, ResponseEnd(3))
    assert module.out().endswith(b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n")
    assert module.side.take_actions() == []


def test_a_close_waiting_on_a_file_transfer_is_answered_within_the_bound(module):
    """FILEHTTPACTION answers OK at once and its upload may take long; an HTTPCLOSE that waits on
    it holds the commands after it, so from then on the same bound applies."""
    module.link_up("HTTP")
    module.side.fs.write_file("/up.bin", b"x" * 100)
    module.send(b'AT+FILEHTTPACTION=1,100,0,"up.bin"\r')
    token = module.started()
    assert module.out() == OK
    module.at_time(10 * (SETUP_S + ACTION_S))
    assert module.side.take_actions() == [] and module.out() == b""  # no bound on the transfer alone
    module.send(b"AT+HTTPCLOSE\rAT\r")
    assert module.out() == b""
    module.at_time(11 * (SETUP_S + ACTION_S) + 0.5)
    assert module.side.take_actions() == [CancelRequest(token)]
    # 9.21: <stat> 0, the upload failed; then HTTPCLOSE's OK and report (9.4), then AT's OK
    assert module.out() == b"\r\n+FILEHTTPSTAT: 1,0\r\n" + OK + b"\r\n+HTTPCLOSE: HTTP Link Closed\r\n" + OK
