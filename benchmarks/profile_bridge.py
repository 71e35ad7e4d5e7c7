"""Where the bridge's CPU goes: a bridged download (Neoway firmware -> OneMO module by default),
or with --commands N that many passed-through AT+CSQ round trips, or with --gets N that many
small GETs (benchmarks/bench_get.py's command sequence, 100 bytes), with the bridge process run
under cProfile; prints the top functions by own and by cumulative time, and the download's speed
(SHA-256 checked) or the round trips' median.
Run: python benchmarks/profile_bridge.py [--size-mb 100] [--host-dialect neoway] [--top 5]
     python benchmarks/profile_bridge.py --commands 2000 [--host-dialect onemo]
     python benchmarks/profile_bridge.py --gets 300 [--host-dialect onemo]
(PYTHONPATH=<another checkout> profiles that checkout's bridge the same way.)"""
from __future__ import annotations

import argparse
import io
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_bridge import _spawn, _stop, _wait_for, download, round_trips  # noqa: E402

from bridge.app.demo.firmware import HostEnd  # noqa: E402
from bridge.app.demo.server import DemoServer  # noqa: E402
from bridge.io.ports import open_host_end  # noqa: E402


def _profiled(args: list[str], link: Path, profile: Path) -> subprocess.Popen:
    """`atbridge ARGS` with its I/O loop under cProfile (benchmarks/loop_profiled.py)."""
    env = dict(os.environ, ATBRIDGE_PROFILE=str(profile))
    process = subprocess.Popen([sys.executable, str(Path(__file__).parent / "loop_profiled.py"), *args],
                               stderr=subprocess.PIPE, text=True, env=env)
    _wait_for(link, process)
    return process


def small_gets(firmware: HostEnd, dialect: str, port: int, count: int) -> list[float]:
    """Seconds of each of `count` GETs of 100 bytes (bench_get's sequence; one more first, untimed)."""
    from bench_get import GETS, prepare

    prepare(firmware, dialect)
    get = GETS[dialect]
    get(firmware, port, 100)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        if not get(firmware, port, 100):
            raise AssertionError("a GET's body arrived changed")
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=100)
    parser.add_argument("--host-dialect", default="neoway", choices=("neoway", "onemo"))
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--commands", type=int, default=0, help="profile this many AT+CSQ round trips instead")
    parser.add_argument("--gets", type=int, default=0, help="profile this many GETs of 100 bytes instead")
    parser.add_argument("--save", type=Path, help="keep the raw profile (pstats) here")
    args = parser.parse_args()
    host = args.host_dialect
    module = "onemo" if host == "neoway" else "neoway"
    size = int(args.size_mb * 1_000_000)
    server = DemoServer()
    with tempfile.TemporaryDirectory(prefix="atbridge-profile-") as tmp:
        work = Path(tmp)
        module_link, host_link, profile = work / "module.pty", work / "host.pty", work / "bridge.prof"
        emulator = _spawn(["emulate", module, "--port", f"pty:{module_link}"], module_link)
        try:
            bridge = _profiled(["bridge", "--host", f"pty:{host_link}", "--host-dialect", host, "--module",
                                str(module_link), "--module-dialect", module], host_link, profile)
            firmware = HostEnd(open_host_end(str(host_link)))
            firmware.transact("ATE0")
            if args.commands:
                times = round_trips(firmware, args.commands)
            elif args.gets:
                times = small_gets(firmware, host, server.http_port, args.gets)
            else:
                seconds, intact = download(firmware, host, server, size)
            firmware.port.close()
            _stop(bridge)
        finally:
            _stop(emulator)
            server.close()
        if args.save is not None:
            args.save.write_bytes(profile.read_bytes())
        total = pstats.Stats(str(profile)).total_tt
        if args.commands or args.gets:
            what, count = ("AT+CSQ round trips", args.commands) if args.commands else ("GETs of 100 bytes", args.gets)
            print(f"{host} firmware -> bridge (loop under cProfile) -> {module} module: {count} {what}, "
                  f"median {statistics.median(times) * 1e6:.0f} us; the loop's CPU {total / count * 1e6:.0f} us "
                  f"each (cProfile's overhead included)")
        else:
            print(f"{host} firmware -> bridge (loop under cProfile) -> {module} module: {size / 1e6:.0f} MB in {seconds:.1f} s, "
                  f"{size / seconds / 1e6:.1f} MB/s, SHA-256 {'identical' if intact else 'DIFFERENT'}; the loop's CPU {total:.1f} s")
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            stats = pstats.Stats(str(profile), stream=out).sort_stats(key)
            if key == "cumulative":  # the bridge's own functions, not the wrapper around the loop
                stats.print_stats(r"bridge/", args.top)
            else:
                stats.print_stats(args.top)
            lines = out.getvalue().splitlines()
            start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
            print(f"top {args.top} by {key} time:")
            print("\n".join(lines[start - 1 if start else 0:start + args.top + 1]))


if __name__ == "__main__":
    main()
