"""The Neoway host side, sans-I/O, against stale and hostile module state (issue 10) and with the
fewest module commands per request (issue 12): a link left up is closed at start-up and when
HTTPSETUP finds one; a timed-out request's AT+HTTPCLOSE is awaited before the next request; a
module that gave up on a stalled server is a response timeout; a payload that stops short is
abandoned at the deadline and the next command is served; unchanged settings are not resent.
Time is a value passed in (a fake clock)."""
from __future__ import annotations

import logging

import pytest

from bridge.at.dialect import load
from bridge.model import ErrorKind, Failure, Method, Request, ResponseEnd, Timeouts
from bridge.neoway.host.context import WAIT_MARGIN
from bridge.neoway.host.side import NeowayHostSide
from support.hostside import body, events_of, feed, lines
from support.neoway_hostside import (CLOSED, CLOSES, ERROR, OK, STARTUP, FakeModule, http_response, piece,
                                   run_get_until_action, started)

DIALECT = load("neoway")
ACTION_TIMEOUT = DIALECT.commands["HTTPACTION"].timeout  # the module's own response time (30 s)
BUSY = DIALECT.commands["HTTPSETUP"].timeout + ACTION_TIMEOUT + 2 * WAIT_MARGIN  # HTTPACTION may connect, then wait
LINK_CLOSED = b"\r\n+HTTPCLOSE: HTTP Link Closed\r\n"  # follows HTTPCLOSE's OK only if a link was up
CGSN_ANSWER = b"\r\n866123456789012\r\n\r\nOK\r\n"
RECVMODE = b"AT+HTTPPARA=recvmode,1"


def cgsn_is_answered(host: NeowayHostSide, now: float) -> None:
    token = host.passthrough(b"AT+CGSN")
    assert lines(host.data_to_send()) == [b"AT+CGSN"]
    feed(host, CGSN_ANSWER, now=now)
    assert host.take_passthrough() == [(token, CGSN_ANSWER)]


# ---- a link left up (task: stale module state) ------------------------------------------------


@pytest.mark.parametrize("close_answers", [OK + LINK_CLOSED + OK, ERROR + ERROR, OK + OK + b"\r\n+HTTPSCLOSE: HTTP Link Closed\r\n"])
def test_start_up_closes_a_link_left_up_and_swallows_the_report(close_answers):
    host = NeowayHostSide()
    stream = OK + OK + close_answers + b"\r\n+XIIC:    1,10.0.0.2\r\n" + OK + OK + OK
    sent = host.data_to_send() + feed(host, stream, now=0.0)
    assert lines(sent) == STARTUP and STARTUP.index(CLOSES[0]) < STARTUP.index(RECVMODE)  # HTTPCLOSE clears recvmode
    assert host.ready is True and host.take_unsolicited() == [] and host.take_events() == [] and host.idle


def test_a_setup_refused_while_a_link_was_up_is_closed_and_retried_once():
    host = started()
    token = host.submit(Request(Method.GET, "http://a.example/x"))
    sent = host.data_to_send() + feed(host, OK * 3 + ERROR)  # HTTPSETUP: ERROR (a link is up)
    sent += feed(host, OK + LINK_CLOSED + OK * 4)  # HTTPCLOSE reports the link; the settings it cleared
    sent += feed(host, OK + OK + piece(http_response(b"fine")))
    para = [b'AT+HTTPPARA=url,"a.example/x"', b"AT+HTTPPARA=port,80", b"AT+HTTPPARA=keepalive,0"]
    assert lines(sent) == para + [b"AT+HTTPSETUP", b"AT+HTTPCLOSE"] + para + [RECVMODE, b"AT+HTTPSETUP", b"AT+HTTPACTION=0"]
    events = events_of(host, token)
    assert body(events) == b"fine" and events[-1] == ResponseEnd(4)


def test_a_second_refusal_is_not_retried_again():
    host = started()
    token = host.submit(Request(Method.GET, "http://10.1.2.3/x"))  # an IP literal: no DNS query
    sent = host.data_to_send() + feed(host, OK * 3 + ERROR + OK + LINK_CLOSED + OK * 4 + ERROR)
    assert lines(sent).count(b"AT+HTTPSETUP") == 2
    [failure] = events_of(host, token)
    assert failure.kind is DIALECT.error_kind("sync", "+HTTPSETUP: FAIL")
    assert host.data_to_send() == b""


# ---- no request poisons the next --------------------------------------------------------------


