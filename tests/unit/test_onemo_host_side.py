"""The OneMO host side, sans-I/O: the manual's module output (tests/data/examples_onemo.yaml) in
any chunking gives the right events, whatever unrelated URCs come between its frames; error
reports map to the dialect's error kinds; a silent module times out at the deadline."""
from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bridge.model import (BodyChunk, ByteRange, ErrorKind, Failure, Method, Progress, Request, ResponseEnd,
                          ResponseHead, Timeouts, TlsSettings, VerifyMode)
from bridge.roles.host_commands import SETTLE
from bridge.onemo.host.side import COMMAND_TIMEOUT, WAIT_MARGIN, OnemoHostSide
from support.hostside import body, cuts_for, events_of, feed, kinds, lines
from support.onemo_hostside import DIALECT, OK, STARTUP, FakeModule, content_urc, head_urc, ok_response, started
from support.paths import DATA

EXAMPLES = {e["name"]: e["stream"].encode("utf-8")
            for e in yaml.safe_load((DATA / "examples_onemo.yaml").read_text("utf-8"))
            if e["direction"] == "module"}
UNRELATED = [b"\r\nRING\r\n", b"\r\n+CEREG: 1\r\n", b'\r\n+CMT: "",3\r\n0891683108\r\n', b'\r\n+CLIP: "13800138000",129\r\n']
GET_URL = "http://120.27.12.119:10080/get"


# ---- helpers ------------------------------------------------------------------------------------


def urc_part(stream: bytes) -> bytes:
    """From the first +MHTTPURC on (the manual's URCs after a command's OK)."""
    return stream[re.search(rb"\r\n\+MHTTPURC", stream).start():]


def payload_of(stream: bytes, variant: str) -> bytes:
    """The data of the stream's (first) +MHTTPURC of `variant`, cut out by its stated length."""
    match = re.search(rb'\+MHTTPURC: ?"' + variant.encode() + rb'",(?:\d+,)*(\d+),', stream)
    length = int(match.group(1))
    return stream[match.end():match.end() + length]


def insert_between_frames(stream: bytes, extra: list[bytes], picks: list[int]) -> tuple[bytes, list[bytes]]:
    """`stream` with the `extra` URCs put in before frames (before "\\r\\n+MHTTP" or "\\r\\nOK")."""
    spots = [m.start() for m in re.finditer(rb"\r\n(?=\+MHTTP|OK\r\n)", stream)]
    placed = sorted((spots[p % len(spots)], i) for i, p in enumerate(picks[:len(extra)]))
    out, start, order = b"", 0, []
    for spot, index in placed:
        out += stream[start:spot] + extra[index]
        order.append(extra[index])
        start = spot
    return out + stream[start:], order


# ---- the manual's streams, any chunking ------------------------------------------------------------


GET_STREAMS = {
    "3.5": EXAMPLES["3.5 GET request (module)"],
    "3.10": EXAMPLES["3.10 request in normal mode (module)"],
    "4.1": EXAMPLES["3.2 create instance (module)"] + EXAMPLES["4.1 GET request (module)"],
}


def check_get(host: OnemoHostSide, token: int, stream: bytes, sent: bytes) -> None:
    # the instance is kept for the next request (issue 12): no MHTTPDEL after a response that ended well
    assert lines(sent) == [b'AT+MHTTPCREATE="http://120.27.12.119:10080"', b'AT+MHTTPREQUEST=0,1,0,"/get"']
    events = events_of(host, token)
    assert kinds(events) == ["ResponseHead"] + ["BodyChunk"] * (len(events) - 2) + ["ResponseEnd"]
    head = events[0]
    assert (head.status, head.reason) == (200, "OK")
    assert ("Content-Length", "145") in head.headers and len(head.raw) == 225
    assert body(events) == payload_of(stream, "content") and len(body(events)) == 145
    assert events[-1] == ResponseEnd(145)


@pytest.mark.parametrize("name", GET_STREAMS)
@given(data=st.data())
def test_manual_get_in_any_chunking(name, data):
    stream = GET_STREAMS[name]
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    sent = host.data_to_send() + feed(host, stream, cuts_for(data, stream))
    check_get(host, token, stream, sent)
    assert host.take_unsolicited() == []


