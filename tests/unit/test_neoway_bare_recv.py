"""A bare "+HTTPRECV:" / "+HTTPSRECV:" line never wedges the Neoway host side (issue 10: "Hostile
module output never wedges nor crashes the bridge"; found by benchmarks/fuzz.py --seed 11).

The manual (9.5 +HTTPRECV, recvmode 0): "When the module receives HTTP data from the network, the
UART prints the data automatically": one bare +HTTPRECV: line, then the raw HTTP response -- status
line, headers, empty line, body (dialect-facts: its end is known from Content-Length, chunked
framing or +HTTPCLOSED).  So:
- bytes after the bare line that cannot begin a status line ("HTTP/") are no response: they are
  framed as what they are (a command's answer) at once, and the line is logged and dropped;
- with no request running, the line and the response after it are no one's: logged and dropped;
- a raw response is bounded by the request's own timer while the request runs, and once the
  request is over by the module's busy time (neoway.yaml: HTTPSETUP + HTTPACTION timeouts), counted
  from the request's end and not pushed back by bytes that keep trickling in.
"""
from __future__ import annotations

import logging

import pytest

from bridge.at.dialect import load
from bridge.bridging.engine import BridgeEngine
from bridge.device.fs import ModuleFileSystem
from bridge.model import ErrorKind, Failure
from bridge.neoway.host.context import WAIT_MARGIN
from bridge.registry import make_host_side, make_module_side
from support.hostside import events_of, feed, lines
from support.neoway_hostside import OK, run_get_until_action, started

DIALECT = load("neoway")
BUSY = DIALECT.commands["HTTPSETUP"].timeout + DIALECT.commands["HTTPACTION"].timeout + 2 * WAIT_MARGIN
IMEI = b"866123456789012"
CGSN_ANSWER = b"\r\n" + IMEI + b"\r\n\r\nOK\r\n"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"


def cgsn(host, before: bytes, now: float) -> list:
    """AT+CGSN passed through; the module writes `before` and then its answer. The answers taken."""
    token = host.passthrough(b"AT+CGSN")
    assert lines(host.data_to_send()) == [b"AT+CGSN"]
    feed(host, before + CGSN_ANSWER, now=now)
    return [answer for got, answer in host.take_passthrough() if got == token]


@pytest.mark.parametrize("bare", [b"\r\n+HTTPSRECV: ", b"\r\n+HTTPRECV:", b"\r\n+HTTPRECV:\r\n", b"\r\n+HTTPSRECV:  \r\n"])
def test_a_bare_line_with_no_request_leaves_the_next_command_served_at_once(bare, caplog):
    host = started()
    with caplog.at_level(logging.WARNING, logger="bridge.neoway.host.side"):
        answers = cgsn(host, bare, now=2.0)
    assert len(answers) == 1 and IMEI in answers[0] and answers[0].endswith(OK)
    assert not host.framer.in_payload and host.next_deadline() is None
    assert host.take_events() == []
    assert "+HTTP" in caplog.text and "dropped" in caplog.text  # the line is logged


def test_the_fuzzers_wedge_onemo_firmware_through_the_engine_gets_ok_for_at(tmp_path):
    """benchmarks/fuzz.py --seed 11, minimised: module bytes "\\r\\n+HTTPSRECV: " (a bare line
    cut before its end), then the firmware's AT, the module's OK."""
    engine = BridgeEngine(make_module_side("onemo", ModuleFileSystem(str(tmp_path))), make_host_side("neoway"))
    now = 1.0
    for _ in range(20):  # the host side's start-up, each command answered OK
        written = engine.to_module()
        if not written:
            break
        engine.from_module(OK * written.count(b"\r"), now)
    engine.to_host()
    engine.from_module(b"\r\n+HTTPSRECV: ", now)
    engine.from_host(b"AT\r", now)
    assert engine.to_module() == b"AT\r"
    engine.from_module(OK, now + 0.01)
    assert engine.to_host().endswith(b"\r\nOK\r\n")


def test_a_bare_line_then_no_response_ends_the_running_request_and_the_answer_is_framed():
    host = started()
    token = run_get_until_action(host)
    feed(host, OK, now=1.0)  # HTTPACTION: the request went out
    answers = cgsn(host, b"\r\n+HTTPRECV:\r\n", now=2.0)  # a module that then answers AT+CGSN
    [failure] = [e for e in events_of(host, token) if isinstance(e, Failure)]
    assert failure.kind is ErrorKind.RESPONSE_INVALID
    assert len(answers) == 1 and IMEI in answers[0]


def test_a_raw_response_of_a_cancelled_request_ends_at_the_busy_time_whatever_trickles_in(caplog):
    host = started()
    token = run_get_until_action(host)
    feed(host, OK + b"\r\n+HTTPRECV:\r\n" + HEAD + b"x" * 100, now=1.0)
    assert host.framer.in_payload
    host.cancel(token)
    cancelled = 2.0
    host.on_time(cancelled)
    assert isinstance(events_of(host, token)[-1], Failure)
    assert lines(host.data_to_send()) == [b"AT+HTTPCLOSE"]
    now = cancelled
    with caplog.at_level(logging.WARNING, logger="bridge.neoway.host.side"):
        while now < cancelled + BUSY - 10:  # the module trickles body bytes, one read every 10 s
            now += 10.0
            host.on_time(now)
            feed(host, b"x" * 10, now=now)
            assert host.framer.in_payload
        deadline = host.next_deadline()
        assert deadline is not None and deadline <= cancelled + BUSY
        host.on_time(deadline)
    assert not host.framer.in_payload and "abandoned" in caplog.text
    feed(host, OK, now=deadline + 1)  # AT+HTTPCLOSE's answer, once the module's reception ended
    answers = cgsn(host, b"", now=deadline + 2)
    assert len(answers) == 1 and IMEI in answers[0]
