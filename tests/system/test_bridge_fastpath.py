"""The bridge's fast path for commands it passes through unchanged (issue 12), sans-I/O: the
engine between the module side of the firmware's dialect and the host side of the module's, the
module scripted byte by byte, time as a value.

What a firmware must see is the module's answer as a V.250 module writes it (27.007 8.5: AT+CSQ
answers "+CSQ: <rssi>,<ber>" then OK), its own echo when ATE1 is set, the module's URCs, and its
dialect's ERROR when the module is gone -- whichever way the line went through the bridge.  The
fast path's own promise is checked too: a line the module side has forwarded once is not framed
by it again while nothing else is in flight.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.bridging.engine import BridgeEngine
from bridge.device.fs import ModuleFileSystem
from bridge.registry import make_host_side, make_module_side
from bridge.roles.host_commands import SETTLE

DIRECTIONS = [("onemo", "neoway"), ("neoway", "onemo")]
CSQ = b"\r\n+CSQ: 21,99\r\n\r\nOK\r\n"
CEREG_URC = b"\r\n+CEREG: 1\r\n"


class Rig:
    """Firmware of `firmware` -> engine -> a scripted module of `module`; the host side's start-up
    answered OK, echo off (ATE0, answered by the bridge itself)."""

    def __init__(self, root, firmware: str, module: str, fast: bool = True) -> None:
        self.engine = BridgeEngine(make_module_side(firmware, ModuleFileSystem(str(root))), make_host_side(module))
        self.now = 1.0
        self.framed: list[bytes] = []  # what the module side framed itself (the slow path)
        if not fast:
            self.engine.host_side.passthrough_raw = lambda line, now: None  # type: ignore[method-assign]
        for _ in range(20):
            lines = self.written()
            if not lines:
                break
            for _ in lines:
                self.module(b"\r\nOK\r\n")
        assert self.engine.host_side.idle and self.engine.host_side.ready
        self.firmware(b"ATE0\r")
        assert self.got() == b"ATE0\r\r\nOK\r\n" and self.written() == []  # echoed: echo was on
        side = self.engine.module_side
        receive = side.receive_data
        side.receive_data = lambda data, now: (self.framed.append(data), receive(data, now))[1]  # type: ignore[method-assign]

    def written(self) -> list[bytes]:
        """Command lines the bridge wrote to the module since the last call."""
        return [line for line in self.engine.to_module().split(b"\r") if line]

    def firmware(self, data: bytes) -> None:
        self.engine.from_host(data, self.now)

    def module(self, data: bytes) -> None:
        self.engine.from_module(data, self.now)

    def at(self, now: float) -> None:
        self.now = now
        self.engine.on_time(now)

    def got(self) -> bytes:
        """Bytes for the firmware since the last call."""
        return self.engine.to_host()

    def csq(self, answer: bytes = CSQ) -> bytes:
        """AT+CSQ from the firmware, answered by the module: what the firmware got."""
        self.firmware(b"AT+CSQ\r")
        assert self.written() == [b"AT+CSQ"]
        self.module(answer)
        return self.got()


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_a_passed_through_command_is_framed_once_then_goes_raw(tmp_path, firmware, module):
    rig = Rig(tmp_path, firmware, module)
    assert rig.csq() == CSQ and rig.framed == [b"AT+CSQ\r"]  # the first one: the module side decides
    for _ in range(3):
        assert rig.csq() == CSQ
    assert rig.framed == [b"AT+CSQ\r"]  # the others went straight through
    rig.firmware(b"AT+CSQ=?\r")  # another form: the module side decides again
    assert rig.written() == [b"AT+CSQ=?"] and rig.framed[-1] == b"AT+CSQ=?\r"


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_the_fast_path_echoes_as_the_module_side_does(tmp_path, firmware, module):
    rig = Rig(tmp_path, firmware, module)
    rig.firmware(b"ATE1\r")
    assert rig.got() == b"\r\nOK\r\n" and rig.written() == []  # echo is the bridge's own
    assert rig.csq() == b"AT+CSQ\r" + CSQ
    assert rig.csq() == b"AT+CSQ\r" + CSQ and len(rig.framed) == 2  # ATE1, the first AT+CSQ
    rig.firmware(b"ATE0\r")
    assert rig.got() == b"ATE0\r\r\nOK\r\n"
    assert rig.csq() == CSQ


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_an_answer_in_pieces_reaches_the_firmware_whole_and_once(tmp_path, firmware, module):
    rig = Rig(tmp_path, firmware, module)
    rig.csq()
    rig.firmware(b"AT+CSQ\r\n")  # CR LF: the LF belongs to the line
    assert rig.written() == [b"AT+CSQ"]
    for i in range(len(CSQ) - 2):
        rig.module(CSQ[i:i + 1])
        assert rig.got() == b"", CSQ[:i + 1]  # nothing until the final result has come whole
    rig.module(CSQ[-2:-1])  # its CR ends it (as framing it would)
    assert rig.got() == CSQ
    rig.module(CSQ[-1:])  # and its LF is no new line
    assert rig.got() == b""
    assert rig.csq() == CSQ and len(rig.framed) == 1


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_urcs_around_and_inside_an_answer_all_reach_the_firmware(tmp_path, firmware, module):
    rig = Rig(tmp_path, firmware, module)
    rig.csq()
    got = rig.csq(b"\r\n+CSQ: 21,99\r\n" + CEREG_URC + b"\r\nOK\r\n")
    assert got == CSQ + CEREG_URC  # the answer, then the URC that came inside it (as the framed path does)
    got = rig.csq(CEREG_URC + CSQ)
    assert got == CSQ + CEREG_URC
    rig.module(CEREG_URC)  # and between commands
    assert rig.got() == CEREG_URC
    assert rig.csq() == CSQ


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_a_second_line_before_the_answer_waits_its_turn(tmp_path, firmware, module):
    rig = Rig(tmp_path, firmware, module)
    rig.csq()
    rig.firmware(b"AT+CSQ\r")
    rig.firmware(b"AT+CSQ\r")
    assert rig.written() == [b"AT+CSQ"]  # one command at a time
    rig.module(b"\r\n+CSQ: 1,99\r\n\r\nOK\r\n")
    assert rig.got() == b"\r\n+CSQ: 1,99\r\n\r\nOK\r\n" and rig.written() == [b"AT+CSQ"]
    rig.module(b"\r\n+CSQ: 2,99\r\n\r\nOK\r\n")
    assert rig.got() == b"\r\n+CSQ: 2,99\r\n\r\nOK\r\n"


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_the_module_lost_while_a_line_waits_gives_the_firmware_its_error(tmp_path, firmware, module):
    rig = Rig(tmp_path, firmware, module)
    rig.csq()
    rig.firmware(b"AT+CSQ\r")
    assert rig.written() == [b"AT+CSQ"]
    rig.engine.module_lost(rig.now)
    assert rig.got() == b"\r\nERROR\r\n"
    rig.firmware(b"AT+CSQ\r")  # while it is away: at once, nothing written
    assert rig.got() == b"\r\nERROR\r\n" and rig.written() == []
    rig.engine.module_back(make_host_side(module), rig.now)
    for _ in range(20):
        lines = rig.written()
        if not lines:
            break
        for _ in lines:
            rig.module(b"\r\nOK\r\n")
    assert rig.csq() == CSQ


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_a_line_the_module_never_answers_times_out_and_the_next_one_goes(tmp_path, firmware, module):
    rig = Rig(tmp_path, firmware, module)
    rig.csq()
    rig.firmware(b"AT+CSQ\r")
    assert rig.written() == [b"AT+CSQ"]
    assert rig.engine.next_deadline() is None  # no timer while nothing waits behind it
    rig.module(b"\r\n+CSQ: 3,99\r\n")  # part of an answer, never its final result
    rig.firmware(b"AT+CSQ\r")
    assert rig.written() == [] and rig.got() == b""
    deadline = rig.engine.next_deadline()  # now the first one's time matters: counted from when it went
    assert deadline is not None and 1.0 < deadline <= 1.0 + 600
    rig.at(deadline - 0.001)
    assert rig.written() == [] and rig.got() == b""
    rig.at(deadline)
    assert rig.got() == b"\r\n+CSQ: 3,99\r\n"  # what had come, without a final result: no answer of the module's
    assert rig.written() == []  # late answers are dropped for a while
    rig.at(deadline + SETTLE)
    assert rig.written() == [b"AT+CSQ"]
    rig.module(CSQ)
    assert rig.got() == CSQ


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_a_set_form_with_broken_quotes_is_not_passed_on(tmp_path, firmware, module):
    rig = Rig(tmp_path, firmware, module)
    rig.firmware(b'AT+CGDCONT=1,"IP","cmnet"\r')
    assert rig.written() == [b'AT+CGDCONT=1,"IP","cmnet"']
    rig.module(b"\r\nOK\r\n")
    assert rig.got() == b"\r\nOK\r\n"
    rig.firmware(b'AT+CGDCONT=2,"IP","ctnet"\r')
    assert rig.written() == [b'AT+CGDCONT=2,"IP","ctnet"'] and len(rig.framed) == 1
    rig.module(b"\r\nOK\r\n")
    rig.got()
    rig.firmware(b'AT+CGDCONT=1,"IP\r')  # the module side refuses it: a framing error, never the module's
    assert rig.written() == [] and rig.got() == b"\r\nERROR\r\n"


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_a_slash_repeats_a_line_that_went_raw(tmp_path, firmware, module):
    rig = Rig(tmp_path, firmware, module)
    rig.csq()
    assert rig.csq() == CSQ
    rig.firmware(b"A/")
    assert rig.written() == [b"AT+CSQ"]
    rig.module(CSQ)
    assert rig.got() == CSQ


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_a_forwarded_line_arms_its_timer_at_once(tmp_path, firmware, module):
    """The engine gives the host side the time: a command's deadline is set when it is written,
    not left for an extra pass of the loop ("at once", 0.0) to arm."""
    rig = Rig(tmp_path, firmware, module)
    rig.firmware(b"AT+CGATT?\r")  # framed by the module side, forwarded
    assert rig.written() == [b"AT+CGATT?"]
    deadline = rig.engine.next_deadline()
    assert deadline is not None and deadline > rig.now
    rig.module(b"\r\n+CGATT: 1\r\n\r\nOK\r\n")
    assert rig.got() == b"\r\n+CGATT: 1\r\n\r\nOK\r\n" and rig.engine.next_deadline() is None


# ---- the same bytes as the framed path, however the module's bytes are cut ------------------

ANSWERS = [
    CSQ,
    b"\r\n+CSQ: 21,99\r\n\r\n+CME ERROR: 10\r\n",
    b"\r\n+CSQ:  21 , 99 \r\n\r\nOK\r\n",
    b"\r\n+CME ERROR:  10 \r\n",  # odd spacing: re-encoded by the framed path
    b"\r\nERROR\r\n",
    b"\r\n+CSQ: 21,99\r\n+CSQ: 22,99\r\n\r\nOK\r\n",  # one CR LF between lines
    b"+CSQ: 21,99\r\nOK\r\n",  # no leading CR LF
    b"\r\n+CSQ: 21,99\r\n\r\nOK \r\n",
    b"\r\n+CSQ: 21,99\r\n\r\nOK\r\n\r\n+CEREG: 5\r\n",
    b"\r\nRING\r\n" + CSQ,
    b"\r\nAT+CSQ\r\n" + CSQ,  # the module echoing after all
    b"\r\n21,99\r\n\r\nOK\r\n",  # a text line
    b"\r\n\r\n+CSQ: 21,99\r\n\r\nOK\r\n",
    b"\r\n+CSQ: 21,99\r\n\r\nOK\r",  # a module that ends its lines with CR alone
    b"\r\n+CEREG: 1\r\n\r\n+CSQ: 21,99\r\n\r\nOK\r\n",
]


@given(answer=st.sampled_from(ANSWERS), cuts=st.lists(st.integers(1, 40), max_size=6))
@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_the_firmware_gets_what_the_framed_path_gives(tmp_path_factory, firmware, module, answer, cuts):
    got = []
    for fast in (True, False):
        rig = Rig(tmp_path_factory.mktemp("rig"), firmware, module, fast=fast)
        rig.csq()
        rig.firmware(b"AT+CSQ\r")
        assert rig.written() == [b"AT+CSQ"]
        rest = answer
        for cut in cuts:
            rig.module(rest[:cut])
            rest = rest[cut:]
        rig.module(rest)
        rig.module(CEREG_URC)  # the answer is over, whatever it was
        got.append(rig.got())
        assert rig.csq() == CSQ  # and the next command is served
    assert got[0] == got[1]


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_the_fast_path_leaves_the_sides_deadline_alone(tmp_path, firmware, module):
    """A raw line starts no timer, so the loop's question for the next deadline after it is
    answered without asking the sides again; nor does its answer, when a read brings it whole
    and alone (nothing waited behind it); other bytes from the module make it ask again."""
    rig = Rig(tmp_path, firmware, module)
    rig.csq()
    asked = []
    ask = rig.engine.host_side.next_deadline
    rig.engine.host_side.next_deadline = lambda: (asked.append(1), ask())[1]  # type: ignore[method-assign]
    assert rig.engine.next_deadline() is None and len(asked) == 1
    rig.firmware(b"AT+CSQ\r")
    assert rig.written() == [b"AT+CSQ"]
    assert rig.engine.next_deadline() is None and len(asked) == 1
    rig.module(CSQ)
    assert rig.got() == CSQ and rig.engine.next_deadline() is None and len(asked) == 1
    rig.firmware(b"AT+CSQ\r")
    assert rig.written() == [b"AT+CSQ"]
    rig.module(CSQ[:5])
    rig.module(CSQ[5:])
    assert rig.got() == CSQ and rig.engine.next_deadline() is None and len(asked) == 2


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_a_whole_plain_answer_in_one_read_is_never_framed(tmp_path, firmware, module):
    """The fast path's answer half: a read that is exactly the plain answer to the raw line goes
    to the firmware as it came, without the host side's framing; a read that is more or less
    than that is framed as ever."""
    rig = Rig(tmp_path, firmware, module)
    rig.csq()
    framed = []
    receive = rig.engine.host_side.receive_data
    rig.engine.host_side.receive_data = lambda data, now: (framed.append(data), receive(data, now))[1]  # type: ignore[method-assign]
    for answer in (CSQ, b"\r\n+CSQ: 21,99\r\n\r\n+CME ERROR: 10\r\n", b"\r\nERROR\r\n"):
        assert rig.csq(answer) == answer
    assert framed == []
    more_or_less = [(CSQ + CEREG_URC, CSQ + CEREG_URC), (CSQ[:-1], CSQ), (CEREG_URC + CSQ, CSQ + CEREG_URC),
                    (b"\r\n+CME ERROR:  10 \r\n", b"\r\n+CME ERROR: 10\r\n")]  # odd spacing: re-encoded
    for answer, expected in more_or_less:
        before = len(framed)
        got = rig.csq(answer)
        if answer == CSQ[:-1]:
            rig.module(b"\n")
        assert framed[before] == answer and got + rig.got() == expected  # framed as ever
    assert rig.engine.host_side.idle and rig.csq() == CSQ and len(framed) == before + 1


@pytest.mark.parametrize("firmware,module", DIRECTIONS)
def test_through_a_real_bridge_with_echo_every_answer_is_the_modules(tmp_path, firmware, module):
    """Real ptys, the bridge's runner and loop, the other dialect's emulator (its identity:
    +CSQ: 25,99): with echo on, each AT+CSQ comes back as its echo and the module's answer."""
    from support.bridged import bridged

    with bridged(firmware, module, tmp_path, echo=True) as (end, runner, _):
        for _ in range(30):
            assert end.transact("AT+CSQ") == b"AT+CSQ\r\r\n+CSQ: 25,99\r\n\r\nOK\r\n"
        assert end.transact("ATE0") == b"ATE0\r\r\nOK\r\n"
        for _ in range(30):
            assert end.transact("AT+CSQ") == b"\r\n+CSQ: 25,99\r\n\r\nOK\r\n"
        assert ("CSQ", "execute") in runner.engine._verbatim