@given(data=st.data())
def test_unrelated_urcs_between_frames_are_forwarded(data):
    stream = GET_STREAMS["3.5"]
    extra = data.draw(st.lists(st.sampled_from(UNRELATED), min_size=1, max_size=6), label="urcs")
    picks = data.draw(st.lists(st.integers(0, 100), min_size=len(extra), max_size=len(extra)), label="spots")
    mixed, order = insert_between_frames(stream, extra, picks)
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    sent = host.data_to_send() + feed(host, mixed, cuts_for(data, mixed))
    check_get(host, token, stream, sent)
    assert host.take_unsolicited() == order


@given(data=st.data())
def test_manual_https_get(data):
    stream = (EXAMPLES["4.2 select certificate and authentication (module)"] + EXAMPLES["4.2 create HTTPS instance (module)"]
              + EXAMPLES["4.2 HTTPS GET request (module)"])
    host = started()
    tls = TlsSettings(verify=VerifyMode.SERVER, ca="s.ca")
    token = host.submit(Request(Method.GET, "https://120.27.12.119:10443/get", tls=tls))
    sent = host.data_to_send() + feed(host, stream, cuts_for(data, stream))
    assert lines(sent) == [b'AT+MSSLCFG="cert",0,"s.ca"', b'AT+MSSLCFG="auth",0,1',
                           b'AT+MHTTPCREATE="https://120.27.12.119:10443"', b'AT+MHTTPCFG="ssl",0,1,0',
                           b'AT+MHTTPREQUEST=0,1,0,"/get"']
    events = events_of(host, token)
    assert events[0].status == 200 and body(events) == payload_of(stream, "content") and events[-1] == ResponseEnd(145)


DOWNLOADS = {
    "4.4 download to file (module)": (GET_URL, None, False, b'AT+MHTTPDLFILE="http://120.27.12.119:10080/get","/test.txt",1024',
                                      [Progress(145, 145)], 145),
    "4.4 ranged download (module)": ("http://www.baidu.com:80", ByteRange(0, 4095), False,
                                     b'AT+MHTTPDLFILE="http://www.baidu.com:80/","/test.txt",1024,"bytes=0-4095"',
                                     [Progress(1908, 4096, 9508), Progress(3368, 4096, 9508), Progress(4096, 4096, 9508)], 4096),
    "4.4 resume download (module)": ("http://www.baidu.com:80", None, True,
                                     b'AT+MHTTPDLFILE="http://www.baidu.com:80/","/test.txt",1024,,1',
                                     [Progress(1904, 5412, 9508), Progress(3364, 5412, 9508), Progress(4824, 5412, 9508),
                                      Progress(5412, 5412, 9508)], 5412),
}


@pytest.mark.parametrize("name", DOWNLOADS)
@given(data=st.data())
def test_manual_download_to_file(name, data):
    url, span, append, command, progress, total = DOWNLOADS[name]
    stream = EXAMPLES[name]
    host = started(progress_step=1024)
    token = host.submit(Request(Method.GET, url, byte_range=span, save_to="/test.txt", append=append))
    sent = host.data_to_send() + feed(host, stream, cuts_for(data, stream))
    assert lines(sent) == [command]  # no instance: nothing to delete
    events = events_of(host, token)
    assert isinstance(events[0], ResponseHead) and events[0].status == (206 if span or append else 200)
    assert events[1:] == progress + [ResponseEnd(total)]


def chunked_post_stream(ind: bytes) -> bytes:
    """The 4.1 chunked POST as this host side drives it: MHTTPCREATE, MHTTPCFG "chunked",
    MHTTPREQUEST, "ind", MHTTPCONTENT in data mode, then the manual's header and content."""
    manual = EXAMPLES["4.1 chunked POST request (module)"]
    response = manual[manual.index(b'\r\n+MHTTPURC:"header"'):]
    return b"\r\n+MHTTPCREATE:0\r\n" + OK + OK + OK + ind + b"\r\n>" + OK + response


POST_BODY = b'{"id":"speed1","tags":["mobile"],"unit":"m/s","unit_symbol":"m/s"}'


