"""A small translated GET through the bridge against the module alone, interleaved.

For each direction, one emulator of the module's dialect (this checkout's) behind a pty and one
loopback HTTP server (bridge.app.demo.server), each a process of its own.  Blocks of --gets GETs of
--size bytes (SHA-256 checked) are made alternately:

- through `atbridge bridge` (one per checkout given with --tree, a fresh process per block): the
  firmware speaks the host dialect, with the whole command sequence its firmware sends;
- by the module alone: the firmware of the module's own dialect, straight on the emulator's pty.

The command sequences (one GET each, as the firmware corpus's drivers send them):
  onemo:  AT+MHTTPCREATE="http://127.0.0.1:<port>", AT+MHTTPREQUEST=<id>,1,0,"<path>", the
          +MHTTPURC "header" and "content" reports, AT+MHTTPDEL=<id>;
  neoway: AT+HTTPPARA=url,<host/path>, AT+HTTPPARA=port,<port>, AT+HTTPSETUP, AT+HTTPACTION=0,
          +HTTPRECV (recvmode 0: the raw response), +HTTPCLOSED;
each block starts with ATE0 (and AT+XIIC=1, AT+HTTPPARA=recvmode,0 for neoway) and one GET that
is not timed.  Printed per path: the median GET of each block (min/median/max over blocks), the
ratio to the module alone in the same block pair, and CPU time per GET of every process (the
bridge, the emulator, the HTTP server, the firmware script), from the scheduler's nanosecond
count (/proc/PID/task/*/schedstat).
Run: python benchmarks/bench_get.py [--tree before=/tmp/before] [--host-dialect onemo|neoway|both]
     [--blocks 7] [--gets 20] [--size 100]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).parent))
from bench_bridge import _spawn, _stop  # noqa: E402
from bench_io import _mmm  # noqa: E402
from bench_latency import _bridge_from, cpu_seconds, machine, stop_bridge  # noqa: E402

from bridge.app.demo.firmware import HostEnd  # noqa: E402
from bridge.app.demo.server import demo_bytes  # noqa: E402
from bridge.at import ResponseFramer  # noqa: E402
from bridge.at.dialect import load  # noqa: E402
from bridge.at.frames import HttpBody, Info  # noqa: E402
from bridge.io.ports import open_host_end  # noqa: E402

SEED = 5
SERVER = ("import sys\nfrom bridge.app.demo.server import DemoServer\nserver = DemoServer()\n"
          "print(server.http_port, flush=True)\nsys.stdin.read()\nserver.close()\n")
Get = Callable[[HostEnd, int, int], bool]


def onemo_get(firmware: HostEnd, port: int, size: int) -> bool:
    """One GET as OneMO firmware sends it; whether the body arrived intact."""
    answer = firmware.transact(f'AT+MHTTPCREATE="http://127.0.0.1:{port}"')
    httpid = int(answer.split(b"+MHTTPCREATE:")[1].split(b"\r\n")[0])
    firmware.transact(f'AT+MHTTPREQUEST={httpid},1,0,"/data/{size}?seed={SEED}"')
    framer, body = ResponseFramer(load("onemo"), prompts=False), bytearray()
    done = lambda f: isinstance(f, Info) and f.variant == "content" and f.int("sum_len") >= f.int("content_len")  # noqa: E731
    for frame in firmware.frames_until(framer, done):
        if isinstance(frame, Info) and frame.variant == "content":
            body += frame.payload or b""
    firmware.transact(f"AT+MHTTPDEL={httpid}")
    return bytes(body) == demo_bytes(size, SEED)


def neoway_get(firmware: HostEnd, port: int, size: int) -> bool:
    """One GET as Neoway (N58) firmware sends it in recvmode 0; whether the body arrived intact."""
    firmware.transact(f"AT+HTTPPARA=url,127.0.0.1/data/{size}?seed={SEED}")
    firmware.transact(f"AT+HTTPPARA=port,{port}")
    firmware.transact("AT+HTTPSETUP", timeout=30)
    firmware.command("AT+HTTPACTION=0")
    framer, body = ResponseFramer(load("neoway"), prompts=False), bytearray()
    for frame in firmware.frames_until(framer, lambda f: isinstance(f, Info) and f.name == "+HTTPCLOSED"):
        if isinstance(frame, HttpBody):
            body += frame.data
    firmware.forget()
    return bytes(body) == demo_bytes(size, SEED)


GETS: dict[str, Get] = {"onemo": onemo_get, "neoway": neoway_get}


def prepare(firmware: HostEnd, dialect: str) -> None:
    """What the firmware sends once before its requests."""
    if dialect == "neoway":
        firmware.transact("AT+XIIC=1")
        firmware.transact("AT+HTTPPARA=recvmode,0")  # a bridge's host side may have left the module in 1


def _firmware(link: Path, dialect: str) -> HostEnd:
    firmware = HostEnd(open_host_end(str(link)))
    firmware.transact("ATE0")
    prepare(firmware, dialect)
    return firmware


def _block(kind: str, trees: dict, work: Path, module_link: Path, host: str, module: str, port: int, size: int,
           gets: int, others: dict[str, int]) -> tuple[float, bool, dict[str, float]]:
    """(median seconds per GET, all bodies intact, CPU seconds per GET by process)."""
    bridge = None
    if kind == "module":
        link, dialect = module_link, module
    else:
        link, dialect = work / f"{kind}.pty", host
        bridge = _bridge_from(trees[kind], link, module_link, host, module)
    pids = dict(others, **({"bridge": bridge.pid} if bridge else {}), firmware=os.getpid())
    firmware = _firmware(link, dialect)
    get = GETS[dialect]
    try:
        intact = get(firmware, port, size)  # the first of the block: start-up of instances and links
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        times = []
        for _ in range(gets):
            start = time.perf_counter()
            intact &= get(firmware, port, size)
            times.append(time.perf_counter() - start)
        cpu = {name: (cpu_seconds(pid) - before[name]) / gets for name, pid in pids.items()}
    finally:
        firmware.port.close()
        if bridge is not None:
            stop_bridge(bridge)
    return statistics.median(times), intact, cpu


def direction(host: str, trees: dict, blocks: int, gets: int, size: int) -> None:
    module = "onemo" if host == "neoway" else "neoway"
    kinds = [*trees, "module"]
    print(f"{host} firmware -> bridge -> {module} module against {module} firmware -> the module alone: "
          f"{blocks} blocks of {gets} GETs of {size} bytes; {machine()}", flush=True)
    seconds: dict = {k: [] for k in kinds}
    cpu: dict = {k: {} for k in kinds}
    intact = {k: True for k in kinds}
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    with tempfile.TemporaryDirectory(prefix="atbridge-get-") as tmp:
        work = Path(tmp)
        module_link = work / "module.pty"
        emulator = _spawn(["emulate", module, "--port", f"pty:{module_link}"], module_link)
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            others = {"emulator": emulator.pid, "server": server.pid}
            for i in range(blocks):
                for kind in kinds[i % len(kinds):] + kinds[:i % len(kinds)]:
                    median, ok, per_get = _block(kind, trees, work, module_link, host, module, port, size, gets, others)
                    seconds[kind].append(median * 1e3)
                    intact[kind] &= ok
                    for name, value in per_get.items():
                        cpu[kind].setdefault(name, []).append(value * 1e6)
        finally:
            _stop(emulator)
            if server.stdin is not None:
                server.stdin.close()
            server.wait(10)
    for kind in kinds:
        ratio = "" if kind == "module" else \
            f", ratio to the module alone {_mmm([b / m for b, m in zip(seconds[kind], seconds['module'])])}"
        processes = ", ".join(f"{name} {_mmm(values, '{:.0f}')}" for name, values in cpu[kind].items())
        print(f"  {kind:8s} GET {_mmm(seconds[kind])} ms{ratio}; bodies {'all intact' if intact[kind] else 'DIFFERENT'}",
              flush=True)
        print(f"           CPU us per GET: {processes} (min/median/max over blocks)", flush=True)
    print(f"  after: {machine()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], help="NAME=PATH of a checkout (default: bridge=.)")
    parser.add_argument("--host-dialect", default="both", choices=("neoway", "onemo", "both"))
    parser.add_argument("--blocks", type=int, default=7)
    parser.add_argument("--gets", type=int, default=20)
    parser.add_argument("--size", type=int, default=100)
    args = parser.parse_args()
    trees = {name: Path(path).resolve() for name, path in (t.split("=", 1) for t in args.tree or ["bridge=."])}
    print(f"bench_get {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}", flush=True)
    for host in (("onemo", "neoway") if args.host_dialect == "both" else (args.host_dialect,)):
        direction(host, trees, args.blocks, args.gets, args.size)


if __name__ == "__main__":
    main()
