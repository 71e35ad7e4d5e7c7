"""Added round trip of a passed-through AT+CSQ for two checkouts of the bridge, in one run.

One emulator (this checkout's) behind a pty; blocks of --rounds AT+CSQ round trips are made
alternately through `atbridge bridge` of each checkout (run from that checkout: cwd and PYTHONPATH)
and through socat (the pass-through), the order rotating every block.  Each bridge or socat is a
separate process, started fresh for its block.  Printed per path: the median round trip of each
block (min/median/max over blocks), the added round trip over the same block-pair's socat, and
CPU microseconds of the middle process per round trip (/proc/PID/stat, which holds up under load).
Run: python benchmarks/bench_latency.py --tree main=. --tree before=/tmp/before [--host-dialect neoway]
     [--rounds 300] [--blocks 6]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_bridge import _spawn, _stop, _wait_for, round_trips  # noqa: E402
from bench_io import Socat, _firmware, _mmm, cpu_seconds  # noqa: E402


def _bridge_from(tree: Path, host_link: Path, module_link: Path, host: str, module: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(tree))
    process = subprocess.Popen([sys.executable, "-m", "bridge.app.cli", "bridge", "--host", f"pty:{host_link}",
                                "--host-dialect", host, "--module", str(module_link), "--module-dialect", module],
                               stderr=subprocess.PIPE, text=True, cwd=tree, env=env)
    _wait_for(host_link, process)
    return process


def _block(kind: str, trees: dict, work: Path, module_link: Path, host: str, module: str, rounds: int) -> tuple:
    link = work / f"{kind}.pty"
    if kind == "socat":
        process = Socat(link, module_link)
    else:
        process = _bridge_from(trees[kind], link, module_link, host, module)
    firmware = _firmware(link)
    try:
        before = cpu_seconds(process.pid)
        times = round_trips(firmware, rounds)
        cpu = cpu_seconds(process.pid) - before
    finally:
        firmware.port.close()
        process.stop() if kind == "socat" else _stop(process)
    return statistics.median(times) * 1e6, cpu / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, help="NAME=PATH of a checkout")
    parser.add_argument("--host-dialect", default="neoway", choices=("neoway", "onemo"))
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--blocks", type=int, default=6)
    args = parser.parse_args()
    trees = {name: Path(path).resolve() for name, path in (t.split("=", 1) for t in args.tree)}
    host = args.host_dialect
    module = "onemo" if host == "neoway" else "neoway"
    kinds = [*trees, "socat"]
    medians: dict = {k: [] for k in kinds}
    cpu: dict = {k: [] for k in kinds}
    print(f"bench_latency {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {host} firmware -> bridge -> {module} module, "
          f"{args.blocks} blocks of {args.rounds} AT+CSQ, load {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="atbridge-latency-") as tmp:
        work = Path(tmp)
        module_link = work / "module.pty"
        emulator = _spawn(["emulate", module, "--port", f"pty:{module_link}"], module_link)
        try:
            for i in range(args.blocks):
                for kind in kinds[i % len(kinds):] + kinds[:i % len(kinds)]:
                    median, per_rt = _block(kind, trees, work, module_link, host, module, args.rounds)
                    medians[kind].append(median)
                    cpu[kind].append(per_rt)
        finally:
            _stop(emulator)
    for kind in kinds:
        added = "" if kind == "socat" else \
            f", added over socat {_mmm([b - s for b, s in zip(medians[kind], medians['socat'])], '{:.0f}')} us"
        print(f"  {kind:8s} round trip {_mmm(medians[kind], '{:.0f}')} us{added}; CPU per round trip "
              f"{_mmm(cpu[kind], '{:.0f}')} us (min/median/max over blocks)", flush=True)


if __name__ == "__main__":
    main()