@pytest.mark.parametrize("ind", [b'\r\n+MHTTPURC:"ind",0\r\n', b'\r\n+MHTTPURC: "ind",0'])
@given(data=st.data())
def test_manual_chunked_post(ind, data):
    stream = chunked_post_stream(ind)
    host = started()
    token = host.submit(Request(Method.POST, "http://api.heclouds.com/devices/622957377/datastreams", body=iter([POST_BODY])))
    sent = host.data_to_send() + feed(host, stream, cuts_for(data, stream))
    assert lines(sent) == [b'AT+MHTTPCREATE="http://api.heclouds.com:80"', b'AT+MHTTPCFG="chunked",0,1',
                           b'AT+MHTTPREQUEST=0,2,0,"/devices/622957377/datastreams"',
                           b"AT+MHTTPCONTENT=0,0,%d" % len(POST_BODY), POST_BODY]
    events = events_of(host, token)
    manual = EXAMPLES["4.1 chunked POST request (module)"]
    assert events[0].status == 200 and body(events) == payload_of(manual, "content") and events[-1] == ResponseEnd(66)


def test_ind_without_line_end_and_nothing_after_it_is_taken():
    """The module waits for the content after "ind"; an "ind" without CRLF must not wait for more bytes."""
    host = started()
    host.submit(Request(Method.POST, "http://h.example/up", body=iter([b"abc"])))
    host.data_to_send()
    sent = feed(host, b"\r\n+MHTTPCREATE: 2\r\n" + OK + OK)  # create, chunked
    assert lines(sent)[-1] == b'AT+MHTTPREQUEST=2,2,0,"/up"'
    assert lines(feed(host, OK + b'\r\n+MHTTPURC: "ind",2')) == [b"AT+MHTTPCONTENT=2,0,3"]
    assert feed(host, b"\r\n>") == b"abc"  # the framer now frames the "ind" too: it is not taken twice
    assert lines(feed(host, OK)) == []


@pytest.mark.parametrize("glued", [b'+MHTTPURC: "ind",0\r\n>', b'+MHTTPURC: "ind",0+CEREG: 1\r\n\r\n>',
                                   b'+MHTTPURC: "ind",0\r\nRING\r\n\r\n>'])
def test_ind_glued_to_the_next_frame(glued):
    host = started()
    token = host.submit(Request(Method.PUT, "http://h.example/up", body=[b"abcd"]))
    host.data_to_send()
    assert lines(feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK + OK))[-1] == b'AT+MHTTPREQUEST=0,3,0,"/up"'
    assert feed(host, OK + b"\r\n" + glued) == b"AT+MHTTPCONTENT=0,0,4\rabcd"
    feed(host, OK + ok_response())
    assert kinds(events_of(host, token)) == ["ResponseHead", "BodyChunk", "ResponseEnd"]
    assert host.take_unsolicited() == [b"\r\n+CEREG: 1\r\n"] * (b"CEREG" in glued) + [b"\r\nRING\r\n"] * (b"RING" in glued)


# ---- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(DIALECT.sync_errors))
def test_sync_errors_map_to_the_dialects_kind(code):
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    host.data_to_send()
    answer = b"\r\nERROR\r\n" if code == "ERROR" else b"\r\n+CME ERROR: %s\r\n" % code.encode()
    feed(host, answer)
    [failure] = events_of(host, token)
    assert failure.kind is DIALECT.error_kind("sync", code)
    assert host.idle and host.data_to_send() == b""  # nothing was created: nothing to delete


def test_no_free_instance():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    feed(host, b"\r\n+CME ERROR: 651\r\n")
    [failure] = events_of(host, token)
    assert failure.kind is ErrorKind.NO_FREE_INSTANCE


def test_verbose_cme_text_maps_too():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    feed(host, b"\r\n+CME ERROR: no free client instance\r\n")
    assert events_of(host, token)[0].kind is ErrorKind.NO_FREE_INSTANCE


@pytest.mark.parametrize("code", sorted(DIALECT.async_errors))
def test_error_urcs_map_to_the_dialects_kind(code):
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    sent = host.data_to_send() + feed(host, b"\r\n+MHTTPCREATE: 1\r\n" + OK + OK)
    sent += feed(host, b'\r\n+MHTTPURC: "err",1,%s\r\n' % code.encode())
    [failure] = events_of(host, token)
    assert failure.kind is DIALECT.error_kind("async", code)
    assert lines(sent)[-1] == b"AT+MHTTPDEL=1" and b"MHTTPTERM" not in sent  # the module ended it already


def test_a_module_that_stops_answering_a_command_times_out():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    assert host.data_to_send().startswith(b"AT+MHTTPCREATE")
    assert host.next_deadline() == 0.0  # submitted without a clock: armed at the next call
    host.on_time(100.0)
    assert host.next_deadline() == 100.0 + COMMAND_TIMEOUT
    host.on_time(100.0 + COMMAND_TIMEOUT - 0.001)
    assert host.take_events() == []
    host.on_time(100.0 + COMMAND_TIMEOUT)
    assert events_of(host, token)[0].kind is ErrorKind.RESPONSE_TIMEOUT


