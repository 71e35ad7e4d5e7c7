"""The Neoway host side, sans-I/O: the manual's module output (tests/data/examples_neoway.yaml) and
generated responses, in any chunking and with unrelated URCs between their frames, give the right
events; every error line maps to the dialect's error kind; a silent module times out at the
deadline; mode-99 requests are the bytes h11 writes."""
from __future__ import annotations

import re
from typing import Callable, Optional

import h11
import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from bridge.at.frames import Command
from bridge.model import (BodyChunk, ByteRange, Connected, ErrorKind, Failure, Method, Progress, Request, ResponseEnd,
                          ResponseHead, Timeouts, TlsSettings, VerifyMode)
from bridge.roles.host_commands import SETTLE
from bridge.neoway.host.context import COMMAND_TIMEOUT, WAIT_MARGIN
from bridge.neoway.host.side import NeowayHostSide
from support.hostside import body, cuts_for, events_of, feed, kinds, lines
from support.neoway_hostside import (CLOSED, CLOSES, DIALECT, ERROR, HTTP_PARAS, HTTP_SETUP, OK, STARTUP,
                                     STARTUP_ANSWERS, URL, FakeModule, http_response, piece, run_get_until_action,
                                     started)
from support.paths import DATA

EXAMPLES = {e["name"]: e for e in yaml.safe_load((DATA / "examples_neoway.yaml").read_text("utf-8"))}
UNRELATED = [b"\r\nRING\r\n", b"\r\n+CEREG: 1\r\n", b'\r\n+CMT: "",3\r\n0891683108\r\n', b'\r\n+CLIP: "13800138000",129\r\n']


# ---- helpers ------------------------------------------------------------------------------------


def example_stream(name: str) -> bytes:
    entry = EXAMPLES[name]
    stream = entry["stream"].encode("latin-1")
    fill = entry.get("body_fill")
    return stream.replace(b"{BODY}", fill["byte"].encode() * fill["length"]) if fill else stream


def answers(commands: int, response: bytes, prompt: Optional[bytes] = None) -> bytes:
    """OK to each of `commands`, the last one (HTTPACTION) after `prompt`, then `response`."""
    return OK * (commands - 1) + (prompt or b"") + OK + response


def response_part(stream: bytes) -> bytes:
    """From the first +HTTPRECV / +HTTPSRECV on (what comes after HTTPACTION's OK)."""
    return stream[re.search(rb"\r\n\+HTTPS?RECV", stream).start():]


def check_head(head: ResponseHead) -> None:
    assert head.raw.startswith(b"HTTP/1.1 ") and head.raw.endswith(b"\r\n") and not head.raw.endswith(b"\r\n\r\n")
    assert head.raw.count(b"\r\n") == 1 + len(head.headers)


# ---- the manual's streams, any chunking ------------------------------------------------------------

TLS = [b'AT+HTTPSCFG="sslversion",3', b'AT+HTTPSCFG="authmode",0']
RAW_POST = (b"POST /icbc/perbank/index.jsp HTTP/1.1\r\nHost: mybank.icbc.com.cn\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\nContent-Length: 10\r\n\r\nuserId=123\r\n")
RAW_HEAD = b"HEAD /en/index.aspx HTTP/1.1\r\nHost: www.neoway.com.cn\r\nAccept: */*\r\nConnection: close\r\n\r\n"
MANUAL = {
    # example: (request, commands up to the action, data after '>', status, body length, reason the body ends)
    "9.3 GET request (module)": (Request(Method.GET, URL), HTTP_SETUP + [b"AT+HTTPACTION=0"], None, 200, 13842),
    "9.3 HEAD request (module)": (Request(Method.HEAD, URL), HTTP_SETUP + [b"AT+HTTPACTION=1"], None, 200, 0),
    "9.3 POST request (module)": (
        Request(Method.POST, "http://121.15.200.97:8080/Service1.asmx/GetNote", [("Content-Type", "application/x-www-form-urlencoded")],
                b"MAC=NEOWAY&DATA=0123456"),
        [b'AT+HTTPPARA=url,"121.15.200.97/Service1.asmx/GetNote"', b"AT+HTTPPARA=port,8080", b"AT+HTTPPARA=keepalive,0",
         b"AT+HTTPSETUP", b"AT+HTTPACTION=2,23,0"], b"MAC=NEOWAY&DATA=0123456", 200, 98),
    "9.3 raw request, mode 99 (module)": (
        Request(Method.HEAD, URL, [("Accept", "*/*")]), HTTP_SETUP + [b"AT+HTTPACTION=99,%d" % len(RAW_HEAD)], RAW_HEAD, 200, 0),
    "9.5 recvmode 0 (module)": (Request(Method.HEAD, URL), HTTP_SETUP + [b"AT+HTTPACTION=1"], None, 200, 0),
    "9.5 recvmode 1 (module)": (Request(Method.GET, URL, byte_range=ByteRange(0, 9)), HTTP_SETUP + [b"AT+HTTPACTION=0,0,10"], None, 206, 10),
    "9.13 GET request (module)": (
        Request(Method.GET, "https://support.cdmatech.com/login/"),
        TLS + [b'AT+HTTPSPARA=url,"support.cdmatech.com/login/"', b"AT+HTTPSPARA=port,443", b"AT+HTTPSPARA=keepalive,0",
               b"AT+HTTPSSETUP", b"AT+HTTPSACTION=0"], None, 200, 7630),
    "9.13 HEAD request (module)": (
        Request(Method.HEAD, "https://support.cdmatech.com/login/"),
        TLS + [b'AT+HTTPSPARA=url,"support.cdmatech.com/login/"', b"AT+HTTPSPARA=port,443", b"AT+HTTPSPARA=keepalive,0",
               b"AT+HTTPSSETUP", b"AT+HTTPSACTION=1"], None, 200, 0),
    "9.13 raw POST, mode 99 (module)": (  # a streamed body goes as a raw request
        Request(Method.POST, "https://mybank.icbc.com.cn/icbc/perbank/index.jsp",
                [("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", "10")], [b"userId=", b"123"]),
        TLS + [b'AT+HTTPSPARA=url,"mybank.icbc.com.cn/icbc/perbank/index.jsp"', b"AT+HTTPSPARA=port,443",
               b"AT+HTTPSPARA=keepalive,0", b"AT+HTTPSSETUP", b"AT+HTTPSACTION=99,%d" % len(RAW_POST)], RAW_POST, 200, 1000),
    "9.15 recvmode 1 (module)": (
        Request(Method.GET, "https://www.alipay.com/index.html", byte_range=ByteRange(0, 9)),
        TLS + [b'AT+HTTPSPARA=url,"www.alipay.com/index.html"', b"AT+HTTPSPARA=port,443", b"AT+HTTPSPARA=keepalive,0",
               b"AT+HTTPSSETUP", b"AT+HTTPSACTION=0,0,10"], None, 206, 10),
}