def test_a_timed_out_requests_close_is_awaited_and_the_next_request_follows_it():
    """The module answers AT+HTTPCLOSE only once its reception ends (its own response time): the
    host side waits for that answer, and the next request's commands (and timers) start after it."""
    host = started()
    first = host.submit(Request(Method.GET, "http://stall.example/", timeouts=Timeouts(response=1.0)))
    sent = host.data_to_send() + feed(host, OK * 4, now=0.0)  # url, port, keepalive, setup
    sent += feed(host, OK, now=0.5)  # HTTPACTION: the request went out
    assert lines(sent)[-1] == b"AT+HTTPACTION=0"
    host.on_time(1.5)
    assert events_of(host, first) == [Failure(ErrorKind.RESPONSE_TIMEOUT, "the module reported nothing more in time")]
    assert lines(host.data_to_send()) == [b"AT+HTTPCLOSE"]
    second = host.submit(Request(Method.GET, "http://healthy.example/"))
    assert host.data_to_send() == b""  # behind the close
    assert host.next_deadline() == pytest.approx(1.5 + BUSY)
    host.on_time(1.5 + BUSY - 0.01)
    assert host.data_to_send() == b"" and host.take_events() == []
    now = 1.5 + BUSY - 0.01  # the module gave up on the stalled server at last
    sent = feed(host, OK + LINK_CLOSED, now=now)
    assert lines(sent) == [b'AT+HTTPPARA=url,"healthy.example/"']
    assert host.next_deadline() == pytest.approx(now + host.spans.command(b"AT+HTTPPARA"))  # its own time, from now
    sent = feed(host, OK * 4 + OK + piece(http_response(b"next")), now=now + 0.1)
    assert lines(sent) == [b"AT+HTTPPARA=port,80", b"AT+HTTPPARA=keepalive,0", RECVMODE, b"AT+HTTPSETUP", b"AT+HTTPACTION=0"]
    assert body(events_of(host, second)) == b"next"


@pytest.mark.parametrize("after,kind", [(ACTION_TIMEOUT, ErrorKind.RESPONSE_TIMEOUT), (ACTION_TIMEOUT + 1, ErrorKind.RESPONSE_TIMEOUT),
                                        (3.0, ErrorKind.CONNECTION_CLOSED)])
def test_httpclosed_with_nothing_received_after_the_modules_response_time_is_a_response_timeout(after, kind):
    """neoway.yaml: the module has no response timer of its own to report; its link drops
    (+HTTPCLOSED) after its HTTPACTION time.  Before that time it is the server closing."""
    host = started()
    token = run_get_until_action(host)
    feed(host, OK, now=1.0)
    feed(host, CLOSED, now=1.0 + after)
    [failure] = events_of(host, token)
    assert failure.kind is kind