def test_late_answers_after_a_timeout_are_not_taken_for_the_next_command():
    host = started()
    first = host.submit(Request(Method.GET, GET_URL))
    second = host.submit(Request(Method.GET, "http://b.example/"))
    host.on_time(0.0)
    assert lines(host.data_to_send()) == [b'AT+MHTTPCREATE="http://120.27.12.119:10080"']
    host.on_time(COMMAND_TIMEOUT)
    assert events_of(host, first)[0].kind is ErrorKind.RESPONSE_TIMEOUT
    assert host.data_to_send() == b""  # the queue holds while late answers may come
    host.receive_data(b"\r\n+MHTTPCREATE: 0\r\n" + OK, COMMAND_TIMEOUT + 0.5)  # late: dropped
    assert host.next_deadline() == COMMAND_TIMEOUT + 0.5 + SETTLE
    host.on_time(COMMAND_TIMEOUT + 0.5 + SETTLE)
    assert lines(host.data_to_send()) == [b'AT+MHTTPCREATE="http://b.example:80"']
    feed(host, b"\r\n+MHTTPCREATE: 1\r\n" + OK + OK + ok_response(b"b", httpid=1), now=20.0)
    assert body(events_of(host, second)) == b"b"


def test_data_starting_with_lf_follows_a_full_line_end():
    host = started()
    fake = FakeModule(host, lambda c: ok_response())
    host.submit(Request(Method.POST, GET_URL, body=b"\nline\n"))
    fake.pump()
    assert fake.data == [b"\nline\n"]


def test_a_module_that_stops_reporting_times_out_and_the_request_is_stopped():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL, timeouts=Timeouts(connect=2, response=3)))
    host.data_to_send()
    host.receive_data(b"\r\n+MHTTPCREATE: 0\r\n" + OK, 5.0)
    assert lines(host.data_to_send()) == [b'AT+MHTTPCFG="timeout",0,2,3,10']
    host.receive_data(OK, 5.0)
    host.data_to_send()
    host.receive_data(OK, 6.0)  # MHTTPREQUEST answered: now the URCs are awaited
    deadline = 6.0 + 2 + 3 + WAIT_MARGIN
    assert host.next_deadline() == deadline
    host.receive_data(b'\r\n+MHTTPURC: "header",0,200,38,HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n', 7.0)
    assert host.next_deadline() == deadline + 1  # every report restarts the wait
    host.on_time(deadline + 0.999)
    assert kinds(events_of(host, token)) == ["ResponseHead"]
    host.on_time(deadline + 1)
    assert events_of(host, token)[0].kind is ErrorKind.RESPONSE_TIMEOUT
    assert lines(host.data_to_send()) == [b"AT+MHTTPTERM=0"]
    host.receive_data(OK, deadline + 2)
    assert lines(host.data_to_send()) == [b"AT+MHTTPDEL=0"]


def test_a_silent_module_fails_the_start_up():
    host = OnemoHostSide()
    assert host.data_to_send() == b"ATE0\r"
    host.on_time(0.0)
    host.on_time(COMMAND_TIMEOUT)
    assert host.ready is False and host.data_to_send() == b""


@pytest.mark.parametrize("report", [
    b'\r\n+MHTTPURC: "header",0,200,7,garbage\r\n',  # no status line
    b'\r\n+MHTTPURC: "content",0,5,5,5,hello\r\n',  # content before the header
    b'\r\n+MHTTPURC: "header",0,200,38,HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n'
    b'\r\n+MHTTPURC: "content",0,9,7,5,hello\r\n',  # sum_len does not add up
    b'\r\n+MHTTPURC: "content",0,abc,1\r\n',  # not a length
    b'\r\n+MHTTPURC: "recv",0,200,10,10\r\n',  # cached mode was never asked for
])
def test_malformed_reports_fail_the_request(report):
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK + OK)
    sent = feed(host, report)
    assert events_of(host, token)[-1].kind is ErrorKind.RESPONSE_INVALID
    assert lines(sent + feed(host, OK)) == [b"AT+MHTTPTERM=0", b"AT+MHTTPDEL=0"]


