"""The OneMO host side, sans-I/O: RequestSent once the module has taken the whole request (issue 9),
methods AT+MHTTPREQUEST has no code for, and how many module commands a request costs (issue 12)."""
from __future__ import annotations

import pytest

from bridge.model import ErrorKind, Failure, Method, Request, RequestSent, ResponseEnd, ResponseHead, Timeouts
from support.hostside import events_of, feed, kinds, lines
from test_onemo_host_side import OK, FakeModule, content_urc, head_urc, ok_response, started

URL = "http://h.example/a"


# ---- RequestSent ------------------------------------------------------------------------------------


def test_request_sent_after_mhttprequest_ok_and_before_the_head():
    host = started()
    token = host.submit(Request(Method.GET, URL, report_sent=True))
    assert lines(host.data_to_send()) == [b'AT+MHTTPCREATE="http://h.example:80"']
    assert lines(feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK)) == [b'AT+MHTTPREQUEST=0,1,0,"/a"']
    assert events_of(host, token) == []  # not before the module said OK
    feed(host, OK)
    assert events_of(host, token) == [RequestSent()]
    feed(host, ok_response(b"hi"))
    assert kinds(events_of(host, token)) == ["ResponseHead", "BodyChunk", "ResponseEnd"]


def test_no_request_sent_unless_asked():
    host = started()
    fake = FakeModule(host, lambda c: ok_response(b"hi"))
    token = host.submit(Request(Method.GET, URL))
    fake.pump()
    assert "RequestSent" not in kinds(events_of(host, token))


def test_request_sent_after_the_last_chunked_content_piece():
    host = started()
    token = host.submit(Request(Method.POST, URL, body=iter([b"a" * 10, b"b" * 5]), report_sent=True))
    host.data_to_send()
    assert lines(feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK + OK))[-1].startswith(b"AT+MHTTPREQUEST=0,2,")
    sent = feed(host, OK + b'\r\n+MHTTPURC: "ind",0\r\n')  # MHTTPREQUEST taken, content may come
    assert events_of(host, token) == []  # the body has not gone yet
    assert lines(sent) == [b"AT+MHTTPCONTENT=0,1,10"]
    assert feed(host, b"\r\n>") == b"a" * 10
    assert lines(feed(host, OK)) == [b"AT+MHTTPCONTENT=0,0,5"]
    assert feed(host, b"\r\n>") == b"b" * 5
    assert events_of(host, token) == []  # the last piece is not taken yet
    feed(host, OK)
    assert events_of(host, token) == [RequestSent()]


def test_request_sent_after_content_length_body_and_request():
    host = started()
    fake = FakeModule(host, lambda c: b"")
    token = host.submit(Request(Method.POST, URL, body=b"x" * 5000, report_sent=True))
    fake.pump()
    assert [c.split(b"=")[0] for c in fake.commands][-3:] == [b"AT+MHTTPCONTENT"] * 2 + [b"AT+MHTTPREQUEST"]
    assert events_of(host, token) == [RequestSent()]


# ---- methods MHTTPREQUEST has no code for --------------------------------------------------------------


@pytest.mark.parametrize("method", [Method.PATCH, Method.OPTIONS])
def test_methods_without_a_code_fail_unsupported_before_any_command(method):
    host = started()
    token = host.submit(Request(method, URL, headers=[("X-A", "1")], body=b"{}", report_sent=True))
    events = events_of(host, token)
    assert len(events) == 1 and isinstance(events[0], Failure) and events[0].kind is ErrorKind.UNSUPPORTED
    assert host.data_to_send() == b"" and host.idle
    fake = FakeModule(host, lambda c: ok_response(b"ok"))  # and the next request runs
    after = host.submit(Request(Method.GET, URL))
    fake.pump()
    assert events_of(host, after)[-1] == ResponseEnd(2)
