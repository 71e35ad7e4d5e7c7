"""The bridge against a pass-through, interleaved, in separate processes.

For each direction (Neoway firmware -> OneMO module, OneMO firmware -> Neoway module):
- throughput at each size (default 1, 10, 100 MB): a GET through `atbridge bridge` (the firmware
  speaks the host dialect), then the same GET through `socat` between the firmware's pty and the
  same emulator (the firmware speaks the module's own dialect), alternately, --runs times; every
  body checked by SHA-256; min/median/max MB/s of each and of the ratio bridge/pass-through;
- CPU seconds per MB of the bridge, the emulator and socat (/proc/PID/stat), and of this process
  (the firmware and the HTTP server) in each pass -- the firmware speaks the host dialect in the
  bridge's pass and the module's in socat's, so its own cost differs and is shown -- and the peak
  RSS (VmHWM) of the bridge and the emulator;
- stalls: the share of both CPUs left idle during each pass (/proc/stat), and the context switches
  per MB of the process in the middle (/proc/PID/status): voluntary ones (it waited in epoll or
  select: nothing to read, no room to write) and involuntary ones (runnable, but another task
  ran) -- a pipeline that stalls leaves CPU idle although every stage has work to come;
- latency: AT+CSQ round trips, blocks through the bridge and through socat alternately; the
  added round trip is median(bridge) - median(socat), with min/max over blocks.

The emulator, the bridge and socat are separate processes, started as a user starts them; the
HTTP server and the scripted firmware run in this process (the same code for both passes).
Neoway firmware takes bodies in recvmode 0 (raw HTTP) and 1 (+HTTPRECV pieces), each measured.
With --floor, the bridge's own loop and ports passing bytes through untranslated
(loop_passthrough.py) run as a third kind: how far Python I/O alone stays from socat, and so how much
of the bridge's gap is translation.
Run: python benchmarks/bench_io.py [--sizes 1,10,100] [--runs 3] [--rounds 200] [--blocks 5] [--recvmodes 0,1]
     [--tree NAME=PATH ...]   (bridges of other checkouts too, each interleaved in the same run) [--floor]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, NamedTuple

sys.path.insert(0, str(Path(__file__).parent))
from bench_bridge import ATBRIDGE, _memory_kib, _spawn, _stop, _wait_for, download, round_trips  # noqa: E402

from bridge.app.demo.firmware import HostEnd  # noqa: E402
from bridge.app.demo.server import DemoServer  # noqa: E402
from bridge.io.ports import open_host_end  # noqa: E402

DIRECTIONS = (("neoway", "onemo"), ("onemo", "neoway"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def idle_ticks() -> tuple[int, int]:
    """(Ticks all CPUs spent idle or waiting for I/O, all ticks but guests'), since boot."""
    with open("/proc/stat") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[3] + ticks[4], sum(ticks)


def context_switches(pid: int) -> tuple[int, int]:
    """(Voluntary, involuntary) context switches of the process's main thread."""
    with open(f"/proc/{pid}/status") as status:
        values = dict(line.split(":", 1) for line in status)
    return int(values["voluntary_ctxt_switches"]), int(values["nonvoluntary_ctxt_switches"])


class PassFigures(NamedTuple):
    result: object  # what the pass's `run` returned
    cpu: float  # CPU seconds of the process in the middle (the bridge, socat)
    peak_kib: int  # its peak RSS
    own: float  # CPU seconds of this process: the firmware and the HTTP server
    idle: float  # share of all CPUs idle during the pass
    waits: int  # the middle process's voluntary context switches
    preempted: int  # its involuntary ones


class Socat:
    """socat between a new pty (linked at `link`) and the emulator's pty: the pass-through."""

    def __init__(self, link: Path, module: Path):
        self.process = subprocess.Popen(["socat", "-d", "-d", "-b", "65536", f"PTY,link={link},raw,echo=0",
                                         f"{module},raw,echo=0"], stderr=subprocess.PIPE, text=True)
        assert self.process.stderr is not None
        for line in self.process.stderr:  # its log says when both ends are open
            if "starting data transfer loop" in line:
                break
        else:
            raise RuntimeError("socat did not start")
        self.pid = self.process.pid

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class LoopPassThrough:
    """The bridge's loop and ports with nothing to translate (loop_passthrough.py): the floor of
    what Python I/O costs, shown with --floor."""

    def __init__(self, link: Path, module: Path):
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).parent / "loop_passthrough.py"),
                                         str(link), str(module)], stderr=subprocess.PIPE, text=True)
        _wait_for(link, self.process)
        self.pid = self.process.pid

    def stop(self) -> None:
        _stop(self.process)


TREES: dict = {}  # bridge kind -> checkout it runs from (None: this one)
PASS_THROUGHS: dict = {"socat": Socat}  # the baseline, and with --floor "loop": LoopPassThrough