@pytest.mark.parametrize("answer,kind", [
    (OK, ErrorKind.RESPONSE_INVALID),  # MHTTPCREATE without its id
    (b"\r\n+MHTTPCREATE: 9\r\n" + OK, ErrorKind.RESPONSE_INVALID),  # an id out of range
    (b"\r\n+CME ERROR: 653\r\n", ErrorKind.BUSY),
])
def test_unexpected_answers_fail_the_request(answer, kind):
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    feed(host, answer)
    assert [e.kind for e in events_of(host, token)] == [kind]


@given(noise=st.binary(max_size=600), data=st.data())
def test_no_module_output_makes_the_host_side_raise(noise, data):
    host = started()
    tokens = [host.submit(Request(Method.GET, GET_URL)), host.passthrough(b"AT+CSQ")]
    stream = b"\r\n+MHTTPCREATE: 0\r\n" + OK + OK + noise
    feed(host, stream, cuts_for(data, stream))
    host.on_time(1e6)
    host.on_time(2e6)
    ends = [e for t, e in host.take_events() if t == tokens[0] and isinstance(e, (ResponseEnd, Failure))]
    assert len(ends) == 1
    assert [t for t, _ in host.take_passthrough()] == [tokens[1]]


# ---- requests as commands ------------------------------------------------------------------------


def test_headers_and_body_go_in_data_mode_pieces():
    big = bytes(range(256)) * 40  # 10240 bytes: 4096 + 4096 + 2048
    host = started()
    fake = FakeModule(host, lambda c: ok_response(b"done"))
    first = b'X-One: quoted "value", with commas'  # bare: one field per call, the module ends the line (issue 9)
    headers = [("X-One", 'quoted "value", with commas'), ("Content-Length", "1"), ("Transfer-Encoding", "x")]
    token = host.submit(Request(Method.POST, "http://h.example:8080/p?q=1 2", headers=headers, body=big,
                                byte_range=ByteRange(5)))
    fake.pump()
    assert fake.commands == [b'AT+MHTTPCREATE="http://h.example:8080"', b"AT+MHTTPHEADER=0,1,%d" % len(first), b"AT+MHTTPHEADER=0,0,15",
                             b"AT+MHTTPCONTENT=0,1,4096", b"AT+MHTTPCONTENT=0,1,4096", b"AT+MHTTPCONTENT=0,0,2048",
                             b'AT+MHTTPREQUEST=0,2,0,"/p?q=1%202"']
    assert fake.data[:2] == [first, b"Range: bytes=5-"]
    assert b"".join(fake.data[2:]) == big
    assert body(events_of(host, token)) == b"done"


def test_a_header_with_a_line_end_is_refused_before_anything_is_sent():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL, headers=[("X", "a\r\nEvil: 1")]))
    assert events_of(host, token)[0].kind is ErrorKind.INVALID_PARAMETER and host.data_to_send() == b""


@pytest.mark.parametrize("url", ["ftp://h/x", "http://", 'http://a"b/', "http://h:99999/", "http://h:0/"])
def test_bad_urls(url):
    host = started()
    token = host.submit(Request(Method.GET, url))
    assert events_of(host, token)[0].kind is ErrorKind.URL_INVALID and host.data_to_send() == b""


def test_a_pem_ca_is_written_once_and_verification_set():
    pem = b"-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n"
    host = started()
    fake = FakeModule(host, lambda c: ok_response())
    tls = TlsSettings(verify=VerifyMode.SERVER, ca=pem.decode())
    for _ in range(2):
        host.submit(Request(Method.GET, "https://h.example/x", tls=tls))
        fake.pump()
    cert = fake.commands[0]
    assert re.fullmatch(rb'AT\+MSSLCERTWR="atb_ca_[0-9a-f]{16}\.pem",0,%d' % len(pem), cert) and fake.data[0] == pem
    name = cert.split(b'"')[1]
    assert fake.commands[1:] == [b'AT+MSSLCFG="cert",0,"' + name + b'"', b'AT+MSSLCFG="auth",0,1',
                                 b'AT+MHTTPCREATE="https://h.example:443"', b'AT+MHTTPCFG="ssl",0,1,0',
                                 b'AT+MHTTPREQUEST=0,1,0,"/x"',
                                 # the instance with its SSL context is kept: straight to the request
                                 b'AT+MHTTPREQUEST=0,1,0,"/x"']


@pytest.mark.parametrize("method,status,extra", [("HEAD", 200, b"Content-Length: 9\r\n"), ("GET", 204, b""),
                                                 ("GET", 304, b""), ("GET", 200, b"Content-Length: 0\r\n")])
