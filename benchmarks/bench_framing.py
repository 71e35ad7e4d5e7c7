"""Framer throughput.  Prints MB/s (min / median / max of several runs) for short command/response
traffic, for length-framed content URCs of 1 KB to 64 KB and for a raw HTTP response, fed the way
a serial port delivers them (4 KiB reads).  Every run checks what came out, not only how fast:
the frame count, and the SHA-256 of the payload bytes against the bytes that went in.

Target (issue 2): content URCs at >= 30 MB/s (median), 100x a 3 Mbaud UART (~0.3 MB/s).
Run: python benchmarks/bench_framing.py [--repeat N]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time
from typing import Callable

from bridge.at.frames import Frame, HttpBody, Info
from bridge.at import framer_for

READ = 4096
UART_3MBAUD = 3_000_000 / 10 / 1e6  # MB/s: 10 bits a byte on the wire


def payload_of(frame: Frame) -> bytes:
    if isinstance(frame, Info):
        return frame.payload or b""
    if isinstance(frame, HttpBody):
        return frame.data
    return b""


def _run(dialect: str, source: str, stream: bytes) -> tuple[float, int, str, int]:
    """One pass: (MB/s, frames, SHA-256 of the payload bytes, payload byte count)."""
    framer = framer_for(dialect, source)
    digest, count, size = hashlib.sha256(), 0, 0
    start = time.perf_counter()
    for offset in range(0, len(stream), READ):
        for frame in framer.feed(stream[offset:offset + READ]):
            count += 1
            data = payload_of(frame)
            digest.update(data)
            size += len(data)
    elapsed = time.perf_counter() - start
    return len(stream) / elapsed / 1e6, count, digest.hexdigest(), size


def measure(dialect: str, source: str, stream: bytes, repeat: int,
            check: Callable[[int, str, int], None]) -> tuple[float, float, float]:
    """min, median and max MB/s of `repeat` passes; `check(frames, sha256, payload bytes)` each pass."""
    rates = []
    for _ in range(repeat):
        rate, frames, sha, size = _run(dialect, source, stream)
        check(frames, sha, size)
        rates.append(rate)
    return min(rates), statistics.median(rates), max(rates)


def _expect(frames: int, payload: bytes = b"") -> Callable[[int, str, int], None]:
    want = hashlib.sha256(payload).hexdigest()

    def check(got_frames: int, sha: str, size: int) -> None:
        assert got_frames == frames, (got_frames, frames)
        assert size == len(payload) and sha == want, f"payload {size} bytes sha256 {sha[:16]}, expected {len(payload)} {want[:16]}"
    return check


def _line(label: str, rates: tuple[float, float, float], extra: str = "") -> None:
    low, mid, high = rates
    print(f"{label:<28} min {low:7.1f}  median {mid:7.1f}  max {high:7.1f} MB/s  {extra}")


def short_traffic(repeat: int) -> None:
    units = 20000
    host = (b'AT+CSQ\rAT+CEREG?\rAT+MHTTPREQUEST=0,1,0,"/get"\rAT+MHTTPCFG="header",0,"Connection: close"\r') * units
    module = (b'\r\n+CSQ: 20,99\r\n\r\nOK\r\n\r\n+CEREG: 0,1\r\n\r\nOK\r\n\r\n+MHTTPURC: "err",0,2\r\n\r\n+CME ERROR: 653\r\n') * units
    for source, stream, per_unit in (("host", host, 4), ("module", module, 6)):
        rates = measure("onemo", source, stream, repeat, _expect(per_unit * units))
        frames_per_s = per_unit * units / (len(stream) / rates[1] / 1e6)
        _line(f"short traffic onemo {source}", rates, f"{frames_per_s / 1e3:6.0f} k frames/s (median)")


def content_urcs(repeat: int) -> None:
    worst = None
    for size in (1024, 4096, 16384, 65536):
        count = max(1, (32 << 20) // size)
        bodies = [os.urandom(size) for _ in range(min(count, 64))]
        body_at = [bodies[i % len(bodies)] for i in range(count)]
        payload = b"".join(body_at)
        onemo = b"".join(b'\r\n+MHTTPURC: "content",0,%d,%d,%d,' % (size * count, size * (i + 1), size) + body + b"\r\n"
                         for i, body in enumerate(body_at))
        neoway = b"".join(b"\r\n+HTTPRECV: %d," % size + body + b"\r\n" for body in body_at)
        for dialect, stream in (("onemo", onemo), ("neoway", neoway)):
            rates = measure(dialect, "module", stream, repeat, _expect(count, payload))
            worst = rates[1] if worst is None else min(worst, rates[1])
            _line(f"content URCs {dialect:<6} {size // 1024:>3} KB", rates,
                  f"({rates[1] / UART_3MBAUD:5.0f}x a 3 Mbaud UART; {len(payload) >> 20} MB payload SHA-256 checked)")
    print(f"slowest content-URC median: {worst:.1f} MB/s -> target 30 MB/s {'MET' if worst >= 30 else 'NOT MET'}")


def raw_http(repeat: int) -> None:
    body = os.urandom(8 << 20)
    stream = (b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
              + b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n")
    blocks = -(-len(body) // 16384)
    frames = 1 + 1 + blocks + 1 + 1  # +HTTPRECV, head, body blocks, end, +HTTPCLOSED
    rates = measure("neoway", "module", stream, repeat, _expect(frames, body))
    _line("raw HTTP body neoway 8 MB", rates, "(recvmode 0, h11 framing; body SHA-256 checked)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="framer throughput")
    parser.add_argument("--repeat", type=int, default=5, help="passes per case (min/median/max over them)")
    args = parser.parse_args()
    short_traffic(args.repeat)
    content_urcs(args.repeat)
    raw_http(args.repeat)
