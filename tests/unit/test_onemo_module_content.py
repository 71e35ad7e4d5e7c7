"""The OneMO module side's output of a large BodyChunk: "content" URCs of one network packet each
(<frag_size> 0; dialect-facts: about 1.4 KB, onemo.yaml packet_size), in the manual's format
(3.10: +MHTTPURC: "content",<httpid>,<content_len>,<sum_len>,<cur_len>,<data> CR LF, HEX output
two digits a byte), written at once -- one write for the whole chunk unless <interval> paces them."""
from __future__ import annotations

import re
from typing import Callable

from bridge.at.dialect import load
from bridge.model import ErrorKind, Method, Request, ResponseHead
from bridge.onemo.encoding import ASCII, HEX
from bridge.onemo.module.sinks import HostSink
from bridge.onemo.module.transfer import Transfer

PACKET = load("onemo").model(None).get("packet_size")
CONTENT = re.compile(rb'\r\n\+MHTTPURC: "content",(\d+),(\d+),(\d+),(\d+),')
DATA = bytes(range(256)) * 400 + b'\r\n+MHTTPURC: "content",1,2,3,4,x\r\n'


class RecordingIo:
    """What a transfer writes, each write on its own; timers kept to be fired by hand."""

    backlog_max = 1 << 20

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.timers: dict[str, tuple[float, Callable[[float], None]]] = {}

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def line(self, text) -> None:
        self.writes.append(b"\r\n" + (text.encode() if isinstance(text, str) else text) + b"\r\n")

    def set_timer(self, name: str, deadline: float, callback: Callable[[float], None]) -> None:
        self.timers[name] = (deadline, callback)

    def cancel_timer(self, name: str) -> None:
        self.timers.pop(name, None)

    def launch(self, transfer) -> None:
        pass

    def halt(self, transfer) -> None:
        pass

    def finished(self, transfer, ok: bool) -> None:
        pass

    def async_code(self, kind: ErrorKind) -> str:
        return "1"


def sink_after_head(output_format: int = ASCII, interval_ms: int = 0, length: int = len(DATA)) -> tuple[HostSink, RecordingIo]:
    io = RecordingIo()
    transfer = Transfer(io, 1, Request(Method.GET, "http://192.0.2.1/x"),
                        lambda t: HostSink(t, output_format, 0, interval_ms, PACKET))
    transfer.sink.head(ResponseHead(200, "OK", b"HTTP/1.1 200 OK\r\n", (("Content-Length", str(length)),)), 0.0)
    io.writes.clear()
    return transfer.sink, io  # type: ignore[return-value]


def urcs(out: bytes, hexed: bool = False) -> list[tuple[int, int, int, int, bytes]]:
    """(httpid, content_len, sum_len, cur_len, data) of each content URC, checking each ends in CR LF
    and that nothing lies between them."""
    found, at = [], 0
    while at < len(out):
        match = CONTENT.match(out, at)
        assert match is not None, out[at:at + 80]
        httpid, content_len, sum_len, cur_len = (int(g) for g in match.groups())
        size = cur_len * 2 if hexed else cur_len
        data = out[match.end():match.end() + size]
        assert out[match.end() + size:match.end() + size + 2] == b"\r\n"
        found.append((httpid, content_len, sum_len, cur_len, bytes.fromhex(data.decode()) if hexed else data))
        at = match.end() + size + 2
    return found


def test_a_large_body_chunk_is_one_write_of_packet_sized_urcs():
    sink, io = sink_after_head()
    sink.chunk(DATA[:60000], 0.0)
    sink.chunk(DATA[60000:], 0.0)
    assert len(io.writes) == 2  # one each
    found = urcs(io.writes[0]) + urcs(io.writes[1])
    assert b"".join(f[4] for f in found) == DATA
    assert all(f[:2] == (1, len(DATA)) and f[3] == len(f[4]) <= PACKET for f in found)
    assert [f[2] for f in found] == [sum(f[3] for f in found[:i + 1]) for i in range(len(found))]
    sizes = [f[3] for f in found]
    assert sizes.count(PACKET) == len(sizes) - 2  # full packets but the end of each chunk


def test_hex_output_has_two_digits_a_byte_and_counts_bytes():
    sink, io = sink_after_head(HEX, length=5000)
    sink.chunk(DATA[:5000], 0.0)
    assert len(io.writes) == 1
    found = urcs(io.writes[0], hexed=True)
    assert b"".join(f[4] for f in found) == DATA[:5000] and [f[3] for f in found] == [PACKET] * 3 + [5000 - 3 * PACKET]
    assert re.fullmatch(rb"[0-9A-F]*", io.writes[0].split(b",")[5][:2 * PACKET])


def test_paced_urcs_go_out_one_at_a_time():
    sink, io = sink_after_head(interval_ms=20, length=3 * PACKET)
    sink.chunk(DATA[:3 * PACKET], 1.0)
    assert [urcs(w)[0][2] for w in io.writes] == [PACKET]  # the first now, the rest <interval> apart
    for step in (1, 2):
        deadline, fire = io.timers.pop(next(iter(io.timers)))
        assert deadline == 1.0 + 0.02 * step
        fire(deadline)
    assert [urcs(w)[0][2] for w in io.writes] == [PACKET, 2 * PACKET, 3 * PACKET]
    assert b"".join(urcs(w)[0][4] for w in io.writes) == DATA[:3 * PACKET]
