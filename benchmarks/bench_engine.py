"""The bridge engine's CPU per MB with no I/O: a recorded bridged download replayed.

For each direction, one real download runs through `atbridge bridge --trace` (emulator, bridge and
firmware as bench_io runs them); then the bytes the bridge read -- the firmware's and the module's,
in the order it read them, with their times -- are fed to a fresh BridgeEngine (the bridge's
sans-I/O core) and, as the baseline, to `atbridge tap`'s pass-through engine, alternately, --runs
times each.  CPU time (process_time) per MB of module bytes, min/median/max, and the ratio: what
the translation costs beyond moving the bytes.  CPU time holds up on a busy machine, where the
wall-clock benchmarks do not.  What the engine writes to the firmware is checked: every run must
give the same bytes (SHA-256) as the live bridge wrote in the recording.
Run: python benchmarks/bench_engine.py [--size-mb 20] [--runs 5] [--directions neoway,onemo] [--keep DIR]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).parent))
from bench_bridge import _spawn, _stop, download  # noqa: E402

from bridge.app.demo.firmware import HostEnd  # noqa: E402
from bridge.app.demo.server import DemoServer  # noqa: E402
from bridge.app.migration.tap import TapEngine  # noqa: E402
from bridge.bridging.engine import BridgeEngine  # noqa: E402
from bridge.bridging.trace import Trace  # noqa: E402
from bridge.device.fs import ModuleFileSystem  # noqa: E402
from bridge.io.ports import open_host_end  # noqa: E402
from bridge.registry import make_host_side, make_module_side  # noqa: E402

DIRECTIONS = {"neoway": "onemo", "onemo": "neoway"}  # host dialect -> module dialect
READS = ("host->bridge", "module->bridge")


def record(host: str, module: str, size: int, trace: Path, server: DemoServer) -> None:
    """One bridged download of `size` bytes, traced (secrets kept: the replay needs the bytes)."""
    with tempfile.TemporaryDirectory(prefix="atbridge-bench-") as tmp:
        work = Path(tmp)
        module_link, host_link = work / "module.pty", work / "host.pty"
        emulator = _spawn(["emulate", module, "--port", f"pty:{module_link}"], module_link)
        try:
            bridge = _spawn(["bridge", "--host", f"pty:{host_link}", "--host-dialect", host, "--module", str(module_link),
                             "--module-dialect", module, "--trace", str(trace), "--trace-secrets"], host_link)
            firmware = HostEnd(open_host_end(str(host_link)))
            try:
                firmware.transact("ATE0")
                _, intact = download(firmware, host, server, size)
            finally:
                firmware.port.close()
                _stop(bridge)
        finally:
            _stop(emulator)
    if not intact:
        raise SystemExit(f"{host} -> {module}: the recorded download's SHA-256 did not match")


def _data(value) -> bytes:
    return base64.b64decode(value["base64"]) if isinstance(value, dict) else value.encode("utf-8")


def reads_and_output(trace: Path) -> tuple[list[tuple[str, bytes, float]], str]:
    """What the bridge read, in order (direction, bytes, time), and the SHA-256 of what it wrote
    to the firmware."""
    reads, written = [], hashlib.sha256()
    with trace.open() as lines:
        for line in lines:
            record_ = json.loads(line)
            if "data" not in record_:
                continue
            if record_["dir"] in READS:
                reads.append((record_["dir"], _data(record_["data"]), record_["t"]))
            elif record_["dir"] == "bridge->host":
                written.update(_data(record_["data"]))
    return reads, written.hexdigest()


def replay(engine, reads: list[tuple[str, bytes, float]]) -> tuple[float, str]:
    """CPU seconds to feed `reads` to `engine` as the I/O loop would (its deadline asked after
    each read, its timers fired when due), and the SHA-256 of what it wrote to the firmware."""
    written = hashlib.sha256(engine.to_host())
    engine.to_module()
    start = time.process_time()
    due = engine.next_deadline()
    for direction, data, now in reads:
        if due is not None and now >= due:  # timers only when one is due, as the loop fires them
            engine.on_time(now)
        if direction == "host->bridge":
            engine.from_host(data, now)
        else:
            engine.from_module(data, now)
        engine.to_module()
        written.update(engine.to_host())
        due = engine.next_deadline()
    return time.process_time() - start, written.hexdigest()


def _mmm(values: list[float], fmt: str = "{:.2f}") -> str:
    return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def direction(host: str, size: int, runs: int, server: DemoServer, keep: Optional[Path]) -> None:
    module = DIRECTIONS[host]
    with tempfile.TemporaryDirectory(prefix="atbridge-bench-") as tmp:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
        trace = (keep or Path(tmp)) / f"{host}-{size}.jsonl"
        if not trace.exists():
            record(host, module, size, trace, server)
        reads, live = reads_and_output(trace)
        megabytes = sum(len(d) for k, d, _ in reads if k == "module->bridge") / 1e6
        costs: dict[str, list[float]] = {"engine": [], "tap": []}
        same = True
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="atbridge-fs-") as root:
                engine = BridgeEngine(make_module_side(host, ModuleFileSystem(root)), make_host_side(module))
                seconds, written = replay(engine, reads)
            costs["engine"].append(seconds / megabytes * 1e3)
            same &= written == live
            seconds, _ = replay(TapEngine(Trace(None)), reads)
            costs["tap"].append(seconds / megabytes * 1e3)
    ratios = [e / t for e, t in zip(costs["engine"], costs["tap"])]
    print(f"{host} firmware -> engine -> {module} module: {megabytes:.1f} MB from the module in {len(reads)} reads; "
          f"CPU ms/MB engine {_mmm(costs['engine'])}, tap pass-through {_mmm(costs['tap'], '{:.3f}')}, "
          f"ratio {_mmm(ratios, '{:.0f}')} (min/median/max of {runs}); output to the firmware "
          f"{'identical to the live bridge' if same else 'DIFFERENT from the live bridge'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--directions", default="neoway,onemo", help="host dialects to run")
    parser.add_argument("--keep", type=Path, default=None,
                        help="directory for the recordings: reused when there (the same reads, to compare two checkouts)")
    args = parser.parse_args()
    print(f"bench_engine {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}: "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    server = DemoServer()
    try:
        for host in args.directions.split(","):
            direction(host, int(args.size_mb * 1e6), args.runs, server, args.keep)
    finally:
        server.close()


if __name__ == "__main__":
    main()
