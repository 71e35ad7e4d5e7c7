"""Added round trip of a passed-through AT+CSQ through the bridge, over a same-run pass-through.

One emulator (this checkout's) behind a pty; blocks of --rounds AT+CSQ round trips are made
alternately through `atbridge bridge` of each checkout (run from that checkout: cwd and PYTHONPATH)
and through socat (the pass-through), the order rotating every block.  Each bridge or socat is a
separate process, started fresh for its block.  Printed per path: the median round trip of each
block (min/median/max over blocks), the added round trip over the same block-pair's socat, and
the CPU time per round trip of the middle process and of the emulator, from the scheduler's
nanosecond count of every thread (/proc/PID/task/*/schedstat), which holds up on a busy machine.
Run: python benchmarks/bench_latency.py [--tree before=/tmp/before] [--host-dialect onemo|neoway|both]
     [--rounds 1000] [--blocks 6]      (without --tree: this checkout's bridge alone against socat)
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_bridge import _spawn, _stop, _wait_for, round_trips  # noqa: E402
from bench_io import Socat, _firmware, _mmm  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) of every thread of `pid` so far, to the nanosecond."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
        except FileNotFoundError:  # a thread that has just ended
            continue
    return total / 1e9


def machine() -> str:
    """What the machine is and how busy it is now (load averages over 1, 5, 15 minutes)."""
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load {load}"


def stop_bridge(process: subprocess.Popen) -> None:
    """SIGINT, as a user stops it; one that has not ended 10 s later is killed, and said so (seen
    twice in some 150 stops on a busy machine, with and without this branch's changes)."""
    try:
        _stop(process)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        print(f"  (a bridge did not stop within 10 s of SIGINT: killed; pid {process.pid})", flush=True)


def _bridge_from(tree: Path, host_link: Path, module_link: Path, host: str, module: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(tree))
    cli = "bridge.app.cli" if (tree / "bridge" / "app" / "cli.py").exists() else "bridge.cli"  # before the layers
    process = subprocess.Popen([sys.executable, "-m", cli, "bridge", "--host", f"pty:{host_link}",
                                "--host-dialect", host, "--module", str(module_link), "--module-dialect", module],
                               stderr=subprocess.PIPE, text=True, cwd=tree, env=env)
    _wait_for(host_link, process)
    return process


def _block(kind: str, trees: dict, work: Path, module_link: Path, host: str, module: str, rounds: int,
           emulator: int) -> tuple[float, float, float]:
    """(median round trip us, CPU us per round trip of the middle process, of the emulator)."""
    link = work / f"{kind}.pty"
    if kind == "socat":
        process = Socat(link, module_link)
    else:
        process = _bridge_from(trees[kind], link, module_link, host, module)
    firmware = _firmware(link)
    try:
        firmware.transact("AT+CSQ")  # the first one of its kind is framed in full; then the fast path
        before, emulator_before = cpu_seconds(process.pid), cpu_seconds(emulator)
        times = round_trips(firmware, rounds)
        cpu, emulator_cpu = cpu_seconds(process.pid) - before, cpu_seconds(emulator) - emulator_before
    finally:
        firmware.port.close()
        process.stop() if kind == "socat" else stop_bridge(process)
    per_round = 1e6 / (rounds + 1)  # round_trips() makes one more, to warm up
    return statistics.median(times) * 1e6, cpu * per_round, emulator_cpu * per_round


def direction(host: str, trees: dict, rounds: int, blocks: int) -> None:
    module = "onemo" if host == "neoway" else "neoway"
    kinds = [*trees, "socat"]
    medians: dict = {k: [] for k in kinds}
    cpu: dict = {k: [] for k in kinds}
    emulator_cpu: dict = {k: [] for k in kinds}
    print(f"{host} firmware -> bridge -> {module} module, {blocks} blocks of {rounds} AT+CSQ; socat: {module} firmware "
          f"-> socat -> the same emulator; {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="atbridge-latency-") as tmp:
        work = Path(tmp)
        module_link = work / "module.pty"
        emulator = _spawn(["emulate", module, "--port", f"pty:{module_link}"], module_link)
        try:
            for i in range(blocks):
                for kind in kinds[i % len(kinds):] + kinds[:i % len(kinds)]:
                    median, per_rt, emu = _block(kind, trees, work, module_link, host, module, rounds, emulator.pid)
                    medians[kind].append(median)
                    cpu[kind].append(per_rt)
                    emulator_cpu[kind].append(emu)
        finally:
            _stop(emulator)
    for kind in kinds:
        added = "" if kind == "socat" else \
            f", added over socat {_mmm([b - s for b, s in zip(medians[kind], medians['socat'])], '{:.0f}')} us"
        print(f"  {kind:8s} round trip {_mmm(medians[kind], '{:.0f}')} us{added}; CPU per round trip: {kind} "
              f"{_mmm(cpu[kind], '{:.0f}')} us, emulator {_mmm(emulator_cpu[kind], '{:.0f}')} us "
              f"(min/median/max over blocks)", flush=True)
    print(f"  after: {machine()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], help="NAME=PATH of a checkout (default: bridge=.)")
    parser.add_argument("--host-dialect", default="both", choices=("neoway", "onemo", "both"))
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--blocks", type=int, default=6)
    args = parser.parse_args()
    trees = {name: Path(path).resolve() for name, path in (t.split("=", 1) for t in args.tree or ["bridge=."])}
    print(f"bench_latency {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}", flush=True)
    for host in (("onemo", "neoway") if args.host_dialect == "both" else (args.host_dialect,)):
        direction(host, trees, args.rounds, args.blocks)


if __name__ == "__main__":
    main()