@pytest.mark.parametrize("name", MANUAL)
@given(data=st.data())
def test_manual_responses_in_any_chunking(name, data):
    request, commands, sent_data, status, length = MANUAL[name]
    stream = answers(len(commands), response_part(example_stream(name)), b"\r\n>" if sent_data else None)
    host = started()
    token = host.submit(request)
    sent = host.data_to_send() + feed(host, stream, cuts_for(data, stream))
    if sent_data:
        assert sent.count(sent_data) == 1
        sent = sent.replace(sent_data, b"")
    assert lines(sent) == commands  # no AT+HTTPCLOSE: keepalive 0, the module closes the link itself
    events = events_of(host, token)
    assert kinds(events) == ["ResponseHead"] + ["BodyChunk"] * (len(events) - 2) + ["ResponseEnd"]
    check_head(events[0])
    assert events[0].status == status and events[-1] == ResponseEnd(length) and len(body(events)) == length
    assert [e.offset for e in events if isinstance(e, BodyChunk)] == [sum(len(e.data) for e in events[1:i]) for i in range(1, len(events) - 1)]
    assert host.take_unsolicited() == []
    feed(host, OK + b"\r\n+HTTPCLOSE: HTTP Link Closed\r\n")
    assert host.idle and host.take_unsolicited() == []


def test_the_manual_recvmode_1_piece_is_the_raw_response():
    host = started()
    token = host.submit(MANUAL["9.5 recvmode 1 (module)"][0])
    host.data_to_send()
    stream = example_stream("9.5 recvmode 1 (module)")
    feed(host, OK * 5 + stream)
    events = events_of(host, token)
    payload = stream[stream.index(b",") + 1:-2]
    assert events[0].raw + b"\r\n" + body(events) == payload
    assert ("Content-Range", "bytes 0-9/14615") in events[0].headers and events[1].total == 10
    assert body(events) == b"<!DOCTYPE "


# ---- generated responses ---------------------------------------------------------------------------


@st.composite
def responses(draw):
    """(raw HTTP response, its body, how it ends: length / chunked / close)."""
    data = draw(st.binary(max_size=3000), label="body")
    framing = draw(st.sampled_from(["length", "chunked", "close"]), label="framing")
    head = b"HTTP/1.1 200 OK\r\nX-A: b\r\n"
    if framing == "length":
        return head + b"Content-Length: %d\r\n\r\n" % len(data) + data, data, framing
    if framing == "close":
        return head + b"\r\n" + data, data, framing
    sizes = draw(st.lists(st.integers(1, 700), max_size=8), label="chunks")
    out, start = head + b"Transfer-Encoding: chunked\r\n\r\n", 0
    for size in sizes:
        part = data[start:start + size]
        if part:
            out += b"%x\r\n" % len(part) + part + b"\r\n"
        start += size
    if start < len(data):
        out += b"%x\r\n" % (len(data) - start) + data[start:] + b"\r\n"
    return out + b"0\r\n\r\n", data, framing


def split(data: bytes, sizes: list[int]) -> list[bytes]:
    pieces, start = [], 0
    for size in sizes:
        if start < len(data):
            pieces.append(data[start:start + size])
            start += size
    if start < len(data) or not pieces:
        pieces.append(data[start:])
    return pieces


@given(response=responses(), data=st.data())
def test_generated_responses_in_pieces_with_urcs_between(response, data):
    raw, expected, framing = response
    sizes = data.draw(st.lists(st.integers(1, 1500), max_size=12), label="pieces")
    frames = [OK] * 5 + [piece(p) for p in split(raw, sizes)] + [CLOSED]
    extra = data.draw(st.lists(st.tuples(st.integers(1, len(frames)), st.sampled_from(UNRELATED)), max_size=5), label="urcs")
    for spot, urc in sorted(extra, reverse=True):
        frames.insert(spot, urc)
    order = [urc for _, urc in sorted(extra, key=lambda e: e[0])]
    stream = b"".join(frames)
    host = started()
    token = host.submit(Request(Method.GET, URL))
    feed(host, stream, cuts_for(data, stream))
    events = events_of(host, token)
    assert body(events) == expected and events[-1] == ResponseEnd(len(expected))
    chunks = [e for e in events if isinstance(e, BodyChunk)]
    assert all(c.total == (len(expected) if framing == "length" else None) for c in chunks)
    assert [c.offset for c in chunks] == [sum(len(c.data) for c in chunks[:i]) for i in range(len(chunks))]
    assert sorted(host.take_unsolicited()) == sorted(order)


@given(response=responses(), data=st.data())
def test_generated_responses_in_recvmode_0(response, data):
    raw, expected, framing = response
    assume(b"+HTTPCLOSED" not in expected)
    stream = OK * 5 + b"\r\n+HTTPRECV:\r\n" + raw + CLOSED
    host = started()
    token = host.submit(Request(Method.GET, URL))
    feed(host, stream, cuts_for(data, stream))
    events = events_of(host, token)
    assert body(events) == expected and events[-1] == ResponseEnd(len(expected))


def test_prompt_with_a_space_is_accepted():
    host = started()
    fake = FakeModule(host, prompt=b"\r\n> ")
    token = host.submit(Request(Method.PUT, "http://h.example/x", body=b"abc"))
    fake.pump()
    assert fake.data[0].endswith(b"\r\n\r\nabc\r\n") and body(events_of(host, token)) == b"ok"


# ---- the requests as commands ---------------------------------------------------------------------


