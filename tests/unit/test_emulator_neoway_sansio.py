"""The Neoway module side in memory (no pty, no sockets): events the network cannot be made to
produce on demand (a send failure), the order of answers, and the pieces it is built from."""
from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.at.dialect import load
from bridge.model import BodyChunk, Connected, ConnectionClosed, ErrorKind, Failure, Method, ResponseEnd, ResponseHead
from bridge.roles.module import CancelRequest, StartRequest
from bridge.neoway.module.side import NeowayModuleSide
from bridge.neoway.params import ParamError
from bridge.neoway.module.rawrequest import parse_raw_request
from bridge.neoway.module.recv import RecvWriter
from bridge.neoway.module.reports import Reports
from bridge.neoway.module.url import parse_target
from bridge.device.hosts import HostsResolver
from bridge.device.fs import ModuleFileSystem

DIALECT = load("neoway")
CONNECTED = Connected()
HEAD = ResponseHead(200, "OK", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n", (("Content-Length", "3"),))


class Drive:
    """The side with its clock, input and output in reach."""

    def __init__(self, tmp_path) -> None:
        self.side = NeowayModuleSide(DIALECT, fs=ModuleFileSystem(tmp_path))
        self.now = 0.0
        self.send("ATE0\rAT+XIIC=1\r")
        self.out()

    def send(self, text: str | bytes) -> None:
        self.side.receive_data(text.encode() if isinstance(text, str) else text, self.now)

    def out(self) -> bytes:
        return self.side.data_to_send()

    def started(self) -> StartRequest:
        actions = self.side.take_actions()
        assert len(actions) == 1 and isinstance(actions[0], StartRequest), actions
        return actions[0]

    def event(self, token: int, *events) -> None:
        for event in events:
            self.side.handle_event(token, event, self.now)

    def link(self, family: str = "HTTP", **para) -> None:
        for name, value in {"url": "www.neoway.com.cn/x", **para}.items():
            self.send(f"AT+{family}PARA={name},{value}\r")
        self.send(f"AT+{family}SETUP\r")
        self.event(self.started().token, CONNECTED)
        assert self.out().endswith(b"\r\nOK\r\n")


@pytest.fixture
def drive(tmp_path):
    return Drive(tmp_path)


@pytest.mark.parametrize("family, answer", [("HTTP", b"\r\n+HTTPSEND: ERROR\r\n"), ("HTTPS", b"\r\nERROR\r\n")])
def test_send_failure_in_place_of_ok(drive, family, answer):
    drive.link(family)
    drive.send(f"AT+{family}ACTION=0\r")
    drive.event(drive.started().token, Failure(ErrorKind.SEND_FAILED, "send failed: broken pipe"))
    assert drive.out() == answer
    drive.send(f"AT+{family}ACTION=0\r")  # the link went down with it
    assert drive.out() == (b"\r\nERROR\r\n" if family == "HTTPS" else b"\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n")


def test_failure_after_sending_comes_before_held_commands(drive):
    drive.link()
    drive.send("AT+HTTPACTION=0\rAT+HTTPACTION=0\r")
    drive.event(drive.started().token, Failure(ErrorKind.RESPONSE_TIMEOUT, "no data for 30 s"))
    assert drive.out() == (b"\r\nOK\r\n\r\n+HTTPCLOSED: HTTP Link Closed\r\n"
                           b"\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n")  # the held one sees the link gone


def test_commands_wait_for_the_unanswered_one(drive):
    drive.send("AT+HTTPPARA=url,www.neoway.com.cn/x\rAT+HTTPSETUP\rAT+CSQ\rAT\r")
    token = drive.started().token
    assert drive.out() == b"\r\nOK\r\n"  # HTTPPARA only: the rest waits for HTTPSETUP
    drive.event(token, CONNECTED)
    assert drive.out() == b"\r\nOK\r\n\r\n+CSQ: 25,99\r\n\r\nOK\r\n\r\nOK\r\n"


def test_ok_comes_with_the_response_and_close_after_it(drive):
    drive.link()
    drive.send("AT+HTTPACTION=0\r")
    token = drive.started().token
    assert drive.out() == b""
    drive.event(token, HEAD, BodyChunk(b"ab", 0, 3))
    assert drive.out() == b"\r\nOK\r\n\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab"
    drive.send("AT+HTTPCLOSE\rAT\r")
    assert drive.out() == b""  # answered once the response has ended
    drive.event(token, BodyChunk(b"c", 2, 3), ResponseEnd(3), ConnectionClosed())
    assert drive.out() == b"c\r\n+HTTPCLOSED: HTTP Link Closed\r\n\r\nOK\r\n\r\nOK\r\n"


def test_keepalive_close_while_streaming(drive):
    drive.link(keepalive=1, recvmode=1)
    drive.send("AT+HTTPACTION=1\r")
    token = drive.started().token
    drive.event(token, HEAD)
    assert drive.out() == b"\r\nOK\r\n"  # recvmode 1 holds the head for the first body bytes
    drive.send("AT+HTTPCLOSE\r")
    drive.event(token, ResponseEnd(0))
    head = HEAD.raw + b"\r\n"
    assert drive.out() == b"\r\n+HTTPRECV: %d," % len(head) + head + b"\r\n\r\nOK\r\n\r\n+HTTPCLOSE: HTTP Link Closed\r\n"
    drive.event(token, ConnectionClosed())  # late: the link is already closed
    assert drive.out() == b""


def test_server_closing_a_kept_alive_link_later(drive):
    drive.link(keepalive=1)
    drive.send("AT+HTTPACTION=1\r")
    token = drive.started().token
    drive.event(token, HEAD, ResponseEnd(0))
    drive.out()
    drive.event(token, ConnectionClosed())
    assert drive.out() == b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n"


def test_probe_that_got_a_response_still_means_connected(drive):
    drive.send("AT+HTTPPARA=url,www.neoway.com.cn/x\rAT+HTTPSETUP\r")
    token = drive.started().token
    drive.event(token, HEAD)
    assert drive.out().endswith(b"\r\nOK\r\n\r\nOK\r\n")
    assert drive.side.take_actions() == [CancelRequest(token)]
    drive.event(token, ResponseEnd(3))  # ignored
    assert drive.out() == b""


def test_a_failing_job_does_not_stop_the_module(drive, monkeypatch, caplog):
    drive.link()
    drive.send("AT+HTTPACTION=0\r")
    token = drive.started().token
    job = drive.side._jobs[token]
    monkeypatch.setattr(job, "on_event", lambda event, now: 1 / 0)
    drive.event(token, HEAD)
    assert drive.out() == b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n"
    drive.send("AT\r")
    assert drive.out() == b"\r\nOK\r\n"


def test_unknown_events_and_tokens_are_ignored(drive):
    drive.event(99, HEAD, "not an event", None)
    assert drive.out() == b""


def test_post_request_built_from_the_data(drive):
    drive.link()
    drive.send("AT+HTTPACTION=2,5,2\r")
    assert drive.out() == b"\r\n>"
    drive.send(b"{}\r\n\x1a")
    request = drive.started().request
    assert (request.method, request.body, request.headers) == (Method.POST, b"{}\r\n\x1a", [("Content-Type", "application/json")])
    assert request.url == "http://www.neoway.com.cn:80/x" and request.keep_alive is False


def test_input_timeout_comes_from_the_timer(drive):
    drive.side.input_timeout = 2.0
    drive.link()
    drive.send("AT+HTTPACTION=99,100\r")
    assert drive.side.next_deadline() == 2.0
    drive.send(b"GET / HTTP/1.1\r\n")
    drive.side.on_time(2.0)
    assert drive.out() == b"\r\n>\r\n+HTTPACTION: OPERATION EXPIRED\r\n"
    assert drive.side.take_actions() == []


TEMPLATES = [
    "AT+{F}PARA=url,www.neoway.com.cn/x", "AT+{F}PARA=recvmode,{b}", "AT+{F}PARA=keepalive,{b}", "AT+{F}PARA=port,{n}",
    "AT+{F}SETUP", "AT+{F}ACTION={m}", "AT+{F}ACTION=0,{n},{n}", "AT+{F}ACTION=2,{n},{b}", "AT+{F}ACTION=99,{n}",
    "AT+{F}CLOSE", "AT+{F}GET={b}", "AT+{F}GET={b},0,{s}", "AT+{F}GETSTAT?", "AT+FILE{F}ACTION=0,{n},{n}",
    "AT+FILE{F}ACTION=1,{n},{b},a.txt", 'AT+HTTPSCFG="authmode",{b}', 'AT+HTTPSCFG="sslversion",{b}', "AT+HTTPSCFG?",
    "AT+CGATT={b}", "AT+XIIC=1", "AT+XIIC?", "AT+CMEE={b}", "AT",
]
COMMANDS = st.builds(
    lambda template, family, b, m, n, s: (template.format(F=family, b=b, m=m, n=n, s=s) + "\r").encode(),
    st.sampled_from(TEMPLATES), st.sampled_from(["HTTP", "HTTPS"]), st.sampled_from(["0", "1", "2"]),
    st.sampled_from(["0", "1", "2", "99", "3"]), st.sampled_from(["0", "1", "5", "80", "2048", "2049", "524288"]),
    st.sampled_from(["", "abc", "d41d8cd98f00b204e9800998ecf8427e", '"x']),
)
OUTCOMES = [[CONNECTED], [Failure(ErrorKind.CONNECT_FAILED, "refused")], [HEAD, BodyChunk(b"abc", 0, 3), ResponseEnd(3), ConnectionClosed()],
            [HEAD, Failure(ErrorKind.CONNECTION_CLOSED, "mid-body")], [Failure(ErrorKind.RESPONSE_TIMEOUT, "silence")],
            [HEAD, ResponseEnd(0)]]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=64), COMMANDS), max_size=40), st.data())