def test_a_response_without_body_ends_with_its_header(method, status, extra):
    host = started()
    token = host.submit(Request(Method(method), GET_URL))
    head = b"HTTP/1.1 %d X\r\n" % status + extra
    feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK + OK + head_urc(0, head).replace(b",200,", b",%d," % status))
    assert kinds(events_of(host, token)) == ["ResponseHead", "ResponseEnd"]


def test_a_chunked_response_ends_at_the_empty_frame():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    head = head_urc(0, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n")
    first = content_urc(0, 0, 0, b"0123\r\n")
    frames = first + content_urc(0, 0, 6, b"456") + b'\r\n+MHTTPURC: "content",0,0,9,0\r\n'
    stream = b"\r\n+MHTTPCREATE: 0\r\n" + OK + OK + head + frames
    feed(host, stream, cuts=[stream.index(first) + len(first)])  # each content URC in a read of its own
    events = events_of(host, token)
    assert body(events) == b"0123\r\n456" and events[-1] == ResponseEnd(9)
    assert [e.offset for e in events if isinstance(e, BodyChunk)] == [0, 6]


def test_hex_output_is_decoded():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
    urcs = (b'\r\n+MHTTPURC: "header",0,200,%d,' % len(head) + head.hex().upper().encode() + b"\r\n"
            + b'\r\n+MHTTPURC: "content",0,3,3,3,' + b"\x00\r\n".hex().encode() + b"\r\n")
    feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK + OK + urcs)
    events = events_of(host, token)
    assert events[0].raw == head and body(events) == b"\x00\r\n" and events[-1] == ResponseEnd(3)


def test_passthrough_answers_and_urcs_during_a_request():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK + OK + b'\r\n+MHTTPURC: "header",0,200,38,HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n')
    csq = host.passthrough(b"AT+CSQ")
    cereg = host.passthrough(b"AT+CEREG?")
    assert lines(host.data_to_send()) == [b"AT+CSQ"]
    sent = host.data_to_send()
    sent = lines(feed(host, b"\r\n+CSQ: 20,99\r\n\r\nRING\r\n" + content_urc(0, 2, 0, b"ok") + OK))
    assert sent == [b"AT+CEREG?"]
    assert lines(feed(host, b"\r\n+CEREG: 0,1\r\n\r\n+CME ERROR: 3\r\n")) == []  # the instance is kept
    assert host.take_passthrough() == [(csq, b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"), (cereg, b"\r\n+CEREG: 0,1\r\n\r\n+CME ERROR: 3\r\n")]
    assert host.take_unsolicited() == [b"\r\nRING\r\n"]
    assert events_of(host, token)[-1] == ResponseEnd(2)


def test_cancel_terminates_and_deletes():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    feed(host, b"\r\n+MHTTPCREATE: 3\r\n" + OK + OK + head_urc(3, b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n"))
    host.data_to_send()
    host.cancel(token)
    assert events_of(host, token)[-1] == Failure(ErrorKind.CANCELLED, "cancelled")
    assert lines(host.data_to_send() + feed(host, OK)) == [b"AT+MHTTPTERM=3", b"AT+MHTTPDEL=3"]
    feed(host, content_urc(3, 99, 0, b"late") + OK)  # after the end: nobody's
    assert host.take_events() == [] and host.idle


def test_cancel_while_the_instance_is_being_created_deletes_it_when_it_comes():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    host.data_to_send()
    host.cancel(token)
    assert events_of(host, token)[0].kind is ErrorKind.CANCELLED
    assert lines(feed(host, b"\r\n+MHTTPCREATE: 1\r\n" + OK)) == [b"AT+MHTTPDEL=1"]


def test_the_instance_is_reused_for_the_same_server():
    """Kept whether or not the connection is (issue 12: no MHTTPCREATE/MHTTPDEL per request)."""
    host = started()
    fake = FakeModule(host, lambda c: ok_response(b"x"))
    first = host.submit(Request(Method.GET, "http://h.example/a", keep_alive=True))
    fake.pump()
    second = host.submit(Request(Method.GET, "http://h.example/b", keep_alive=False))
    fake.pump()
    assert fake.commands == [b'AT+MHTTPCREATE="http://h.example:80"', b'AT+MHTTPREQUEST=0,1,0,"/a"',
                             b'AT+MHTTPREQUEST=0,1,0,"/b"']
    assert [t for t, e in host.take_events() if isinstance(e, ResponseEnd)] == [first, second]


def test_two_requests_at_once_are_told_apart_by_instance():
    host = started()
    a = host.submit(Request(Method.GET, "http://a.example/"))
    b = host.submit(Request(Method.GET, "http://b.example/"))
    feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK + b"\r\n+MHTTPCREATE: 1\r\n" + OK + OK + OK)
    feed(host, ok_response(b"BBB", httpid=1) + ok_response(b"AA", httpid=0))
    events = host.take_events()
    assert body(e for t, e in events if t == a) == b"AA" and body(e for t, e in events if t == b) == b"BBB"


def test_requests_wait_for_the_start_up():
    host = OnemoHostSide()
    token = host.submit(Request(Method.GET, GET_URL))
    sent = host.data_to_send() + feed(host, OK * len(STARTUP))
    assert lines(sent) == STARTUP + [b'AT+MHTTPCREATE="http://120.27.12.119:10080"'] and token == 1


def test_no_free_instance_with_kept_ones_deletes_the_oldest_and_retries():
    host = started()
    fake = FakeModule(host, lambda c: ok_response(b"x"))
    host.submit(Request(Method.GET, "http://a.example/", keep_alive=True))
    fake.pump()
    host.submit(Request(Method.GET, "http://b.example/"))
    sent = host.data_to_send()
    assert sent == b'AT+MHTTPCREATE="http://b.example:80"\r'
    sent = feed(host, b"\r\n+CME ERROR: 651\r\n")
    assert lines(sent) == [b"AT+MHTTPDEL=0"]
    assert lines(feed(host, OK)) == [b'AT+MHTTPCREATE="http://b.example:80"']


def test_streamed_body_needs_post_or_put():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL, body=iter([b"x"])))
    assert events_of(host, token)[0].kind is ErrorKind.UNSUPPORTED


def test_a_failing_body_stream_fails_the_request():
    def broken():
        yield b"a" * 5000
        raise OSError("disk gone")

    host = started()
    token = host.submit(Request(Method.POST, GET_URL, body=broken()))
    host.data_to_send()
    sent = feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK + OK + OK + b'\r\n+MHTTPURC: "ind",0\r\n')
    assert lines(sent)[-1] == b"AT+MHTTPCONTENT=0,1,4096"
    assert len(feed(host, b"\r\n>")) == 4096
    assert lines(feed(host, OK)) == [b"AT+MHTTPTERM=0"]
    assert events_of(host, token)[0].kind is ErrorKind.SEND_FAILED


