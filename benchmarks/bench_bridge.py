"""The bridge's cost, in one run, for each direction:

1. round-trip time of a simple command (AT+CSQ) through the bridge, against a plain byte
   pass-through between the same kind of ports (ptys), measured in the same run;
   goal (issue 4): at most 200 us of added median latency;
2. body throughput through the bridge, MB/s, read by the firmware end;
3. the bridge process's memory before and during a 100 MB download (/proc VmRSS, VmHWM): the
   growth must stay bounded, whatever the size.

The emulated module and the bridge run as `atbridge` subprocesses, as a user runs them; the
HTTP server and the scripted firmware run here.
Run: python benchmarks/bench_bridge.py [--size-mb 100] [--rounds 400]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import signal
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

import h11

from bridge.at.dialect import load
from bridge.at.frames import HttpBody, Info
from bridge.at import ResponseFramer
from bridge.at.framer import NEED_DATA
from bridge.at.payloads import RunBudget
from bridge.app.demo.firmware import HostEnd
from bridge.app.demo.server import DemoServer, stream_sha256
from bridge.io.ports import PtyPort, open_host_end

ATBRIDGE = [sys.executable, "-m", "bridge.app.cli"]


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 20.0) -> None:
    """Until `process` has made its pty link (reads its stderr banner; no polling sleeps)."""
    deadline = time.monotonic() + timeout
    assert process.stderr is not None
    while not path.exists():
        line = process.stderr.readline()
        if not line or time.monotonic() > deadline:
            raise RuntimeError(f"{path} did not appear: {line!r}")


def _spawn(args: list[str], link: Path, profile: Optional[Path] = None) -> subprocess.Popen:
    """`atbridge ARGS` until it made `link`; under cProfile (output to `profile`) if given."""
    command = ATBRIDGE if profile is None else [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "bridge.app.cli"]
    process = subprocess.Popen(command + args, stderr=subprocess.PIPE, text=True)
    _wait_for(link, process)
    return process


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=10)


class Passthrough:
    """The baseline: one thread copying bytes between the two ports as soon as a selector says
    they are readable -- the least any bridge has to do."""

    def __init__(self, host_link: Path, module_path: Path):
        self.host = PtyPort(str(host_link))
        self.module = open_host_end(str(module_path), timeout=None)
        self._stop_r, self._stop_w = os.pipe()
        threading.Thread(target=self._copy, daemon=True).start()

    def _copy(self) -> None:
        pairs = {self.host.master: self.module.fileno(), self.module.fileno(): self.host.master}
        while True:
            ready, _, _ = select.select([*pairs, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            for fd in ready:
                os.write(pairs[fd], os.read(fd, 65536))

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self.host.close()
        self.module.close()


def _memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, KiB."""
    with open(f"/proc/{pid}/status") as status:
        return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in status) if k in ("VmRSS", "VmHWM")}


def round_trips(firmware: HostEnd, rounds: int) -> list[float]:
    firmware.transact("AT+CSQ")  # warm up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        firmware.transact("AT+CSQ")
        times.append(time.perf_counter() - start)
    return times


def passthrough_round_trips(host_link: Path, module_link: Path, rounds: int) -> list[float]:
    baseline = Passthrough(host_link, module_link)
    firmware = HostEnd(open_host_end(str(host_link)))
    try:
        return round_trips(firmware, rounds)
    finally:
        firmware.port.close()
        baseline.close()


class _RawResponse:
    """The body of a raw HTTP response fed in pieces (Neoway recvmode 1), into `digest`."""

    def __init__(self, digest: "hashlib._Hash"):
        self.digest = digest
        self.http = h11.Connection(h11.CLIENT)
        self.http.send(h11.Request(method="GET", target="/", headers=[("Host", "bench")]))
        self.http.send(h11.EndOfMessage())

    def feed(self, data: bytes) -> None:
        if not data:
            return  # h11 takes b"" for the end of the connection
        self.http.receive_data(data)
        while (event := self.http.next_event()) not in (h11.NEED_DATA, h11.PAUSED):
            if isinstance(event, h11.Data):
                self.digest.update(event.data)


def _hashed(digest, data: bytes) -> int:
    digest.update(data)
    return len(data)


