"""ResponseFramer.take_payload_run: a run of whole length-framed frames of one shape, taken at once
(the OneMO host side's body pump), gives exactly the payload bytes next_frame would have given
one frame at a time, and leaves whatever is not such a frame -- another URC, a frame cut short,
HEX output, a frame the caller refuses -- to next_frame, which frames it as ever."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bridge.at import NEED_DATA, ResponseFramer
from bridge.at.dialect import load
from bridge.at.frames import FramingError, Info
from bridge.at.payloads import RunBudget
from support.run_accepts import PieceByPiece

DIALECT = load("onemo")
URC = "+MHTTPURC"


def content(data: bytes, httpid: int = 0, done: int = 0, total: int = 0) -> bytes:
    """A content URC as the manual writes it (3.10): counts, then exactly cur_len raw bytes, CRLF."""
    return b'\r\n+MHTTPURC: "content",%d,%d,%d,%d,' % (httpid, total, done + len(data), len(data)) + data + b"\r\n"


def every(fields: tuple[bytes, ...], length: int) -> bool:
    return True


def framer_at_first(stream: bytes) -> tuple[ResponseFramer, Info]:
    """A framer fed `stream`, its first frame (a content URC) taken with next_frame."""
    framer = ResponseFramer(DIALECT, prompts=False)
    framer.receive_data(stream)
    first = framer.next_frame()
    assert isinstance(first, Info) and first.variant == "content"
    return framer, first


def test_a_run_of_whole_content_urcs_is_taken_at_once():
    pieces = [b"ab\r\nc", b',"d"\r\n', b"+MHTTPURC: x"]  # payload bytes that look like frame syntax
    framer, first = framer_at_first(content(pieces[0]) + content(pieces[1], done=5) + content(pieces[2], done=11))
    seen: list[tuple[tuple[bytes, ...], int]] = []
    taken = framer.take_payload_run(URC, "content", lambda f, n: seen.append((f, n)) or True, first.payload)
    assert taken == b"".join(pieces)
    assert seen == [((b"0", b"0", b"11", b"6"), 6), ((b"0", b"0", b"23", b"12"), 12)]  # the fields as they came
    assert framer.next_frame() is NEED_DATA and framer.buffered == 0


def test_another_urc_ends_the_run_and_is_framed_as_ever():
    stream = content(b"one") + content(b"two") + b"\r\n+CEREG: 1\r\n" + content(b"three")
    framer, first = framer_at_first(stream)
    assert framer.take_payload_run(URC, "content", every, first.payload) == b"onetwo"
    cereg = framer.next_frame()
    assert isinstance(cereg, Info) and cereg.name == "+CEREG"
    assert framer.take_payload_run(URC, "content", every) == b"three"


def test_a_frame_cut_short_stays_for_next_frame():
    second = content(b"0123456789")
    framer, first = framer_at_first(content(b"x") + second[:-5])
    assert framer.take_payload_run(URC, "content", every, first.payload) == b"x"
    framer.receive_data(second[-5:])
    frame = framer.next_frame()
    assert isinstance(frame, Info) and frame.payload == b"0123456789"


def test_a_payload_not_yet_followed_by_its_cr_is_left_to_next_frame():
    """Without the byte after it, raw and HEX output cannot be told apart by the bytes alone."""
    framer, first = framer_at_first(content(b"x") + content(b"abc")[:-2])
    assert framer.take_payload_run(URC, "content", every, first.payload) == b"x"
    assert framer.buffered > 0


def test_hex_output_is_left_to_next_frame_which_decodes_it():
    hexed = b'\r\n+MHTTPURC: "content",0,0,4,3,' + b"\x00\r\n".hex().encode() + b"\r\n"
    framer, first = framer_at_first(content(b"x") + hexed)
    assert framer.take_payload_run(URC, "content", every, first.payload) == b"x"
    frame = framer.next_frame()
    assert isinstance(frame, Info) and frame.payload == b"\x00\r\n"


def test_a_refused_frame_and_what_follows_stay_buffered():
    framer, first = framer_at_first(content(b"a") + content(b"b", httpid=1) + content(b"c"))
    assert framer.take_payload_run(URC, "content", lambda f, n: f[0] == b"0", first.payload) == b"a"
    assert [f.payload for f in framer.feed()] == [b"b", b"c"]


def test_a_length_above_payload_max_is_left_to_next_frame():
    too_long = b'\r\n+MHTTPURC: "content",0,0,0,%d,' % (DIALECT.payload_max + 1)
    framer, first = framer_at_first(content(b"a") + too_long + b"x" * 100)
    assert framer.take_payload_run(URC, "content", every, first.payload) == b"a"
    assert isinstance(framer.next_frame(), FramingError)


def test_a_prefix_next_frame_would_not_frame_is_not_taken():
    """More blank space before the colon than a prefix may have: next_frame reads it as a line."""
    odd = content(b"b").replace(b"+MHTTPURC:", b"+MHTTPURC" + b" " * 60 + b":")
    framer, first = framer_at_first(content(b"a") + odd)
    assert framer.take_payload_run(URC, "content", every, first.payload) == b"a"


def test_nothing_is_taken_inside_a_frame():
    framer = ResponseFramer(DIALECT, prompts=False)
    framer.receive_data(content(b"0123456789")[:-6])  # the payload is being read
    assert framer.next_frame() is NEED_DATA and framer.in_payload
    before = framer.buffered
    assert framer.take_payload_run(URC, "content", every, b"") == b"" and framer.buffered == before


# ---- any stream, any chunking: the same frames and payload bytes -------------------------------------

OTHERS = [b"\r\nRING\r\n", b"\r\n+CEREG: 1\r\n", b'\r\n+MHTTPURC: "ind",0\r\n', b"\r\nOK\r\n",
          b'\r\n+MHTTPURC: "header",0,200,17,HTTP/1.1 200 OK\r\n\r\n']


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    hex_digits = st.text("0123456789abcdefABCDEF", min_size=1, max_size=20).map(str.encode)
    hex_output = st.binary(min_size=1, max_size=20).map(
        lambda d: b'\r\n+MHTTPURC: "content",0,0,%d,%d,' % (len(d), len(d)) + d.hex().encode() + b"\r\n")
    parts = draw(st.lists(st.one_of(st.binary(min_size=1, max_size=40).map(content), hex_digits.map(content),
                                    hex_output, st.sampled_from(OTHERS)), min_size=1, max_size=12))
    return b"".join(parts)


def frames_of(stream: bytes, cuts: list[int], pump: bool) -> tuple[list[object], bytes]:
    """(the frames that are not content URCs, as (name, variant, payload); the content payloads joined)."""
    framer = ResponseFramer(DIALECT, prompts=False)
    others: list[object] = []
    body = b""
    start = 0
    for cut in sorted({c for c in cuts if 0 < c < len(stream)}) + [len(stream)]:
        framer.receive_data(stream[start:cut])
        start = cut
        while (frame := framer.next_frame()) is not NEED_DATA:
            if isinstance(frame, Info) and frame.variant == "content":
                body += framer.take_payload_run(URC, "content", every, frame.payload) if pump else frame.payload
            else:
                others.append((type(frame).__name__, getattr(frame, "name", None), getattr(frame, "payload", None)))
    return others, body


@given(stream=streams(), data=st.data())
def test_any_stream_in_any_chunking_frames_the_same_with_runs_taken(stream, data):
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=16), label="cuts")
    assert frames_of(stream, cuts, pump=True) == frames_of(stream, [], pump=False)


# ---- a running total (sum_len) in the prefix: each next prefix guessed, accept still asked a frame ----

@given(sizes=st.lists(st.sampled_from([1, 7, 1400]), min_size=1, max_size=30), total=st.sampled_from([0, 10**9]),
       data=st.data())
def test_content_urcs_counting_up_are_taken_as_a_run_with_every_frame_accepted(sizes, total, data):
    """A response as a module writes it: sum_len grows by each cur_len (OneMO 3.10), frames of one
    size in a row, the last shorter.  Cut anywhere, the pump gives the body next_frame gives, and
    every frame is seen once -- by next_frame or by `accept`, with the fields as they came."""
    payloads = [bytes([65 + i % 26]) * size for i, size in enumerate(sizes)]
    sums = [sum(sizes[:i + 1]) for i in range(len(sizes))]
    stream = b"".join(content(p, httpid=3, done=s - len(p), total=total) for p, s in zip(payloads, sums))
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(stream) - 1), max_size=8), label="cuts")))
    framer = ResponseFramer(DIALECT, prompts=False)
    body, seen = b"", []

    def record(fields: tuple[bytes, ...], length: int) -> bool:
        assert fields[:2] == (b"3", b"%d" % total) and int(fields[3]) == length
        seen.append(int(fields[2]))
        return True

    for start, stop in zip([0, *cuts], [*cuts, len(stream)]):
        framer.receive_data(stream[start:stop])
        while (frame := framer.next_frame()) is not NEED_DATA:
            assert isinstance(frame, Info) and frame.variant == "content"
            seen.append(frame.int("sum_len"))
            body += framer.take_payload_run(URC, "content", record, frame.payload)
    assert body == b"".join(payloads)
    assert seen == sums


def test_a_refused_counted_frame_is_asked_once_and_left_for_next_frame():
    stream = b"".join(content(b"x" * 5, done=5 * i) for i in range(4))
    framer, first = framer_at_first(stream)
    asked: list[bytes] = []

    def two_more(fields: tuple[bytes, ...], length: int) -> bool:
        asked.append(fields[2])
        return len(asked) <= 2

    assert framer.take_payload_run(URC, "content", two_more, first.payload) == b"x" * 15
    assert asked == [b"10", b"15", b"20"]
    frame = framer.next_frame()
    assert isinstance(frame, Info) and frame.int("sum_len") == 20 and frame.payload == b"x" * 5


@given(size=st.sampled_from([7, 1400]), count=st.integers(1, 12), last=st.integers(1, 6),
       left=st.one_of(st.none(), st.integers(0, 20000)), data=st.data())
def test_a_budget_takes_a_counted_run_as_asking_each_frame_would(size, count, last, left, data):
    """RunBudget is asked once for a whole counted run (its frames' count): the body taken, the
    budget left and the frame next_frame gives after it are those of an accept asked a frame --
    a module's frames of one size in a row, the last shorter, cut anywhere."""
    sizes = [size] * count + [last]
    payloads = [bytes([65 + i % 26]) * size for i, size in enumerate(sizes)]
    sums = [sum(sizes[:i + 1]) for i in range(len(sizes))]
    stream = b"".join(content(p, done=s - len(p)) for p, s in zip(payloads, sums)) + b"\r\n+CEREG: 1\r\n"
    cut = data.draw(st.integers(len(content(payloads[0])), len(stream)), label="cut")

    def run(accept) -> tuple[bytes, object]:
        framer, first = framer_at_first(stream[:cut])
        taken = framer.take_payload_run(URC, "content", accept, first.payload)
        after = framer.next_frame()
        return taken, (type(after).__name__, getattr(after, "payload", None), getattr(after, "name", None))

    budget, asked = RunBudget(left), PieceByPiece(left)
    assert run(budget) == run(asked)
    assert budget.left == asked.left

