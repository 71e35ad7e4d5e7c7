"""Framer throughput.  Prints MB/s for short command/response traffic and for length-framed
content URCs of 1 KB to 64 KB, fed the way a serial port delivers them (4 KiB reads).

Target (issue 2): content URCs at >= 30 MB/s, 100x a 3 Mbaud UART (~0.3 MB/s).
Run: python benchmarks/bench_framing.py
"""
from __future__ import annotations

import os
import time

from bridge.framing import framer_for

READ = 4096
UART_3MBAUD = 3_000_000 / 10 / 1e6  # MB/s: 10 bits a byte on the wire


def _throughput(dialect: str, source: str, stream: bytes, repeat: int = 3) -> tuple[float, int]:
    best = 0.0
    frames = 0
    for _ in range(repeat):
        framer = framer_for(dialect, source)
        count = 0
        start = time.perf_counter()
        for offset in range(0, len(stream), READ):
            count += len(framer.feed(stream[offset:offset + READ]))
        elapsed = time.perf_counter() - start
        best = max(best, len(stream) / elapsed / 1e6)
        frames = count
    return best, frames


def short_traffic() -> None:
    host = (b'AT+CSQ\rAT+CEREG?\rAT+MHTTPREQUEST=0,1,0,"/get"\rAT+MHTTPCFG="header",0,"Connection: close"\r') * 20000
    module = (b'\r\n+CSQ: 20,99\r\n\r\nOK\r\n\r\n+CEREG: 0,1\r\n\r\nOK\r\n\r\n+MHTTPURC: "err",0,2\r\n\r\n+CME ERROR: 653\r\n') * 20000
    for source, stream in (("host", host), ("module", module)):
        rate, frames = _throughput("onemo", source, stream)
        print(f"short traffic   onemo  {source:<6} {rate:8.1f} MB/s  {frames / (len(stream) / rate / 1e6) / 1e3:8.0f} k frames/s")


def content_urcs() -> None:
    worst = None
    for size in (1024, 4096, 16384, 65536):
        body = os.urandom(size)
        count = max(1, (32 << 20) // size)
        onemo = b"".join(b'\r\n+MHTTPURC: "content",0,%d,%d,%d,' % (size * count, size * (i + 1), size) + body + b"\r\n" for i in range(count))
        neoway = (b"\r\n+HTTPRECV: %d," % size + body + b"\r\n") * count
        for dialect, stream in (("onemo", onemo), ("neoway", neoway)):
            rate, frames = _throughput(dialect, "module", stream)
            assert frames == count, (dialect, frames, count)
            worst = rate if worst is None else min(worst, rate)
            print(f"content URCs    {dialect:<6} {size // 1024:>3} KB  {rate:8.1f} MB/s  ({rate / UART_3MBAUD:6.0f}x a 3 Mbaud UART)")
    print(f"slowest content-URC rate: {worst:.1f} MB/s -> target 30 MB/s {'MET' if worst >= 30 else 'NOT MET'}")


def raw_http() -> None:
    body = os.urandom(8 << 20)
    stream = b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body + b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n"
    rate, _ = _throughput("neoway", "module", stream)
    print(f"raw HTTP body   neoway 8 MB   {rate:8.1f} MB/s  (recvmode 0, h11 framing)")


if __name__ == "__main__":
    short_traffic()
    content_urcs()
    raw_http()
