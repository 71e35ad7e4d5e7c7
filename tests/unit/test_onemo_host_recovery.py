"""The OneMO host side, sans-I/O, against hostile module output (issue 10): a length-framed
payload that stops short is given up on the dialect's response deadline (fake clock), the request
ends with the model's Failure, and the next command is served; frames the host side cannot use
are logged (without their bytes) and dropped, and never raise."""
from __future__ import annotations

import logging

import pytest

from bridge.model import ErrorKind, Failure, Method, Request, ResponseEnd
from bridge.onemo.host.side import OnemoHostSide
from support.hostside import events_of, feed, lines
from support.onemo_hostside import OK, FakeModule, head_urc, ok_response, started

URL = "http://h.example/a"
SECRET = b"Bearer-s3cr3t-token"
SHORT = b'\r\n+MHTTPURC: "content",0,5000,5000,5000,' + b"token=" + SECRET[:4] + b"\r\n\r\n+CEREG: 1\r\n"  # 10 of 5000
CGSN_ANSWER = b"\r\n869012345678901\r\n" + OK


def cgsn_is_answered(host: OnemoHostSide, now: float) -> None:
    token = host.passthrough(b"AT+CGSN")
    assert lines(host.data_to_send()) == [b"AT+CGSN"]
    feed(host, CGSN_ANSWER, now=now)
    assert host.take_passthrough() == [(token, CGSN_ANSWER)]


def running_get(now: float) -> tuple[OnemoHostSide, int]:
    """A GET whose response head has come at `now`."""
    host = started()
    token = host.submit(Request(Method.GET, URL))
    host.data_to_send()
    feed(host, b"\r\n+MHTTPCREATE: 0\r\n" + OK + OK, now=now)
    feed(host, head_urc(0, b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nSet-Cookie: sid=" + SECRET + b"\r\n"), now=now)
    assert [type(e).__name__ for e in events_of(host, token)] == ["ResponseHead"]
    return host, token


def test_a_short_content_payload_is_given_up_at_the_response_deadline(caplog):
    caplog.set_level(logging.WARNING, logger="bridge.onemo.host.side")
    host, token = running_get(now=10.0)
    deadline = host.next_deadline()
    assert deadline is not None and deadline > 10.0
    feed(host, SHORT, now=11.0)
    assert host.framer.in_payload and host.take_events() == []
    host.on_time(deadline - 0.001)
    assert host.take_events() == [] and host.data_to_send() == b""  # not before the deadline
    host.on_time(deadline)
    events = events_of(host, token)
    assert len(events) == 1 and isinstance(events[0], Failure) and events[0].kind is ErrorKind.RESPONSE_TIMEOUT
    assert not host.framer.in_payload
    assert lines(host.data_to_send()) == [b"AT+MHTTPTERM=0"]  # the module may still be working on it
    assert lines(feed(host, OK, now=deadline)) == [b"AT+MHTTPDEL=0"]
    feed(host, OK, now=deadline)
    cgsn_is_answered(host, now=deadline + 1)
    assert "abandoned" in caplog.text and SECRET.decode() not in caplog.text and SECRET[:4].decode() not in caplog.text
    fake = FakeModule(host, lambda c: ok_response(b"fine"))  # and the next request works
    fake.now = deadline + 2
    after = host.submit(Request(Method.GET, URL))
    fake.pump()
    assert events_of(host, after)[-1] == ResponseEnd(4)


def test_a_short_payload_with_no_request_in_flight_is_given_up_too(caplog):
    caplog.set_level(logging.WARNING, logger="bridge.onemo.host.side")
    host = started()
    assert host.next_deadline() is None
    feed(host, SHORT.replace(b",0,", b",3,", 1), now=20.0)  # an instance nobody uses
    deadline = host.next_deadline()
    assert host.framer.in_payload and deadline is not None and deadline > 20.0
    host.on_time(deadline)
    assert not host.framer.in_payload and host.next_deadline() is None
    cgsn_is_answered(host, now=deadline)
    assert "abandoned" in caplog.text


def test_payload_bytes_still_coming_restart_the_wait():
    host = started()
    feed(host, b'\r\n+MHTTPURC: "content",3,3000,3000,3000,' + b"x" * 1000, now=0.0)
    first = host.next_deadline()
    feed(host, b"x" * 1000, now=first - 1)
    assert host.next_deadline() == first - 1 + first  # waited anew from the last bytes
    feed(host, b"x" * 1000 + b"\r\n", now=first)
    assert not host.framer.in_payload and host.next_deadline() is None


HOSTILE = [
    b"\r\n+CME ERROR: \xc2\xb2\r\n",  # "²": str.isdigit() takes it, int() does not
    b'\r\n+MHTTPURC: "header",' + b"9" * 5000 + b",200,2,ab\r\n",  # more digits than int() takes
    b'\r\n+MHTTPURC: "content",\xc2\xb2,5,5,5,hello\r\n',
    b'\r\n+MHTTPURC: "err",0,' + b"7" * 5000 + b"\r\n",
    b'\r\n+MHTTPURC: "bogus",0\r\n',
    b"\r\n+MHTTPHEADER:" + b" " * 5000 + b"\r\n",
    b'\r\n+MHTTPURC: "content",0,5,5,' + b"9" * 4400 + b",hello\r\n",
]


@pytest.mark.parametrize("line", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_lines_during_a_request_never_raise_and_the_next_command_is_served(line, caplog):
    caplog.set_level(logging.WARNING, logger="bridge.onemo.host.side")
    host, token = running_get(now=1.0)
    sent = feed(host, line, now=2.0)
    events = events_of(host, token)
    if not events:  # the line was dropped: the request runs on to its deadline
        host.on_time(host.next_deadline())
        sent += host.data_to_send()
        events = events_of(host, token)
    for _ in range(3):  # what the end of the request asks the module (MHTTPTERM, MHTTPDEL), answered
        if not sent:
            break
        sent = feed(host, OK, now=3.0)
    assert not sent
    assert len(events) == 1 and isinstance(events[0], Failure)
    cgsn_is_answered(host, now=4.0)


def test_a_create_answer_with_a_hostile_id_fails_the_request_cleanly():
    host = started()
    token = host.submit(Request(Method.GET, URL))
    host.data_to_send()
    feed(host, b"\r\n+MHTTPCREATE: \xc2\xb2\r\n" + OK, now=1.0)
    assert events_of(host, token)[-1].kind is ErrorKind.RESPONSE_INVALID
    cgsn_is_answered(host, now=2.0)