def _bridge(host_link: Path, module_link: Path, host_dialect: str, module_dialect: str, tree=None):
    if tree is not None:
        from bench_latency import _bridge_from
        return _bridge_from(tree, host_link, module_link, host_dialect, module_dialect)
    return _spawn(["bridge", "--host", f"pty:{host_link}", "--host-dialect", host_dialect,
                   "--module", str(module_link), "--module-dialect", module_dialect], host_link)


def _firmware(link: Path) -> HostEnd:
    firmware = HostEnd(open_host_end(str(link)))
    firmware.transact("ATE0")
    return firmware


def _pass(kind: str, work: Path, module_link: Path, host_dialect: str, module_dialect: str,
          run: Callable[[HostEnd, str], object]) -> PassFigures:
    """Start the bridge or socat, run `run(firmware, dialect)`, say what it took."""
    link = work / f"{kind}.pty"
    if kind not in PASS_THROUGHS:
        process = _bridge(link, module_link, host_dialect, module_dialect, TREES.get(kind))
        pid, dialect = process.pid, host_dialect
    else:
        process = PASS_THROUGHS[kind](link, module_link)
        pid, dialect = process.pid, module_dialect
    firmware = _firmware(link)
    try:
        before, own, switches, idle = cpu_seconds(pid), time.process_time(), context_switches(pid), idle_ticks()
        result = run(firmware, dialect)
        cpu = cpu_seconds(pid) - before
        idle_after, switches_after = idle_ticks(), context_switches(pid)
        peak = _memory_kib(pid)["VmHWM"]
        own = time.process_time() - own
    finally:
        firmware.port.close()
        process.stop() if kind in PASS_THROUGHS else _stop(process)
    idle_share = (idle_after[0] - idle[0]) / max(1, idle_after[1] - idle[1])
    return PassFigures(result, cpu, peak, own, idle_share, switches_after[0] - switches[0], switches_after[1] - switches[1])


def _mmm(values: list[float], fmt: str = "{:.2f}") -> str:
    return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def throughput(host_dialect: str, module_dialect: str, server: DemoServer, sizes: list[int], runs: int,
               recvmode: int = 0) -> dict:
    with tempfile.TemporaryDirectory(prefix="atbridge-bench-") as tmp:
        work = Path(tmp)
        module_link = work / "module.pty"
        emulator = _spawn(["emulate", module_dialect, "--port", f"pty:{module_link}"], module_link)
        per_mb: dict = {}
        try:
            for size in sizes:
                kinds = [*TREES, *PASS_THROUGHS]
                compared = [kind for kind in kinds if kind != "socat"]
                rows: dict = {}
                megabytes = size / 1e6
                for kind in kinds:
                    rows[f"intact_{kind}"] = True
                    for key in (kind, f"ratio_{kind}", f"cpu_{kind}", f"cpu_emu_{kind}", f"cpu_fw_{kind}", f"rss_{kind}",
                                f"idle_{kind}", f"waits_{kind}", f"preempted_{kind}"):
                        rows[key] = []
                for i in range(runs):
                    order = kinds[i % len(kinds):] + kinds[:i % len(kinds)]
                    speeds = {}
                    for kind in order:
                        emu_before = cpu_seconds(emulator.pid)
                        figures = _pass(kind, work, module_link, host_dialect, module_dialect,
                                        lambda fw, dialect: download(fw, dialect, server, size, recvmode))
                        seconds, intact = figures.result
                        rows[f"intact_{kind}"] &= intact
                        speeds[kind] = megabytes / seconds
                        rows[kind].append(speeds[kind])
                        rows[f"cpu_{kind}"].append(figures.cpu / megabytes)
                        rows[f"cpu_emu_{kind}"].append((cpu_seconds(emulator.pid) - emu_before) / megabytes)
                        rows[f"rss_{kind}"].append(figures.peak_kib / 1024)
                        rows[f"cpu_fw_{kind}"].append(figures.own / megabytes)
                        rows[f"idle_{kind}"].append(figures.idle * 100)
                        rows[f"waits_{kind}"].append(figures.waits / megabytes)
                        rows[f"preempted_{kind}"].append(figures.preempted / megabytes)
                    for kind in compared:
                        rows[f"ratio_{kind}"].append(speeds[kind] / speeds["socat"])
                per_mb[size] = rows
                for kind in compared:
                    print(f"  {size / 1e6:5.0f} MB x{runs}: {kind} {_mmm(rows[kind])} MB/s, socat {_mmm(rows['socat'])} MB/s, "
                          f"ratio {_mmm(rows[f'ratio_{kind}'])} (min/median/max); SHA-256 {kind} {'all identical' if rows[f'intact_{kind}'] else 'DIFFERENT'}, "
                          f"socat {'all identical' if rows['intact_socat'] else 'DIFFERENT'}",
                          flush=True)
                    print(f"           CPU s/MB: {kind} {_mmm(rows[f'cpu_{kind}'], '{:.3f}')}, emulator {_mmm(rows[f'cpu_emu_{kind}'], '{:.3f}')}, "
                          f"socat {_mmm(rows['cpu_socat'], '{:.3f}')}; firmware+server in the {kind} pass {_mmm(rows[f'cpu_fw_{kind}'], '{:.3f}')}, "
                          f"in the socat pass {_mmm(rows['cpu_fw_socat'], '{:.3f}')}; {kind} peak RSS {max(rows[f'rss_{kind}']):.1f} MiB, "
                          f"emulator peak RSS so far {_memory_kib(emulator.pid)['VmHWM'] / 1024:.1f} MiB", flush=True)
                    print(f"           stalls: CPUs idle during the pass {kind} {_mmm(rows[f'idle_{kind}'], '{:.0f}')} %, "
                          f"socat {_mmm(rows['idle_socat'], '{:.0f}')} %; context switches per MB, voluntary (waited) / "
                          f"involuntary (preempted): {kind} {statistics.median(rows[f'waits_{kind}']):.0f} / "
                          f"{statistics.median(rows[f'preempted_{kind}']):.0f}, socat {statistics.median(rows['waits_socat']):.0f} / "
                          f"{statistics.median(rows['preempted_socat']):.0f} (medians)", flush=True)
        finally:
            _stop(emulator)
    if len(sizes) > 1 and "bridge" in TREES:
        decades = ", ".join(f"{sizes[i] / 1e6:.0f}->{sizes[i + 1] / 1e6:.0f} MB: seconds x{(sizes[i + 1] / statistics.median(per_mb[sizes[i + 1]]['bridge'])) / (sizes[i] / statistics.median(per_mb[sizes[i]]['bridge'])):.1f}"
                            for i in range(len(sizes) - 1))
        print(f"  time per decade of size (linear = x10): {decades}", flush=True)
    return per_mb


