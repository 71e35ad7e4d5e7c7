"""The Neoway host side carries out the model's bring-up operations (ModuleCall) with the N58's own
commands (N58 AT manual v2.0: AT+XIIC 6.2, AT+CCID 4.10, AT+NETAPN 6.1, AT+XGAUTH 4.21), in
memory: the commands it writes, the module's answers cut anywhere, the ModuleAnswer it gives."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.model import ErrorKind, ModuleAnswer, ModuleCall, ModuleOp
from bridge.neoway.host.side import NeowayHostSide
from support.hostside import cuts_for, feed, lines
from support.neoway_hostside import ERROR, OK, STARTUP_ANSWERS, started

XIIC_DOWN = b"\r\n+XIIC:    0,0.0.0.0\r\n" + OK
XIIC_UP = b"\r\n+XIIC:    1,10.107.216.162\r\n" + OK


def call(host: NeowayHostSide, op: ModuleOp, *args: str) -> tuple[int, bytes]:
    token = host.module_call(ModuleCall(op, args))
    return token, host.data_to_send()


def answered(host: NeowayHostSide, token: int) -> ModuleAnswer:
    answers = host.take_module_answers()
    assert [t for t, _ in answers] == [token], answers
    return answers[0][1]


@given(st.data())
def test_link_state_from_xiic_query(data):
    host = started()
    token, sent = call(host, ModuleOp.LINK_STATE)
    assert lines(sent) == [b"AT+XIIC?"]
    feed(host, XIIC_UP, cuts_for(data, XIIC_UP))
    assert answered(host, token) == ModuleAnswer(True, ("1", "10.107.216.162"))


def test_link_up_polls_until_the_link_is_up():
    host = started()
    token, sent = call(host, ModuleOp.LINK_UP, "1")
    assert lines(sent) == [b"AT+XIIC=1"]
    assert lines(feed(host, OK, now=1.0)) == [b"AT+XIIC?"]
    assert feed(host, XIIC_DOWN, now=1.1) == b"" and host.take_module_answers() == []
    assert host.next_deadline() == pytest.approx(2.1)  # the next poll, a second later (neoway.yaml: every 1)
    host.on_time(2.1)
    assert lines(host.data_to_send()) == [b"AT+XIIC?"]
    feed(host, XIIC_UP, now=2.2)
    assert answered(host, token) == ModuleAnswer(True, ("10.107.216.162",))
    assert host.idle


def test_link_up_gives_up_after_the_xiic_timeout():
    """AT+XIIC's timeout (20 s in neoway.yaml) bounds the polling: 20 polls a second apart."""
    host = started()
    token, _ = call(host, ModuleOp.LINK_UP, "1")
    polls, now = 0, 1.0
    sent = feed(host, OK, now=now)
    while sent:
        assert lines(sent) == [b"AT+XIIC?"]
        polls += 1
        sent = feed(host, XIIC_DOWN, now=now)
        deadline = host.next_deadline()
        if deadline is None:
            break
        now = deadline
        host.on_time(now)
        sent = host.data_to_send()
    assert polls == 20
    assert answered(host, token) == ModuleAnswer(False, error=ErrorKind.NO_DATA_LINK)


def test_link_up_refused():
    host = started()
    token, _ = call(host, ModuleOp.LINK_UP, "1")
    assert feed(host, ERROR) == b""
    assert answered(host, token) == ModuleAnswer(False, error=ErrorKind.NO_DATA_LINK)


def test_link_down():
    host = started()
    token, sent = call(host, ModuleOp.LINK_DOWN, "1")
    assert lines(sent) == [b"AT+XIIC=0"]
    feed(host, OK)
    assert answered(host, token) == ModuleAnswer(True)


@given(st.data())
def test_iccid(data):
    host = started()
    token, sent = call(host, ModuleOp.ICCID)
    assert lines(sent) == [b"AT+CCID"]
    stream = b"\r\n+CCID: 89860002190810001367\r\n" + OK
    feed(host, stream, cuts_for(data, stream))
    assert answered(host, token) == ModuleAnswer(True, ("89860002190810001367",))


def test_iccid_without_a_sim():
    host = started()
    token, _ = call(host, ModuleOp.ICCID)
    feed(host, ERROR)
    assert not answered(host, token).ok


@pytest.mark.parametrize("op, args, line", [
    (ModuleOp.SET_APN, ("cmnet",), b'AT+NETAPN="cmnet","",""'),
    (ModuleOp.SET_AUTH, ("1", "card", "card"), b'AT+XGAUTH=1,1,"card","card"'),
    (ModuleOp.SET_AUTH, ("0",), b'AT+XGAUTH=1,0,"",""'),
])
def test_settings(op, args, line):
    host = started()
    token, sent = call(host, op, *args)
    assert lines(sent) == [line]
    feed(host, OK)
    assert answered(host, token) == ModuleAnswer(True)


def test_a_quote_in_a_setting_is_refused_before_anything_is_sent():
    host = started()
    token, sent = call(host, ModuleOp.SET_AUTH, "1", 'us"er', "pw")
    assert sent == b""
    assert answered(host, token) == ModuleAnswer(False, error=ErrorKind.INVALID_PARAMETER)


def test_calls_wait_for_the_start_up_and_run_in_order():
    host = NeowayHostSide()
    first = host.module_call(ModuleCall(ModuleOp.ICCID))
    second = host.module_call(ModuleCall(ModuleOp.LINK_STATE))
    sent = host.data_to_send() + feed(host, STARTUP_ANSWERS, now=0.0)
    assert lines(sent)[-1] == b"AT+CCID"  # after the start-up's commands
    assert lines(feed(host, b"\r\n+CCID: 89860012345678901234\r\n" + OK, now=0.1)) == [b"AT+XIIC?"]
    feed(host, XIIC_UP, now=0.2)
    answers = host.take_module_answers()
    assert [t for t, _ in answers] == [first, second]
    assert answers[0][1].values == ("89860012345678901234",) and answers[1][1].values == ("1", "10.107.216.162")


def test_n720_has_no_xiic():
    host = NeowayHostSide(model="N720")
    token = host.module_call(ModuleCall(ModuleOp.LINK_STATE))
    for _ in range(10):  # its start-up, every command answered OK
        if host.ready is not None:
            break
        feed(host, OK, now=0.0)
    assert host.ready and b"XIIC" not in host.data_to_send()
    assert answered(host, token) == ModuleAnswer(False, error=ErrorKind.UNSUPPORTED)