def test_httpclosed_after_part_of_a_response_stays_a_closed_connection():
    host = started()
    token = run_get_until_action(host)
    feed(host, OK + piece(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"), now=1.0)
    feed(host, CLOSED, now=1.0 + ACTION_TIMEOUT + 1)
    assert events_of(host, token)[-1].kind is ErrorKind.CONNECTION_CLOSED


# ---- fewer commands per request (issue 12) ---------------------------------------------------


def commands_per_request(host: NeowayHostSide, fake: FakeModule, requests: list[Request]) -> list[int]:
    counts = []
    for request in requests:
        before = len(fake.commands)
        token = host.submit(request)
        fake.pump()
        assert events_of(host, token)[-1] == ResponseEnd(2)
        counts.append(len(fake.commands) - before)
    return counts


def test_a_steady_get_sequence_takes_two_commands_per_request():
    """keepalive 0: the module closes the link itself (+HTTPCLOSED) and keeps the HTTPPARA
    settings (only AT+HTTPCLOSE clears them): HTTPSETUP and HTTPACTION are all a repeated GET needs."""
    host = started()
    fake = FakeModule(host, lambda c, d: piece(http_response()) + CLOSED)
    url = "http://a.example/x"
    counts = commands_per_request(host, fake, [Request(Method.GET, url)] * 6)
    print("Neoway commands per GET:", counts)
    assert counts == [5] + [2] * 5  # first: url, port, keepalive (recvmode at start-up), setup, action
    assert fake.commands[-2:] == [b"AT+HTTPSETUP", b"AT+HTTPACTION=0"]
    assert commands_per_request(host, fake, [Request(Method.GET, "http://a.example/y")]) == [3]  # only the url changed
    assert b"AT+HTTPCLOSE" not in fake.commands


def test_a_kept_link_takes_one_command_per_request():
    host = started()
    fake = FakeModule(host)
    counts = commands_per_request(host, fake, [Request(Method.GET, "http://a.example/x", keep_alive=True)] * 4)
    assert counts == [5, 1, 1, 1] and fake.commands[-1] == b"AT+HTTPACTION=0"


def test_a_link_whose_close_was_not_reported_is_closed_before_the_next_request():
    host = started()
    fake = FakeModule(host)  # no +HTTPCLOSED after the response
    counts = commands_per_request(host, fake, [Request(Method.GET, "http://a.example/x")] * 2)
    assert counts == [5, 7] and fake.commands[5:] == [
        b"AT+HTTPCLOSE", b'AT+HTTPPARA=url,"a.example/x"', b"AT+HTTPPARA=port,80", b"AT+HTTPPARA=keepalive,0", RECVMODE,
        b"AT+HTTPSETUP", b"AT+HTTPACTION=0"]


# ---- hostile module output never wedges the host side ------------------------------------------


SHORT_RAW = b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\nonly this"  # recvmode 0 framing
SHORT_PIECE = b"\r\n+HTTPRECV: 5000,HTTP/1.1 200 OK\r\nContent-Length: 4980\r\n\r\nten bytes!"
BARE_HEAD = b"\r\n+HTTPRECV:\r\n"


@pytest.mark.parametrize("stalled", [SHORT_RAW, SHORT_PIECE, BARE_HEAD])
def test_a_response_that_stops_short_is_abandoned_at_the_deadline(stalled, caplog):
    host = started()
    token = run_get_until_action(host)
    feed(host, OK + stalled, now=1.0)
    assert host.framer.in_payload
    deadline = host.next_deadline()
    assert deadline == pytest.approx(1.0 + ACTION_TIMEOUT + WAIT_MARGIN)  # the request's silence, from neoway.yaml
    host.on_time(deadline - 0.01)
    assert not any(isinstance(e, Failure) for e in events_of(host, token))
    with caplog.at_level(logging.WARNING, logger="bridge.neoway.host.side"):
        host.on_time(deadline)
    events = events_of(host, token)
    assert isinstance(events[-1], Failure) and events[-1].kind is ErrorKind.RESPONSE_TIMEOUT
    assert not host.framer.in_payload
    assert lines(host.data_to_send()) == [b"AT+HTTPCLOSE"]
    feed(host, OK + LINK_CLOSED, now=deadline + 1)
    cgsn_is_answered(host, deadline + 1)
    if stalled != BARE_HEAD:  # a head alone has no payload bytes to abandon
        assert "abandoned" in caplog.text


@pytest.mark.parametrize("unsolicited", [SHORT_RAW, SHORT_PIECE, BARE_HEAD])
def test_a_payload_no_request_waits_for_is_dropped_at_the_modules_response_time(unsolicited, caplog):
    host = started()
    feed(host, unsolicited, now=1.0)
    assert host.framer.in_payload and host.take_events() == []
    deadline = host.next_deadline()
    assert deadline == pytest.approx(1.0 + BUSY)
    with caplog.at_level(logging.WARNING, logger="bridge.neoway.host.side"):
        host.on_time(deadline)
    assert not host.framer.in_payload and host.next_deadline() is None
    assert host.take_events() == [] and host.take_unsolicited() == []
    cgsn_is_answered(host, deadline + 1)
    if unsolicited != BARE_HEAD:
        assert "Neoway module output dropped" in caplog.text


def test_a_request_after_an_abandoned_payload_runs_normally():
    host = started()
    feed(host, SHORT_PIECE, now=1.0)
    host.on_time(host.next_deadline())
    fake = FakeModule(host)
    token = host.submit(Request(Method.GET, "http://a.example/"))
    fake.pump()
    assert body(events_of(host, token)) == b"ok"


def test_the_warning_names_no_credential(caplog):
    host = started()
    secret = b"Authorization: Bearer s3cr3t-t0ken"
    with caplog.at_level(logging.WARNING, logger="bridge.neoway.host.side"):
        feed(host, b"\r\n+HTTPRECV: 900,HTTP/1.1 200 OK\r\n" + secret + b"\r\n", now=1.0)
        host.on_time(host.next_deadline())
        feed(host, piece(b"HTTP/1.1 200 OK\r\n" + secret + b"\r\n\r\n"), now=50.0)  # a whole piece nobody waits for
    assert "Neoway module output dropped" in caplog.text and b"s3cr3t" not in caplog.text.encode()


@pytest.mark.parametrize("length", ["\u00b2", "9" * 5000])
def test_a_file_length_that_is_no_ascii_number_does_not_raise(length):
    """+FILEHTTPSTAT: 0,1,<length> with a digit str.isdigit() takes but int() refuses, or more
    digits than int() converts: the download fails (a report that does not add up), nothing
    raises, AT+CGSN is served."""
    host = started()
    token = host.submit(Request(Method.GET, "http://a.example/f", save_to="f.bin"))
    host.data_to_send()
    feed(host, OK * 5, now=1.0)  # url, port, keepalive, setup, FILEHTTPACTION
    feed(host, b"\r\n+FILEHTTPSTAT: 0,1," + length.encode() + b"\r\n", now=2.0)
    [failure] = events_of(host, token)
    assert failure.kind is ErrorKind.RESPONSE_INVALID
    feed(host, OK, now=2.0)  # the HTTPCLOSE after it
    cgsn_is_answered(host, 3.0)