@pytest.mark.parametrize("request_,raw", [
    (Request(Method.PUT, "http://a.example:8080/x?y=1 2", [("Authorization", "Bearer t")], b"data"),
     b"PUT /x?y=1%202 HTTP/1.1\r\nHost: a.example:8080\r\nAuthorization: Bearer t\r\nConnection: close\r\n"
     b"Content-Length: 4\r\n\r\ndata\r\n"),
    (Request(Method.DELETE, "http://a.example/item/7", keep_alive=True),
     b"DELETE /item/7 HTTP/1.1\r\nHost: a.example\r\n\r\n"),
    (Request(Method.GET, "http://user:pa%20ss@a.example/", [("X-Token", 'quoted "value", commas')]),
     b'GET / HTTP/1.1\r\nHost: a.example\r\nX-Token: quoted "value", commas\r\nAuthorization: Basic dXNlcjpwYSBzcw==\r\n'
     b"Connection: close\r\n\r\n"),
    (Request(Method.POST, "http://a.example/p", [("Content-Type", "application/json; charset=utf-8")], b"{}"),
     b"POST /p HTTP/1.1\r\nHost: a.example\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n"
     b"Content-Length: 2\r\n\r\n{}\r\n"),
    (Request(Method.POST, "http://a.example/p", body=b""),
     b"POST /p HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
    (Request(Method.GET, "http://a.example/f", byte_range=ByteRange(100)),
     b"GET /f HTTP/1.1\r\nHost: a.example\r\nRange: bytes=100-\r\nConnection: close\r\n\r\n"),
])
def test_mode_99_requests_are_built_by_h11(request_, raw):
    host = started()
    fake = FakeModule(host)
    token = host.submit(request_)
    fake.pump()
    action = [c for c in fake.commands if b"HTTPACTION" in c]
    assert action == [b"AT+HTTPACTION=99,%d" % len(raw)] and fake.data == [raw]
    parsed = h11.Connection(h11.SERVER)
    parsed.receive_data(raw)
    assert parsed.next_event().method == request_.method.value.encode()
    assert body(events_of(host, token)) == b"ok"


@pytest.mark.parametrize("content_type,code", sorted((v, k) for k, v in DIALECT.enums["post_type"].items()))
def test_typed_posts_use_mode_2(content_type, code):
    host = started()
    fake = FakeModule(host)
    host.submit(Request(Method.POST, "http://a.example/p", [("Content-Type", content_type)], b"x=1"))
    fake.pump()
    assert b"AT+HTTPACTION=2,3,%s" % code.encode() in fake.commands and fake.data == [b"x=1"]


@pytest.mark.parametrize("request_,detail", [
    (Request(Method.PUT, "http://a.example/", body=b"x" * 2049), "2049 bytes"),
    (Request(Method.POST, "http://a.example/", [("Content-Type", "text/plain")], b"x" * 5000), "5000 bytes"),
    (Request(Method.PUT, "http://a.example/", [("X-Big", "v" * 2000)], b"x" * 40), "AT+HTTPACTION=99 takes at most 2048"),
    (Request(Method.POST, "http://a.example/", body=iter([b"x" * 1500, b"y" * 1500])), "more than 2048"),
])
def test_requests_over_2048_bytes_are_refused_before_anything_is_sent(request_, detail):
    host = started()
    token = host.submit(request_)
    [failure] = events_of(host, token)
    assert failure.kind is ErrorKind.INVALID_PARAMETER and detail in failure.detail and host.data_to_send() == b""


@pytest.mark.parametrize("url", ["ftp://h/x", "http://", "http://h:99999/", "http://h:0/", "www.example.com/x",
                                 "https://h.example/" + "p" * 600])
def test_bad_urls(url):
    host = started()
    token = host.submit(Request(Method.GET, url))
    assert events_of(host, token)[0].kind is ErrorKind.URL_INVALID and host.data_to_send() == b""


def test_https_settings_are_sent_when_they_change():
    host = started()
    fake = FakeModule(host, lambda c, d: piece(http_response(), b"+HTTPSRECV"))
    tls = TlsSettings(version="TLSv1.2", verify=VerifyMode.SERVER, ca="certs/ca.pem")
    for _ in range(2):
        host.submit(Request(Method.GET, "https://h.example:8443/x", tls=tls))
        fake.pump()
    host.submit(Request(Method.GET, "https://h.example:8443/x", tls=TlsSettings(version="TLSv1.1", verify=VerifyMode.MUTUAL,
                                                                                  client_cert="c.pem", client_key="k.pem")))
    fake.pump()
    cfg = [c for c in fake.commands if c.startswith(b"AT+HTTPSCFG")]
    assert cfg == [b'AT+HTTPSCFG="sslversion",3', b'AT+HTTPSCFG="authmode",1', b'AT+HTTPSCFG="cacert","certs/ca.pem"',
                   b'AT+HTTPSCFG="sslversion",2', b'AT+HTTPSCFG="authmode",2', b'AT+HTTPSCFG="clientcert","c.pem"',
                   b'AT+HTTPSCFG="clientkey","k.pem"']
    assert [c for c in fake.commands if c.startswith(b"AT+HTTPSPARA=url")] == [b'AT+HTTPSPARA=url,"h.example/x"'] * 3
    assert [e.kind for _, e in host.take_events() if isinstance(e, Failure)] == []


def test_a_pem_is_written_to_the_module_once_and_named():
    """A CA given as PEM (OneMO firmware's AT+MSSLCERTWR through a bridge) goes to the module's file
    system with AT+FSWF (N58 manual 28.1), then HTTPSCFG "cacert" names that file."""
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    host = started()
    fake = FakeModule(host, lambda c, d: b"" if c.name == "FSWF" else piece(http_response(), b"+HTTPSRECV"))
    for _ in range(2):
        host.submit(Request(Method.GET, "https://h.example/x", tls=TlsSettings(verify=VerifyMode.SERVER, ca=pem)))
        fake.pump()
    writes = [c for c in fake.commands if c.startswith(b"AT+FSWF")]
    name = re.match(rb'AT\+FSWF="([^"]+)",0,%d,\d+$' % len(pem), writes[0]).group(1)
    assert len(writes) == 1 and fake.data[0] == pem.encode()  # once per session
    assert b'AT+HTTPSCFG="cacert","%s"' % name in fake.commands
    assert fake.commands.index(writes[0]) < fake.commands.index(b'AT+HTTPSCFG="cacert","%s"' % name)
    assert [e.kind for _, e in host.take_events() if isinstance(e, Failure)] == []


@pytest.mark.parametrize("tls", [TlsSettings(version="TLSv1.3")])
def test_tls_the_module_cannot_take_is_refused(tls):
    host = started()
    token = host.submit(Request(Method.GET, "https://h.example/", tls=tls))
    assert events_of(host, token)[0].kind is ErrorKind.UNSUPPORTED and host.data_to_send() == b""


def test_keep_alive_reuses_the_link_and_another_server_closes_it():
    host = started()
    fake = FakeModule(host)
    for url, keep in (("http://a.example/1", True), ("http://a.example/2", True), ("http://b.example/3", False)):
        host.submit(Request(Method.GET, url, keep_alive=keep))
        fake.pump()
    assert fake.commands == [
        b'AT+HTTPPARA=url,"a.example/1"', b"AT+HTTPPARA=port,80", b"AT+HTTPPARA=keepalive,1", b"AT+HTTPSETUP", b"AT+HTTPACTION=0",
        b'AT+HTTPPARA=url,"a.example/2"', b"AT+HTTPACTION=0",  # the port is set already
        b"AT+HTTPCLOSE", b'AT+HTTPPARA=url,"b.example/3"', b"AT+HTTPPARA=port,80", b"AT+HTTPPARA=keepalive,0",
        b"AT+HTTPPARA=recvmode,1", b"AT+HTTPSETUP", b"AT+HTTPACTION=0"]  # keepalive 0: the module closes it
    assert len([e for _, e in host.take_events() if isinstance(e, ResponseEnd)]) == 3


def test_a_kept_link_that_went_down_is_set_up_again_once():
    host = started()
    fake = FakeModule(host)
    host.submit(Request(Method.GET, "http://a.example/1", keep_alive=True))
    fake.pump()
    host.take_events()
    token = host.submit(Request(Method.GET, "http://a.example/2", keep_alive=True))
    sent = host.data_to_send() + feed(host, OK)
    assert lines(sent) == [b'AT+HTTPPARA=url,"a.example/2"', b"AT+HTTPACTION=0"]
    sent = feed(host, b"\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n")
    assert sent == b""  # a final may follow the line: the next command waits SETTLE seconds
    host.on_time(1.0 + SETTLE)
    assert lines(host.data_to_send()) == [b"AT+HTTPSETUP"]
    assert lines(feed(host, OK, now=2.0)) == [b"AT+HTTPACTION=0"]
    feed(host, OK + piece(http_response(b"again")) + CLOSED, now=2.0)
    assert body(events_of(host, token)) == b"again"


def test_requests_run_one_after_another():
    host = started()
    fake = FakeModule(host, lambda c, d: piece(http_response(c.raw[-1:])))
    first = host.submit(Request(Method.GET, "http://a.example/"))
    second = host.submit(Request(Method.HEAD, "http://a.example/"))
    assert lines(host.data_to_send()) == [b'AT+HTTPPARA=url,"a.example/"']
    host.receive_data(OK, 1.0)  # the first request's url; the second waits for the whole first
    fake.pump()
    actions = [c for c in fake.commands if b"ACTION" in c or b"CLOSE" in c]
    # the first link is not kept and its close was not reported (no +HTTPCLOSED): closed before the second
    assert actions == [b"AT+HTTPACTION=0", b"AT+HTTPCLOSE", b"AT+HTTPACTION=1"]
    ends = [t for t, e in host.take_events() if isinstance(e, ResponseEnd)]
    assert ends == [first, second]


def test_data_starting_with_lf_follows_a_full_line_end():
    host = started()
    fake = FakeModule(host)
    host.submit(Request(Method.POST, URL, [("Content-Type", "text/plain")], b"\nline\n"))
    fake.pump()
    assert fake.data == [b"\nline\n"]


# ---- downloads to a module file -----------------------------------------------------------------


def file_stat(line: bytes) -> Callable[[Command, bytes], bytes]:
    return lambda command, data: b"\r\n" + line + b"\r\n"


@pytest.mark.parametrize("span,command,stat,events", [
    (ByteRange(0, 524287), b'AT+FILEHTTPACTION=0,0,524288,"/dl/a.bin"', b"+FILEHTTPSTAT: 0,1,524288",
     [Progress(524288, 524288), ResponseEnd(524288)]),
    (ByteRange(1000, 1999), b'AT+FILEHTTPACTION=0,1000,1000,"/dl/a.bin"', b"+FILEHTTPSTAT: 0,1,1000",
     [Progress(1000, 1000), ResponseEnd(1000)]),
    (None, b'AT+FILEHTTPACTION=0,0,524288,"/dl/a.bin"', b"+FILEHTTPSTAT: 0,1,4096", [Progress(4096, None), ResponseEnd(4096)]),
    (ByteRange(10), b'AT+FILEHTTPACTION=0,10,524288,"/dl/a.bin"', b"+FILEHTTPSTAT: 0,1,100", [Progress(100, None), ResponseEnd(100)]),
])
def test_download_to_a_module_file(span, command, stat, events):
    host = started()
    fake = FakeModule(host, file_stat(stat))
    token = host.submit(Request(Method.GET, "http://a.example/f", byte_range=span, save_to="/dl/a.bin"))
    fake.pump()
    assert fake.commands == [b'AT+HTTPPARA=url,"a.example/f"', b"AT+HTTPPARA=port,80", b"AT+HTTPPARA=keepalive,0",
                             b"AT+HTTPSETUP", command, b"AT+HTTPCLOSE"]
    assert events_of(host, token) == events


def test_a_download_that_fills_the_most_one_command_takes_is_not_called_complete():
    host = started()
    fake = FakeModule(host, file_stat(b"+FILEHTTPSTAT: 0,1,524288"))
    token = host.submit(Request(Method.GET, "http://a.example/big", save_to="/big"))
    fake.pump()
    progress, failure = events_of(host, token)
    assert progress == Progress(524288, None) and failure.kind is ErrorKind.UNSUPPORTED and "byte ranges" in failure.detail


@pytest.mark.parametrize("request_", [
    Request(Method.POST, "http://a.example/", body=b"x", save_to="/f"),
    Request(Method.GET, "http://a.example/", [("X-A", "1")], save_to="/f"),
    Request(Method.GET, "http://a.example/", save_to="/f", append=True),
])
def test_downloads_refuse_what_filehttpaction_cannot_send(request_):
    host = started()
    token = host.submit(request_)
    assert events_of(host, token)[0].kind is ErrorKind.UNSUPPORTED


# ---- errors -------------------------------------------------------------------------------------------


ACTION_LINES = [t for t in list(DIALECT.async_errors) + list(DIALECT.sync_errors)
                if t.split(":")[0] in ("+HTTPACTION", "+HTTPSEND", "+HTTPSETUP") and t != "+HTTPSETUP: FAIL"]


@pytest.mark.parametrize("token_line", ACTION_LINES)
def test_lines_in_place_of_the_action_ok_map_to_the_dialects_kind(token_line):
    host = started()
    token = run_get_until_action(host)
    feed(host, b"\r\n" + token_line.encode() + b"\r\n")
    [failure] = events_of(host, token)
    assert failure.kind is (DIALECT.error_kind("async", token_line) if token_line in DIALECT.async_errors
                            else DIALECT.error_kind("sync", token_line))
    host.on_time(1.0 + SETTLE)
    assert lines(host.data_to_send()) == [b"AT+HTTPCLOSE"]


def test_the_format_lines_spelling_without_a_space_maps_too():
    host = started()
    token = run_get_until_action(host)
    feed(host, b"\r\n+HTTPACTION:SOCKET ID OPEN FAILED\r\n")
    assert events_of(host, token)[0].kind is ErrorKind.CONNECT_FAILED


SETUP_FAIL_KIND = DIALECT.error_kind("sync", "+HTTPSETUP: FAIL")
LOOKUP = b'AT+CDNSGIP="www.neoway.com.cn"'
RESOLVED = OK + b'\r\n+CDNSGIP: 1,"www.neoway.com.cn","121.15.200.97"\r\n'
# After a bare ERROR to HTTPSETUP: AT+HTTPCLOSE (a link may have been up) and the settings it cleared
RECLOSE = [b"AT+HTTPCLOSE"] + HTTP_PARAS + [b"AT+HTTPPARA=recvmode,1"]
RECLOSED = OK * len(RECLOSE)
LOOKUP_FAILURES = [t if "," in t else t + ",6" for t in DIALECT.async_errors if t.startswith("+CDNSGIP")]  # 6: any other <err>


@pytest.mark.parametrize("answer,kind,lookup", [
    (ERROR, SETUP_FAIL_KIND, True),  # the English manual: DNS or connect failed; the module's DNS query tells
    (b"\r\n+HTTPSETUP: FAIL\r\n", SETUP_FAIL_KIND, True),  # Chinese v2.0: the same
    (b"\r\n+CME ERROR: 1001\r\n", ErrorKind.NO_DATA_LINK, False),
])
def test_setup_failures(answer, kind, lookup):
    host = started()
    token = host.submit(Request(Method.GET, URL))
    feed(host, OK * 3)
    bare = answer == ERROR
    sent = feed(host, answer + RECLOSED * bare)
    host.on_time(1.0 + SETTLE)  # after a line in place of a final, the queue holds a moment
    assert lines(sent + host.data_to_send()) == RECLOSE * bare + [LOOKUP] * lookup
    if lookup:
        feed(host, RESOLVED)  # the name resolves: the connect failed
    [failure] = events_of(host, token)
    assert failure.kind is kind
    assert "www.neoway.com.cn resolves" in failure.detail or not lookup
    host.on_time(10.0)
    assert host.data_to_send() == b""  # no link came up: nothing to close


@pytest.mark.parametrize("line", LOOKUP_FAILURES)
@pytest.mark.parametrize("setup_answer", [ERROR, b"\r\n+HTTPSETUP: FAIL\r\n"])
def test_a_name_the_module_cannot_resolve_is_the_yamls_kind(line, setup_answer):
    """AT+HTTPSETUP says the same for a failed lookup and a failed connect; AT+CDNSGIP's
    "+CDNSGIP: 0,<err>", after its OK, says the lookup failed: DNS_FAILED (neoway.yaml)."""
    host = started()
    token = host.submit(Request(Method.GET, URL))
    feed(host, OK * 3)
    bare = setup_answer == ERROR
    sent = feed(host, setup_answer + RECLOSED * bare)
    host.on_time(1.0 + SETTLE)  # after a line in place of a final, the queue holds a moment
    assert lines(sent + host.data_to_send()) == RECLOSE * bare + [LOOKUP]
    assert feed(host, OK) == b"" and host.take_events() == []  # the result comes after the OK
    feed(host, b"\r\n" + line.encode() + b"\r\n")
    [failure] = events_of(host, token)
    assert failure.kind is DIALECT.error_kind("async", line.split(",")[0] if line.endswith(",6") else line)
    assert failure.kind is ErrorKind.DNS_FAILED and "cannot resolve www.neoway.com.cn" in failure.detail
    assert host.idle and host.data_to_send() == b""  # no link, nothing to close, no hold either


def test_the_lookup_result_before_its_ok_is_taken_too():
    host = started()
    token = host.submit(Request(Method.GET, URL))
    feed(host, OK * 3 + ERROR + RECLOSED)
    feed(host, b"\r\n+CDNSGIP: 0,8\r\n")
    assert events_of(host, token)[0].kind is ErrorKind.DNS_FAILED
    feed(host, OK)  # the OK after the line is not taken for the next command's
    second = host.submit(Request(Method.GET, URL))
    assert host.data_to_send() == b""
    host.on_time(1.0 + SETTLE)
    assert lines(host.data_to_send()) == [b"AT+HTTPSETUP"] and second  # the settings are the module's already


@pytest.mark.parametrize("answer", [ERROR, b"\r\n+CME ERROR: 4\r\n", b"\r\n+CME ERROR: operation not supported\r\n"])
def test_a_module_without_the_dns_query_leaves_the_connect_failure(answer):
    host = started()
    token = host.submit(Request(Method.GET, URL))
    assert lines(feed(host, OK * 3 + ERROR + RECLOSED)) == HTTP_SETUP + RECLOSE + [LOOKUP]
    feed(host, answer)
    [failure] = events_of(host, token)
    assert failure.kind is SETUP_FAIL_KIND and "resolves" not in failure.detail


@pytest.mark.parametrize("answer", [b"", OK])
def test_a_dns_query_left_unanswered_leaves_the_connect_failure_at_its_timeout(answer):
    """Nothing, or OK and no +CDNSGIP line, within the YAML's timeout of AT+CDNSGIP: the connect
    failure, never a hang; a late line does not touch the next request."""
    host = started()
    token = host.submit(Request(Method.GET, URL))
    feed(host, OK * 3 + ERROR + RECLOSED + answer, now=1.0)
    span = DIALECT.commands["CDNSGIP"].timeout
    assert span == 15 and host.next_deadline() == pytest.approx(1.0 + span)
    host.on_time(1.0 + span - 0.001)
    assert host.take_events() == []
    host.on_time(1.0 + span)
    [failure] = events_of(host, token)
    assert failure.kind is SETUP_FAIL_KIND
    second = host.submit(Request(Method.GET, URL))
    host.on_time(1.0 + span + SETTLE)
    sent = host.data_to_send() + feed(host, OK, now=20.0)
    assert lines(sent) == [b"AT+HTTPSETUP", b"AT+HTTPACTION=0"]  # the settings are the module's already
    feed(host, OK + b"\r\n+CDNSGIP: 0,8\r\n" + piece(http_response(b"late")), now=20.0)  # while it receives
    assert body(events_of(host, second)) == b"late"


@pytest.mark.parametrize("url,model", [("http://121.15.200.97/x", None), ("http://[::1]:8080/x", None), (URL, "N720")])
def test_no_dns_query_for_an_ip_literal_or_a_model_without_it(url, model):
    host = NeowayHostSide(model=model)
    host.data_to_send()
    host.receive_data(OK * 4 + (b'\r\n$MYNETACT: 0,1,"10.0.0.2"\r\n' if model else b"\r\n+XIIC:    1,10.0.0.2\r\n") + OK * 3, 0.0)
    host.data_to_send()
    token = host.submit(Request(Method.GET, url))
    sent = host.data_to_send() + feed(host, OK * 3 + ERROR + RECLOSED)
    assert lines(sent)[-len(RECLOSE) - 1:][0] == b"AT+HTTPSETUP" and lines(sent)[-len(RECLOSE)] == b"AT+HTTPCLOSE"
    assert events_of(host, token)[0].kind is SETUP_FAIL_KIND


def test_parameter_errors_map_to_the_sync_table():
    host = started()
    token = host.submit(Request(Method.GET, URL))
    feed(host, ERROR)
    assert events_of(host, token)[0].kind is DIALECT.error_kind("sync", "ERROR")


HTTPS_TO_SETUP = TLS + [b'AT+HTTPSPARA=url,"h.example/"', b"AT+HTTPSPARA=port,443", b"AT+HTTPSPARA=keepalive,0", b"AT+HTTPSSETUP"]
HTTPS_RECLOSE = [b"AT+HTTPSCLOSE"] + HTTPS_TO_SETUP[2:-1] + [b"AT+HTTPSPARA=recvmode,1"]


@pytest.mark.parametrize("plain,kind", [(OK, ErrorKind.TLS_FAILED), (ERROR, DIALECT.error_kind("sync", "+HTTPSETUP: FAIL"))])
def test_a_failed_https_setup_is_told_apart_by_a_plain_one(plain, kind):
    host = started()
    token = host.submit(Request(Method.GET, "https://h.example/", tls=TlsSettings(verify=VerifyMode.SERVER, ca="ca.pem")))
    sent = host.data_to_send() + feed(host, OK * 6)
    assert lines(sent) == TLS[:1] + [b'AT+HTTPSCFG="authmode",1', b'AT+HTTPSCFG="cacert","ca.pem"'] + HTTPS_TO_SETUP[2:]
    assert lines(feed(host, ERROR + OK * len(HTTPS_RECLOSE))) == HTTPS_RECLOSE + [b'AT+CDNSGIP="h.example"']  # the name resolves: not the lookup
    sent = feed(host, OK + b'\r\n+CDNSGIP: 1,"h.example","10.0.0.9"\r\n' + OK * 3 + plain)
    assert lines(sent) == [b'AT+HTTPPARA=url,"h.example/"', b"AT+HTTPPARA=port,443", b"AT+HTTPPARA=keepalive,0", b"AT+HTTPSETUP"] + [b"AT+HTTPCLOSE"] * (plain == OK)
    feed(host, OK)
    [failure] = events_of(host, token)
    assert failure.kind is kind


def test_an_https_name_the_module_cannot_resolve_is_dns_failed_without_a_plain_link():
    host = started()
    token = host.submit(Request(Method.GET, "https://h.example/"))
    assert lines(host.data_to_send() + feed(host, OK * 5)) == HTTPS_TO_SETUP
    assert lines(feed(host, ERROR + OK * len(HTTPS_RECLOSE))) == HTTPS_RECLOSE + [b'AT+CDNSGIP="h.example"']
    assert feed(host, OK + b"\r\n+CDNSGIP: 0,8\r\n") == b""
    assert events_of(host, token)[0].kind is ErrorKind.DNS_FAILED


@pytest.mark.parametrize("received", [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"])
def test_a_link_closed_before_the_response_is_complete(received):
    host = started()
    token = run_get_until_action(host)
    feed(host, OK + (piece(received) if received else b"") + CLOSED)
    events = events_of(host, token)
    assert events[-1].kind is DIALECT.error_kind("async", "+HTTPCLOSED: HTTP Link Closed") is ErrorKind.CONNECTION_CLOSED
    assert body(events) == (b"abc" if received else b"")


def test_a_close_delimited_body_ends_at_httpclosed():
    host = started()
    token = run_get_until_action(host)
    feed(host, OK + piece(b"HTTP/1.1 200 OK\r\n\r\nall of it") + CLOSED)
    assert events_of(host, token)[-2:] == [BodyChunk(b"all of it", 0, None), ResponseEnd(9)]


@pytest.mark.parametrize("code", sorted(c for c in DIALECT.sync_errors if c.isdigit()))
def test_filehttpaction_cme_codes_map_to_the_dialects_kind(code):
    host = started()
    token = host.submit(Request(Method.GET, URL, byte_range=ByteRange(0, 99), save_to="/f"))
    feed(host, OK * 4)
    feed(host, b"\r\n+CME ERROR: %s\r\n" % code.encode())
    assert events_of(host, token)[0].kind is DIALECT.error_kind("sync", code)


@pytest.mark.parametrize("stat", sorted(t for t in DIALECT.async_errors if t.startswith("+FILEHTTPSTAT")) + ["+FILEHTTPSTAT: 0,53"])
def test_filehttpstat_failures_map_to_the_dialects_kind(stat):
    host = started()
    token = host.submit(Request(Method.GET, URL, byte_range=ByteRange(0, 99), save_to="/f"))
    feed(host, OK * 5 + b"\r\n" + stat.encode() + b"\r\n")
    expected = DIALECT.error_kind("async", stat) if stat in DIALECT.async_errors else DIALECT.error_kind("sync", "53")
    assert events_of(host, token)[0].kind is expected


NOT_A_REQUEST_FAILURE = {
    "+HTTPCLOSE: HTTP Link Closed": "the answer to the host's own AT+HTTPCLOSE (cancel: see test_cancel...)",
    "+HTTPCLOSE: ERROR": "the answer to the host's own AT+HTTPCLOSE",
}


def test_every_async_token_is_covered():
    covered = set(ACTION_LINES) | {t for t in DIALECT.async_errors if t.startswith(("+FILEHTTPSTAT", "+HTTPCLOSED", "+HTTPSCLOSED"))}
    covered |= {t for t in DIALECT.async_errors if t.startswith("+CDNSGIP")}  # test_a_name_the_module_cannot_resolve...
    unused = {t for t in DIALECT.async_errors if t.startswith(("+HTTPGETRPT", "+HTTPSGETRPT"))}  # AT+HTTPGET is not used
    assert set(DIALECT.async_errors) - covered - unused == set(NOT_A_REQUEST_FAILURE)


def test_https_link_closed_mid_body():
    host = started()
    token = host.submit(Request(Method.GET, "https://h.example/"))
    feed(host, OK * 6 + OK + piece(http_response(b"abcdef")[:-3], b"+HTTPSRECV") + b"\r\n+HTTPSCLOSED: HTTPS Link Closed\r\n")
    assert events_of(host, token)[-1].kind is ErrorKind.CONNECTION_CLOSED


# ---- timeouts -------------------------------------------------------------------------------------


def test_a_module_that_stops_answering_a_command_times_out_at_the_yaml_timeout():
    host = started(command_floor=0)
    token = host.submit(Request(Method.GET, URL))
    assert host.data_to_send() == b'AT+HTTPPARA=url,"www.neoway.com.cn/en/index.aspx"\r'
    assert host.next_deadline() == 0.0  # submitted without a clock: armed at the next call
    host.on_time(100.0)
    span = DIALECT.commands["HTTPPARA"].timeout
    assert host.next_deadline() == pytest.approx(100.0 + span)
    host.on_time(100.0 + span - 0.001)
    assert host.take_events() == []
    host.on_time(100.0 + span)
    assert events_of(host, token)[0].kind is ErrorKind.RESPONSE_TIMEOUT


def test_commands_get_at_least_the_floor():
    host = started()
    host.submit(Request(Method.GET, URL))
    host.on_time(0.0)
    assert host.next_deadline() == 2.0


def test_a_module_that_stops_reporting_times_out_and_the_link_is_closed():
    host = started()
    token = run_get_until_action(host)
    host.receive_data(OK, 50.0)
    deadline = 50.0 + DIALECT.commands["HTTPACTION"].timeout + WAIT_MARGIN
    assert host.next_deadline() == deadline
    host.receive_data(piece(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"), 51.0)
    assert host.next_deadline() == deadline + 1  # every piece restarts the wait
    host.on_time(deadline + 1)
    events = events_of(host, token)
    assert kinds(events) == ["ResponseHead", "BodyChunk", "Failure"] and events[-1].kind is ErrorKind.RESPONSE_TIMEOUT
    assert lines(host.data_to_send()) == [b"AT+HTTPCLOSE"]


def test_a_longer_response_timeout_of_the_request_counts():
    host = started()
    token = host.submit(Request(Method.GET, URL, timeouts=Timeouts(response=100)))
    feed(host, OK * 4)
    host.receive_data(OK, 10.0)
    assert host.next_deadline() == 10.0 + 100 + WAIT_MARGIN
    assert token == 1


def test_the_action_answer_may_wait_for_connect_and_response():
    host = started()
    run_get_until_action(host)  # AT+HTTPACTION written at 1.0
    t = DIALECT.commands
    assert host.next_deadline() == 1.0 + 60 + WAIT_MARGIN + t["HTTPACTION"].timeout + WAIT_MARGIN  # Timeouts.connect 60


def test_late_answers_after_a_timeout_are_not_taken_for_the_next_command():
    host = started(command_floor=0)
    first = host.submit(Request(Method.GET, URL))
    second = host.submit(Request(Method.GET, URL))
    host.on_time(0.0)
    host.data_to_send()
    host.on_time(0.3)
    assert events_of(host, first)[0].kind is ErrorKind.RESPONSE_TIMEOUT
    assert host.data_to_send() == b""  # the queue holds while late answers may come
    host.receive_data(OK, 0.5)  # late: dropped
    assert host.next_deadline() == 0.5 + SETTLE
    host.on_time(0.5 + SETTLE)
    assert lines(host.data_to_send()) == [HTTP_PARAS[0]]
    feed(host, OK * 4 + OK + piece(http_response(b"b")), now=5.0)
    assert body(events_of(host, second)) == b"b"


def test_a_silent_module_fails_the_start_up():
    host = NeowayHostSide()
    assert host.data_to_send() == b"ATE0\r"
    host.on_time(0.0)
    host.on_time(COMMAND_TIMEOUT)
    assert host.ready is False and host.data_to_send() == b""


# ---- start-up -----------------------------------------------------------------------------------


def test_startup_brings_the_data_link_up_when_xiic_shows_none():
    host = NeowayHostSide()
    sent = host.data_to_send() + feed(host, OK * 4 + b"\r\n+XIIC:    0,0.0.0.0\r\n" + OK + OK + b"\r\n+XIIC:    1,10.0.0.2\r\n" + OK + OK + OK)
    assert lines(sent) == [b"ATE0", b"AT+CMEE=1"] + CLOSES + [b"AT+XIIC?", b"AT+XIIC=1", b"AT+XIIC?", b"AT+HTTPPARA=recvmode,1",
                           b"AT+HTTPSPARA=recvmode,1"]
    assert host.ready is True and host.take_passthrough() == [] and host.take_unsolicited() == []


@pytest.mark.parametrize("state,expected", [(b'\r\n$MYNETACT: 0,0,"0.0.0.0"\r\n', [b"AT$MYNETACT=0,1"]), (b'\r\n$MYNETACT: 0,1,"10.0.0.2"\r\n', [])])
def test_startup_on_n720_uses_mynetact(state, expected):
    host = NeowayHostSide(model="N720")
    sent = host.data_to_send() + feed(host, OK * 4 + state + OK + OK * (len(expected) + 2))
    assert lines(sent) == [b"ATE0", b"AT+CMEE=1"] + CLOSES + [b"AT$MYNETACT?"] + expected + [b"AT+HTTPPARA=recvmode,1", b"AT+HTTPSPARA=recvmode,1"]
    assert host.ready is True and host.take_unsolicited() == []


def test_requests_wait_for_the_start_up():
    host = NeowayHostSide()
    token = host.submit(Request(Method.GET, URL))
    sent = host.data_to_send() + feed(host, STARTUP_ANSWERS)
    assert lines(sent) == STARTUP + [HTTP_PARAS[0]] and token == 1


# ---- pass-through, URCs, cancel, malformed input ---------------------------------------------------


def test_passthrough_answers_and_urcs_during_a_request():
    host = started()
    token = run_get_until_action(host)
    feed(host, OK + piece(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"))
    csq = host.passthrough(b"AT+CSQ")
    cereg = host.passthrough(b"AT+CEREG?")
    assert lines(host.data_to_send()) == [b"AT+CSQ"]
    sent = feed(host, b"\r\n+CSQ: 20,99\r\n\r\nRING\r\n" + piece(b"c") + OK)
    assert lines(sent) == [b"AT+CEREG?"]
    sent = feed(host, b"\r\n+CEREG: 0,1\r\n" + piece(b"d") + b"\r\n+CME ERROR: 3\r\n")
    assert lines(sent) == []  # the response is whole: keepalive 0, the module closes the link
    assert host.take_passthrough() == [(csq, b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"), (cereg, b"\r\n+CEREG: 0,1\r\n\r\n+CME ERROR: 3\r\n")]
    assert host.take_unsolicited() == [b"\r\nRING\r\n"]
    assert body(events := events_of(host, token)) == b"abcd" and events[-1] == ResponseEnd(4)


def test_cancel_mid_response_closes_the_link_and_drops_the_rest():
    host = started()
    token = run_get_until_action(host)
    feed(host, OK + piece(b"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\nab"), now=10.0)
    host.cancel(token)
    assert events_of(host, token)[-1] == Failure(ErrorKind.CANCELLED, "cancelled")
    assert lines(host.data_to_send()) == [b"AT+HTTPCLOSE"]
    host.on_time(10.0)
    deadline = host.next_deadline()
    # as long as HTTPACTION may take (connect, then the module's own response time)
    assert deadline == 10.0 + DIALECT.commands["HTTPSETUP"].timeout + DIALECT.commands["HTTPACTION"].timeout + 2 * WAIT_MARGIN
    feed(host, piece(b"x" * 4000) + piece(b"y" * 4000), now=20.0)  # the module answers after the response
    assert host.next_deadline() == deadline + 10.0  # patient: the close waits while data comes
    feed(host, CLOSED + OK + b"\r\n+HTTPCLOSE: HTTP Link Closed\r\n", now=21.0)
    assert host.take_events() == [] and host.take_unsolicited() == [] and host.idle


def test_cancel_of_a_queued_request():
    host = started()
    host.submit(Request(Method.GET, URL))
    second = host.submit(Request(Method.GET, URL))
    host.cancel(second)
    assert host.take_events() == [(second, Failure(ErrorKind.CANCELLED, "cancelled"))]


@pytest.mark.parametrize("report", [
    piece(b"garbage that is no HTTP\r\n\r\n"),
    b"\r\n+HTTPRECV: 5,ab\r\n",  # shorter than stated: the framer waits, then fails at the deadline
    piece(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
])
def test_malformed_responses_fail_the_request(report):
    host = started()
    token = run_get_until_action(host)
    feed(host, OK + report)
    host.on_time(1e6)
    failure = events_of(host, token)[-1]
    assert isinstance(failure, Failure) and failure.kind in (ErrorKind.RESPONSE_INVALID, ErrorKind.RESPONSE_TIMEOUT)


@given(noise=st.binary(max_size=600), data=st.data())
def test_no_module_output_makes_the_host_side_raise(noise, data):
    host = started()
    tokens = [host.submit(Request(Method.GET, URL)), host.passthrough(b"AT+CSQ")]
    stream = OK * 5 + data.draw(st.sampled_from([b"", b"\r\n+HTTPRECV: 40,", b"\r\n+HTTPRECV:\r\n", b"\r\n+FILEHTTPSTAT: "])) + noise
    feed(host, stream, cuts_for(data, stream))
    host.on_time(1e6)
    host.on_time(2e6)
    host.on_time(3e6)
    ends = [e for t, e in host.take_events() if t == tokens[0] and isinstance(e, (ResponseEnd, Failure))]
    assert len(ends) == 1
    assert [t for t, _ in host.take_passthrough()] == [tokens[1]]


def test_after_a_piece_that_stopped_short_the_next_request_is_framed_afresh():
    host = started()
    first = run_get_until_action(host)
    feed(host, OK + b"\r\n+HTTPRECV: 500,HTTP/1.1 200 OK\r\n")  # 466 bytes never come
    host.on_time(1e6)
    assert events_of(host, first)[-1].kind is ErrorKind.RESPONSE_TIMEOUT
    assert lines(host.data_to_send()) == [b"AT+HTTPCLOSE"]
    second = host.submit(Request(Method.GET, URL))
    feed(host, OK, now=1e6)
    feed(host, OK * 5 + piece(http_response(b"fresh")), now=1e6)
    assert body(events_of(host, second)) == b"fresh"


def test_a_connect_only_request_sets_up_the_link_and_sends_nothing():
    """A module side's HTTPSETUP through a bridge (Request.connect_only): HTTPPARA and HTTPSETUP, the
    event Connected, no HTTPACTION; the next request to the same server uses that link."""
    host = started()
    fake = FakeModule(host)
    token = host.submit(Request(Method.GET, URL, connect_only=True, keep_alive=True))
    fake.pump()
    assert fake.commands == HTTP_PARAS[:2] + [b"AT+HTTPPARA=keepalive,1", b"AT+HTTPSETUP"]
    assert events_of(host, token) == [Connected()]
    token = host.submit(Request(Method.GET, URL, report_sent=True))
    fake.pump()
    assert b"AT+HTTPSETUP" not in fake.commands[4:] and b"AT+HTTPACTION=0" in fake.commands[4:]
    assert kinds(events_of(host, token))[:2] == ["RequestSent", "ResponseHead"]  # the module's OK: sent