def test_download_refuses_what_mhttpdlfile_cannot_send():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL, headers=[("X-A", "1")], save_to="/f"))
    assert events_of(host, token)[0].kind is ErrorKind.UNSUPPORTED


def test_downloads_run_alone():
    host = started()
    fake = FakeModule(host, lambda c: ok_response() if c.name == "MHTTPREQUEST" else b"")
    first = host.submit(Request(Method.GET, "http://a.example/", save_to="/f"))
    second = host.submit(Request(Method.GET, "http://b.example/"))
    fake.pump()
    assert fake.commands == [b'AT+MHTTPDLFILE="http://a.example:80/","/f",65536']
    host.receive_data(b'\r\n+MHTTPURC: "header",1,200,38,HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'
                      b'\r\n+MHTTPDLFILE: 5,5,100\r\n', 1.0)
    fake.pump()
    assert fake.commands[1:] == [b'AT+MHTTPCREATE="http://b.example:80"', b'AT+MHTTPREQUEST=0,1,0,"/"']
    assert [t for t, e in host.take_events() if isinstance(e, ResponseEnd)] == [first, second]


def test_a_model_without_data_mode_takes_plain_requests_only():
    host = started(model="MN316")
    fake = FakeModule(host, lambda c: ok_response(b"ok"))
    refused = host.submit(Request(Method.POST, GET_URL, body=b"x"))
    download = host.submit(Request(Method.GET, GET_URL, save_to="/f"))
    plain = host.submit(Request(Method.GET, GET_URL))
    fake.pump()
    events = host.take_events()
    assert [(t, e.kind) for t, e in events if isinstance(e, Failure)] == [(refused, ErrorKind.UNSUPPORTED),
                                                                          (download, ErrorKind.UNSUPPORTED)]
    assert body(e for t, e in events if t == plain) == b"ok"
