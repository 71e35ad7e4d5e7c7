"""Issue 12, the Neoway body pump (OneMO firmware -> bridge -> Neoway module): body bytes go from
the Neoway host side's framer to the OneMO module side's sink with no event between, and
:class:`~bridge.at.payloads.RunBudget` takes a run of pieces with one count check.  Each fast
path against the slow one it stands for: the same bytes to the firmware for any read split,
the same runs for any stream, and the slow path again for what the fast one does not take."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.at.dialect import load
from bridge.at.payloads import RunBudget, payload_run
from bridge.at.responses import ResponseFramer

sys.path.insert(0, str(Path(__file__).parent.parent))
from support.run_accepts import PieceByPiece  # noqa: E402
from support.sansio_bridge import SansIoBridge  # noqa: E402

FIRMWARE = (b"ATE0", b'AT+MHTTPCREATE="http://127.0.0.1:8080"', b'AT+MHTTPREQUEST=0,1,0,"/x"')


def pieces(data: bytes, size: int, name: bytes = b"+HTTPRECV") -> bytes:
    return b"".join(b"\r\n%s: %d," % (name, len(data[at:at + size])) + data[at:at + size] + b"\r\n"
                    for at in range(0, len(data), size))


# ---- payload_run: RunBudget's count check and the repeated prefixes take what a call a piece took ----

@settings(deadline=None)
@given(sizes=st.lists(st.integers(0, 9), max_size=14), repeat=st.integers(0, 6),
       left=st.none() | st.integers(0, 80), tail=st.sampled_from([b"", b"\r", b"\r\nRING\r\n", b"\r\n+HTTPRECV: 9,ab"]))
def test_a_budget_takes_what_a_call_a_piece_took(sizes, repeat, left, tail):
    framer = ResponseFramer(load("neoway"), prompts=False)
    pattern = framer._runs[("+HTTPRECV", None)]
    stream = bytearray(b"".join(pieces(bytes([65 + n]) * n, max(n, 1)) if n else b"\r\n+HTTPRECV: 0,\r\n"
                                for n in sizes + [3] * repeat) + tail)
    budget, calls = RunBudget(left), PieceByPiece(left)
    assert payload_run(stream, 0, pattern, 1 << 20, budget, b"<", []) == payload_run(stream, 0, pattern, 1 << 20, calls, b"<", [])
    assert budget.left == calls.left and budget.taken == calls.calls - (calls.calls > budget.taken)


# ---- the engine: the body pump gives the firmware what the events gave ----------------------------

def response(body: bytes, framing: str) -> bytes:
    if framing == "length":
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    if framing == "chunked":
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body + b"trailing"


def bridged(module_bytes: bytes, cuts: list[int], pump: bool) -> tuple[bytes, int]:
    """What the firmware gets when the module's bytes after AT+HTTPACTION come in reads cut at
    `cuts`; and how many reads the body pump took whole."""
    with tempfile.TemporaryDirectory() as root:
        bridge = SansIoBridge(root, lambda line: b"\r\nOK\r\n")
        engine = bridge.engine
        if not pump:
            engine._body_pump = lambda token, side_token: None
        for line in FIRMWARE:
            bridge.firmware(line, 1.0)
        assert bridge.written[-1] == b"AT+HTTPACTION=0"
        pumped = 0
        edges = sorted({0, len(module_bytes), *(c for c in cuts if c < len(module_bytes))})
        for start, stop in zip(edges, edges[1:]):
            streaming = engine._stream is not None
            engine.from_module(module_bytes[start:stop], 2.0)
            pumped += streaming and engine._stream is not None and not engine.host_side._events
            bridge.pump(2.0)
        return bytes(bridge.to_firmware), pumped


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=2500), size=st.integers(1, 700), cuts=st.lists(st.integers(0, 4000), max_size=12),
       framing=st.sampled_from(["length", "chunked", "trailing"]),
       between=st.sampled_from([b"", b"\r\nRING\r\n", b"\r\n+HTTPRECV: 0,\r\n"]),
       after=st.sampled_from([b"", b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n"]))
def test_the_pump_gives_the_firmware_what_the_events_gave(body, size, cuts, framing, between, after):
    stream = pieces(response(body, framing), size)
    middle = len(stream) // 2
    middle = stream.find(b"\r\n+HTTPRECV", middle) if stream.find(b"\r\n+HTTPRECV", middle) > 0 else len(stream)
    module = stream[:middle] + between + stream[middle:] + after
    assert bridged(module, cuts, pump=True)[0] == bridged(module, cuts, pump=False)[0]


def test_a_long_body_goes_through_the_pump_read_by_read():
    body = bytes(range(256)) * 400
    module = pieces(response(body, "length"), 4096)
    cuts = list(range(0, len(module), 34567))
    fast, pumped = bridged(module, cuts, pump=True)
    assert fast == bridged(module, cuts, pump=False)[0]
    assert pumped >= len(cuts) - 3  # all but the head's read and the last ones
    assert fast.count(b'+MHTTPURC: "content"') > 70 and fast.endswith(b"\r\n")


def test_a_trace_keeps_the_events():
    """With a trace, every event is recorded: no pump."""
    from bridge.bridging.trace import Trace
    import io
    with tempfile.TemporaryDirectory() as root:
        bridge = SansIoBridge(root, lambda line: b"\r\nOK\r\n")
        bridge.engine.trace = Trace(io.BytesIO())
        for line in FIRMWARE:
            bridge.firmware(line, 1.0)
        bridge.engine.from_module(pieces(response(b"x" * 5000, "length"), 1000)[:3000], 2.0)
        assert bridge.engine._stream is None


# ---- ResponseFramer.receive_run: a run cut from the read itself, as receive_data + take_payload_run ----

@settings(max_examples=300, deadline=None)
@given(sizes=st.lists(st.integers(0, 40), max_size=10), cuts=st.lists(st.integers(0, 600), max_size=10),
       left=st.none() | st.integers(0, 200), hex_piece=st.booleans(),
       tail=st.sampled_from([b"", b"\r\nRING\r\n", b"\r\n+HTTPRECV: 9,ab", b"\r\nOK\r\n"]))
def test_receive_run_is_receive_data_and_take_payload_run(sizes, cuts, left, hex_piece, tail):
    stream = b"".join(pieces(bytes(range(n)), max(n, 1)) if n else b"\r\n+HTTPRECV: 0,\r\n" for n in sizes)
    stream += (b"\r\n+HTTPRECV: 2,4142\r\n" if hex_piece else b"") + tail
    edges = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
    framers = ResponseFramer(load("neoway"), prompts=False), ResponseFramer(load("neoway"), prompts=False)
    budgets = [RunBudget(left), RunBudget(left)]
    got: list[list] = [[], []]
    for start, stop in zip(edges, edges[1:]):
        read = stream[start:stop]
        fast, slow = framers
        got[0].append(fast.receive_run(read, "+HTTPRECV", None, budgets[0]))
        slow.receive_data(read)
        got[1].append(slow.take_payload_run("+HTTPRECV", None, budgets[1]))
        assert fast.buffered == slow.buffered and fast.in_payload == slow.in_payload
        for framer, seen in zip(framers, got):
            framer.start_payload("+HTTPRECV", None)
    assert got[0] == got[1] and budgets[0].taken == budgets[1].taken and budgets[0].left == budgets[1].left
    for framer in framers:
        framer.close()
    assert [repr(f) for f in framers[0].feed()] == [repr(f) for f in framers[1].feed()]


def test_prefixes_that_do_not_repeat_compile_no_regex():
    """OneMO content URCs carry a growing <sum_len>: no prefix repeats, none becomes a regex (a
    regex compiled a frame would cost more than the frame)."""
    from bridge.at import payloads
    framer = ResponseFramer(load("onemo"), prompts=False)
    framer.receive_data(b"".join(b'\r\n+MHTTPURC: "content",0,0,%d,4,abcd' % (4 * n) for n in range(1, 50)) + b"\r\n")
    payloads._REPEATS.clear()
    assert framer.take_payload_run("+MHTTPURC", "content", lambda fields, length: True) == b"abcd" * 49
    assert not payloads._REPEATS
