"""The bridge against a pass-through, interleaved, in separate processes.

For each direction (Neoway firmware -> OneMO module, OneMO firmware -> Neoway module):
- throughput at each size (default 1, 10, 100 MB): a GET through `atbridge bridge` (the firmware
  speaks the host dialect), then the same GET through `socat` between the firmware's pty and the
  same emulator (the firmware speaks the module's own dialect), alternately, --runs times; every
  body checked by SHA-256; min/median/max MB/s of each and of the ratio bridge/pass-through;
- CPU seconds per MB of the bridge, the emulator and socat (/proc/PID/stat), and the peak RSS
  (VmHWM) of the bridge and the emulator;
- latency: AT+CSQ round trips, blocks through the bridge and through socat alternately; the
  added round trip is median(bridge) - median(socat), with min/max over blocks.

The emulator, the bridge and socat are separate processes, started as a user starts them; the
HTTP server and the scripted firmware run in this process (the same code for both passes).
Run: python benchmarks/bench_io.py [--sizes 1,10,100] [--runs 3] [--rounds 200] [--blocks 5]
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

sys.path.insert(0, str(Path(__file__).parent))
from bench_bridge import ATBRIDGE, _memory_kib, _spawn, _stop, download, round_trips  # noqa: E402

from bridge.demo.firmware import HostEnd  # noqa: E402
from bridge.demo.server import DemoServer  # noqa: E402
from bridge.ports import open_host_end  # noqa: E402

DIRECTIONS = (("neoway", "onemo"), ("onemo", "neoway"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


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


def _bridge(host_link: Path, module_link: Path, host_dialect: str, module_dialect: str):
    return _spawn(["bridge", "--host", f"pty:{host_link}", "--host-dialect", host_dialect,
                   "--module", str(module_link), "--module-dialect", module_dialect], host_link)


def _firmware(link: Path) -> HostEnd:
    firmware = HostEnd(open_host_end(str(link)))
    firmware.transact("ATE0")
    return firmware


def _pass(kind: str, work: Path, module_link: Path, host_dialect: str, module_dialect: str,
          run: "callable") -> tuple:
    """Start the bridge or socat, run `run(firmware, dialect)`, return (its result, cpu of the
    middle process, its peak RSS KiB)."""
    link = work / f"{kind}.pty"
    if kind == "bridge":
        process = _bridge(link, module_link, host_dialect, module_dialect)
        pid, dialect = process.pid, host_dialect
    else:
        process = Socat(link, module_link)
        pid, dialect = process.pid, module_dialect
    firmware = _firmware(link)
    try:
        before = cpu_seconds(pid)
        result = run(firmware, dialect)
        cpu = cpu_seconds(pid) - before
        peak = _memory_kib(pid)["VmHWM"]
    finally:
        firmware.port.close()
        _stop(process) if kind == "bridge" else process.stop()
    return result, cpu, peak


def _mmm(values: list[float], fmt: str = "{:.2f}") -> str:
    return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def throughput(host_dialect: str, module_dialect: str, server: DemoServer, sizes: list[int], runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="atbridge-bench-") as tmp:
        work = Path(tmp)
        module_link = work / "module.pty"
        emulator = _spawn(["emulate", module_dialect, "--port", f"pty:{module_link}"], module_link)
        per_mb: dict = {}
        try:
            for size in sizes:
                rows = {"bridge": [], "socat": [], "ratio": [], "cpu_bridge": [], "cpu_socat": [], "cpu_emu": [],
                        "rss_bridge": [], "intact": True}
                for i in range(runs):
                    order = ("bridge", "socat") if i % 2 == 0 else ("socat", "bridge")
                    speeds = {}
                    for kind in order:
                        emu_before = cpu_seconds(emulator.pid)
                        (seconds, intact), cpu, peak = _pass(
                            kind, work, module_link, host_dialect, module_dialect,
                            lambda fw, dialect: download(fw, dialect, server, size))
                        rows["intact"] &= intact
                        speeds[kind] = size / seconds / 1e6
                        rows[kind].append(speeds[kind])
                        rows[f"cpu_{kind}"].append(cpu / (size / 1e6))
                        if kind == "bridge":
                            rows["cpu_emu"].append((cpu_seconds(emulator.pid) - emu_before) / (size / 1e6))
                            rows["rss_bridge"].append(peak / 1024)
                    rows["ratio"].append(speeds["bridge"] / speeds["socat"])
                per_mb[size] = rows
                print(f"  {size / 1e6:5.0f} MB x{runs}: bridge {_mmm(rows['bridge'])} MB/s, socat {_mmm(rows['socat'])} MB/s, "
                      f"ratio {_mmm(rows['ratio'])} (min/median/max); SHA-256 {'all identical' if rows['intact'] else 'DIFFERENT'}",
                      flush=True)
                print(f"           CPU s/MB: bridge {_mmm(rows['cpu_bridge'], '{:.3f}')}, emulator {_mmm(rows['cpu_emu'], '{:.3f}')}, "
                      f"socat {_mmm(rows['cpu_socat'], '{:.3f}')}; bridge peak RSS {max(rows['rss_bridge']):.1f} MiB, "
                      f"emulator peak RSS so far {_memory_kib(emulator.pid)['VmHWM'] / 1024:.1f} MiB", flush=True)
        finally:
            _stop(emulator)
    medians = [statistics.median(per_mb[s]["bridge"]) / (s / 1e6) for s in sizes]
    if len(sizes) > 1:
        decades = ", ".join(f"{sizes[i] / 1e6:.0f}->{sizes[i + 1] / 1e6:.0f} MB: seconds x{(sizes[i + 1] / statistics.median(per_mb[sizes[i + 1]]['bridge'])) / (sizes[i] / statistics.median(per_mb[sizes[i]]['bridge'])):.1f}"
                            for i in range(len(sizes) - 1))
        print(f"  time per decade of size (linear = x10): {decades}", flush=True)
    return per_mb


def latency(host_dialect: str, module_dialect: str, rounds: int, blocks: int) -> None:
    with tempfile.TemporaryDirectory(prefix="atbridge-bench-") as tmp:
        work = Path(tmp)
        module_link = work / "module.pty"
        emulator = _spawn(["emulate", module_dialect, "--port", f"pty:{module_link}"], module_link)
        medians: dict = {"bridge": [], "socat": []}
        cpu_rt: dict = {"bridge": [], "socat": []}
        try:
            for i in range(blocks):
                for kind in (("bridge", "socat") if i % 2 == 0 else ("socat", "bridge")):
                    times, cpu, _ = _pass(kind, work, module_link, host_dialect, module_dialect,
                                          lambda fw, dialect: round_trips(fw, rounds))
                    medians[kind].append(statistics.median(times) * 1e6)
                    cpu_rt[kind].append(cpu / rounds * 1e6)
        finally:
            _stop(emulator)
    added = [b - s for b, s in zip(medians["bridge"], medians["socat"])]
    print(f"  AT+CSQ round trip, {blocks} blocks of {rounds} alternately: bridge median {_mmm(medians['bridge'], '{:.0f}')} us, "
          f"socat median {_mmm(medians['socat'], '{:.0f}')} us; added {_mmm(added, '{:.0f}')} us (min/median/max over blocks); "
          f"CPU per round trip: bridge {_mmm(cpu_rt['bridge'], '{:.0f}')} us, socat {_mmm(cpu_rt['socat'], '{:.0f}')} us", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,100", help="MB, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    if shutil.which("socat") is None:
        sys.exit("socat is needed for the pass-through baseline (tools/test-deps.sh installs it)")
    sizes = [int(float(s) * 1_000_000) for s in args.sizes.split(",")]
    print(f"bench_io {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}", flush=True)
    server = DemoServer()
    try:
        for host_dialect, module_dialect in DIRECTIONS:
            print(f"{host_dialect} firmware -> bridge -> {module_dialect} module (pass-through: {module_dialect} firmware -> socat -> the same emulator)", flush=True)
            throughput(host_dialect, module_dialect, server, sizes, args.runs)
            if not args.skip_latency:
                latency(host_dialect, module_dialect, args.rounds, args.blocks)
    finally:
        server.close()


if __name__ == "__main__":
    main()