def download(firmware: HostEnd, host_dialect: str, server: DemoServer, size: int, recvmode: int = 0) -> tuple[float, bool]:
    """Seconds for a GET of `size` bytes through the bridge, and whether the SHA-256 matched.
    `recvmode`: how Neoway firmware takes the body (0 raw HTTP, 1 +HTTPRECV pieces).  Body frames
    that follow one in the same read are cut as a run (ResponseFramer.take_payload_run, the host
    sides' pump), so that the firmware's own parsing weighs little on either dialect."""
    dialect = load(host_dialect)
    digest = hashlib.sha256()
    pieces = _RawResponse(digest)
    framer = ResponseFramer(dialect, prompts=False)
    path = f"/stream/{size}?seed=9"
    start = time.perf_counter()
    if host_dialect == "neoway":
        firmware.transact("AT+XIIC=1")
        firmware.transact(f"AT+HTTPPARA=recvmode,{recvmode}")  # always said: a run before may have left the other
        firmware.transact(f"AT+HTTPPARA=url,127.0.0.1{path}")
        firmware.transact(f"AT+HTTPPARA=port,{server.http_port}")
        firmware.transact("AT+HTTPSETUP", timeout=30)
        firmware.command("AT+HTTPACTION=0")
    else:
        answer = firmware.transact(f'AT+MHTTPCREATE="http://127.0.0.1:{server.http_port}"')
        httpid = int(answer.split(b"+MHTTPCREATE:")[1].split(b"\r\n")[0])
        firmware.command(f'AT+MHTTPREQUEST={httpid},1,0,"{path}"')
    onemo = host_dialect == "onemo"
    every = RunBudget(None)  # takes every frame of a run, asked once a run (OneMO's sum_len fields still checked)
    received = 0  # OneMO: the body bytes so far
    deadline = time.monotonic() + 120
    done = streaming = False
    while not done:
        framer.receive_data(firmware.read_some(max(0.0, deadline - time.monotonic())))
        if streaming and onemo:  # a read that starts with whole content URCs
            received += _hashed(digest, framer.take_payload_run("+MHTTPURC", "content", every))
            done = received >= size
        elif streaming:
            pieces.feed(framer.take_payload_run("+HTTPRECV", None, every))
        while not done and (frame := framer.next_frame()) is not NEED_DATA:
            if isinstance(frame, HttpBody):
                digest.update(frame.data)
            elif isinstance(frame, Info) and frame.payload and frame.name == "+HTTPRECV":
                pieces.feed(frame.payload)  # recvmode 1: the raw response, head and all, in pieces
                streaming = True
                pieces.feed(framer.take_payload_run("+HTTPRECV", None, every))
            elif isinstance(frame, Info) and frame.variant == "content" and onemo:
                streaming = True
                received += _hashed(digest, framer.take_payload_run("+MHTTPURC", "content", every, frame.payload or b""))
                done = received >= size
            elif isinstance(frame, Info) and frame.name == "+HTTPCLOSED":
                done = True
    seconds = time.perf_counter() - start
    if host_dialect == "onemo":
        firmware.transact(f"AT+MHTTPDEL={httpid}")  # as firmware does: the module has few instances
    return seconds, digest.hexdigest() == stream_sha256(size, 9)


def direction(host_dialect: str, module_dialect: str, server: DemoServer, size: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="atbridge-bench-") as tmp:
        work = Path(tmp)
        module_link, host_link = work / "module.pty", work / "host.pty"
        emulator = _spawn(["emulate", module_dialect, "--port", f"pty:{module_link}"], module_link)
        try:
            plain = passthrough_round_trips(host_link, module_link, rounds // 2)
            bridge = _spawn(["bridge", "--host", f"pty:{host_link}", "--host-dialect", host_dialect,
                             "--module", str(module_link), "--module-dialect", module_dialect], host_link)
            firmware = HostEnd(open_host_end(str(host_link)))
            firmware.transact("ATE0")
            bridged = round_trips(firmware, rounds)
            before = _memory_kib(bridge.pid)["VmRSS"]
            seconds, intact = download(firmware, host_dialect, server, size)
            peak = _memory_kib(bridge.pid)["VmHWM"]
            firmware.port.close()
            _stop(bridge)
            # Half the baseline before the bridge runs, half after: drift of the machine's speed
            # during the run weighs on both sides alike.
            plain += passthrough_round_trips(host_link, module_link, rounds - rounds // 2)
        finally:
            _stop(emulator)
    added = (statistics.median(bridged) - statistics.median(plain)) * 1e6
    print(f"{host_dialect} firmware -> bridge -> {module_dialect} module")
    print(f"  AT+CSQ round trip, median of {rounds}: pass-through {statistics.median(plain) * 1e6:7.0f} us, "
          f"bridge {statistics.median(bridged) * 1e6:7.0f} us, added {added:6.0f} us "
          f"({'within' if added <= 200 else 'OVER'} the 200 us goal)")
    print(f"  body throughput: {size / seconds / 1e6:6.1f} MB/s for {size / 1e6:.0f} MB, SHA-256 {'identical' if intact else 'DIFFERENT'}")
    growth = (peak - before) / 1024
    print(f"  bridge process memory: {before / 1024:.1f} MiB before the download, peak {peak / 1024:.1f} MiB during it "
          f"({growth:+.1f} MiB for {size / 1e6:.0f} MB: {'bounded' if growth < 16 else 'NOT bounded'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    server = DemoServer()
    try:
        for host_dialect, module_dialect in (("neoway", "onemo"), ("onemo", "neoway")):
            direction(host_dialect, module_dialect, server, args.size_mb * 1_000_000, args.rounds)
    finally:
        server.close()


if __name__ == "__main__":
    main()