def latency(host_dialect: str, module_dialect: str, rounds: int, blocks: int) -> None:
    with tempfile.TemporaryDirectory(prefix="atbridge-bench-") as tmp:
        work = Path(tmp)
        module_link = work / "module.pty"
        emulator = _spawn(["emulate", module_dialect, "--port", f"pty:{module_link}"], module_link)
        kinds = [*TREES, "socat"]
        medians: dict = {kind: [] for kind in kinds}
        cpu_rt: dict = {kind: [] for kind in kinds}
        try:
            for i in range(blocks):
                for kind in kinds[i % len(kinds):] + kinds[:i % len(kinds)]:
                    figures = _pass(kind, work, module_link, host_dialect, module_dialect,
                                    lambda fw, dialect: round_trips(fw, rounds))
                    medians[kind].append(statistics.median(figures.result) * 1e6)
                    cpu_rt[kind].append(figures.cpu / rounds * 1e6)
        finally:
            _stop(emulator)
    for kind in TREES:
        added = [b - s for b, s in zip(medians[kind], medians["socat"])]
        print(f"  AT+CSQ round trip, {blocks} blocks of {rounds} alternately: {kind} median {_mmm(medians[kind], '{:.0f}')} us, "
              f"socat median {_mmm(medians['socat'], '{:.0f}')} us; added {_mmm(added, '{:.0f}')} us (min/median/max over blocks); "
              f"CPU per round trip: {kind} {_mmm(cpu_rt[kind], '{:.0f}')} us, socat {_mmm(cpu_rt['socat'], '{:.0f}')} us", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,100", help="MB, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--tree", action="append", default=[], help="NAME=PATH: also the bridge of that checkout")
    parser.add_argument("--directions", default="neoway,onemo", help="host dialects to run")
    parser.add_argument("--recvmodes", default="0,1", help="how the Neoway firmware (the bridge's or socat's) takes bodies")
    parser.add_argument("--floor", action="store_true",
                        help="also the bridge's loop with nothing to translate (loop_passthrough.py), against socat")
    args = parser.parse_args()
    if args.floor:
        PASS_THROUGHS["loop"] = LoopPassThrough
    TREES["bridge"] = None
    TREES.update({name: Path(path).resolve() for name, path in (t.split("=", 1) for t in args.tree)})
    if shutil.which("socat") is None:
        sys.exit("socat is needed for the pass-through baseline (tools/test-deps.sh installs it)")
    sizes = [int(float(s) * 1_000_000) for s in args.sizes.split(",")]
    print(f"bench_io {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}", flush=True)
    server = DemoServer()
    try:
        for host_dialect, module_dialect in DIRECTIONS:
            if host_dialect not in args.directions.split(","):
                continue
            print(f"{host_dialect} firmware -> bridge -> {module_dialect} module (pass-through: {module_dialect} firmware -> socat -> the same emulator)", flush=True)
            for recvmode in (int(m) for m in args.recvmodes.split(",")):
                print(f"  Neoway recvmode {recvmode} ({'raw HTTP' if recvmode == 0 else '+HTTPRECV pieces'})", flush=True)
                throughput(host_dialect, module_dialect, server, sizes, args.runs, recvmode)
            if not args.skip_latency:
                latency(host_dialect, module_dialect, args.rounds, args.blocks)
    finally:
        server.close()


if __name__ == "__main__":
    main()