def test_no_input_raises(tmp_path_factory, pieces, data):
    """Nothing raises -- not even inside the side, where a catch-all would hide it (it logs)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("bridge.neoway.module.side")
    logger.addHandler(handler)
    try:
        drive = Drive(tmp_path_factory.mktemp("fs"))
        drive.send("AT+HTTPPARA=url,www.neoway.com.cn/x\rAT+HTTPSPARA=url,www.neoway.com.cn/x\r")
        for piece in pieces:
            drive.send(piece)
            for action in drive.side.take_actions():
                if isinstance(action, StartRequest):
                    drive.event(action.token, *data.draw(st.sampled_from(OUTCOMES)))
        drive.side.on_time(1e9)
        assert isinstance(drive.out(), bytes)
    finally:
        logger.removeHandler(handler)
    assert records == []


# ---- the pieces -----------------------------------------------------------------------------------


def test_recv_writer_rechunks_a_chunked_body():
    head = ResponseHead(200, "OK", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n", (("Transfer-Encoding", "chunked"),))
    writer = RecvWriter("+HTTPRECV", "0", "GET")
    out = writer.head(head) + writer.body(b"hello") + writer.body(b"x" * 20) + writer.end()
    assert out == b"\r\n+HTTPRECV:\r\n" + head.raw + b"\r\n" + b"5\r\nhello\r\n14\r\n" + b"x" * 20 + b"\r\n0\r\n\r\n"
    head_only = RecvWriter("+HTTPRECV", "1", "HEAD")
    assert head_only.head(head) == b"" and head_only.end() == b"\r\n+HTTPRECV: %d," % (len(head.raw) + 2) + head.raw + b"\r\n\r\n"


def test_recv_writer_pieces_are_bounded():
    writer = RecvWriter("+HTTPSRECV", "1", "GET", piece_max=10)
    writer.head(HEAD)
    out = writer.body(b"abc")
    raw = HEAD.raw + b"\r\nabc"
    expected = b"".join(b"\r\n+HTTPSRECV: %d," % len(raw[i:i + 10]) + raw[i:i + 10] + b"\r\n" for i in range(0, len(raw), 10))
    assert out == expected and writer.sent == len(raw)


def test_reports_for_both_families():
    reports = Reports(DIALECT)
    assert reports.urc(ErrorKind.CONNECTION_CLOSED, True) == ("+HTTPSCLOSED: HTTPS Link Closed", False)
    assert reports.urc(ErrorKind.CANCELLED, True) == ("+HTTPSCLOSE: HTTPS Link Closed", False)
    assert reports.urc(ErrorKind.CONNECT_FAILED, False) == ("+HTTPACTION: SOCKET ID OPEN FAILED", False)
    assert reports.urc(ErrorKind.CONNECT_FAILED, True) == ("ERROR", True)
    assert reports.urc(ErrorKind.TLS_FAILED, True) == ("+HTTPSCLOSED: HTTPS Link Closed", False)
    assert reports.urc(ErrorKind.VERIFY_FAILED, True) == ("+HTTPSGETRPT: 31", False)
    assert reports.instead_of_ok(ErrorKind.INPUT_TIMEOUT, False) == "+HTTPACTION: OPERATION EXPIRED"
    assert reports.cme(ErrorKind.NO_DATA_LINK) == "1001" and reports.cme(ErrorKind.INVALID_PARAMETER) == "53"
    assert reports.file_stat("0", ErrorKind.FILE_WRITE_FAILED) == "+FILEHTTPSTAT: 0,1413"
    assert reports.file_stat("0", ErrorKind.SEND_FAILED) == "+FILEHTTPSTAT: 0,301"
    assert reports.file_stat("1", ErrorKind.SEND_FAILED) == "+FILEHTTPSTAT: 1,0"
    assert reports.file_stat("1", ErrorKind.DNS_FAILED) == "+FILEHTTPSTAT: 1,0"
    for kind in ErrorKind:  # every line printed for a kind is one the dialect declares
        for secure in (False, True):
            line, final = reports.urc(kind, secure)
            assert final or line.partition(":")[0] in DIALECT.frames


@pytest.mark.parametrize("text, parts", [
    ("www.neoway.com.cn/en/index.aspx", ("www.neoway.com.cn", None, "/en/index.aspx")),
    ("HTTP://host:8080", ("host", 8080, "/")),
    ("host?x=1", ("host", None, "/?x=1")),
    ("[::1]:81/a", ("::1", 81, "/a")),
    ("121.15.200.97/Service1.asmx/GetNote", ("121.15.200.97", None, "/Service1.asmx/GetNote")),
])
def test_parse_target(text, parts):
    target = parse_target(text)
    assert (target.host, target.port, target.path) == parts


@pytest.mark.parametrize("text", ["", "/path", "ho st/x", "host:0/x", "host:/x", "[::1/x", "[nope]/x", "h/a\tb", "user@host/x"])
def test_parse_target_rejects(text):
    with pytest.raises(ParamError):
        parse_target(text)


def test_parse_raw_request_forms():
    raw = parse_raw_request(b"PUT http://h/a?b=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    assert (raw.method, raw.target, raw.body, raw.keep_alive) == (Method.PUT, "/a?b=1", b"abc", True)
    raw = parse_raw_request(b"GET / HTTP/1.0\r\n\r\n")
    assert raw.keep_alive is False and raw.headers == []


def test_cdnsgip_is_answered_at_once_and_only_with_a_hosts_map(drive):
    """The hosts map is in memory: OK and the +CDNSGIP line come out of the same input, no request
    and no timer.  Without a resolver (a bridge: the module behind is not asked) ERROR."""
    drive.send('AT+CDNSGIP="www.neoway.com.cn"\r')
    assert drive.out() == b"\r\nERROR\r\n"
    drive.side.resolver = HostsResolver({"www.neoway.com.cn": ["127.0.0.1"]})
    drive.send('AT+CDNSGIP="www.neoway.com.cn"\r')
    assert drive.out() == b'\r\nOK\r\n\r\n+CDNSGIP: 1,"www.neoway.com.cn","127.0.0.1"\r\n'
    assert drive.side.take_actions() == [] and drive.side.next_deadline() is None

