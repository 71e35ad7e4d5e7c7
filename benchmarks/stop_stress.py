"""How long `atbridge bridge` takes to stop: --cycles start / traffic / signal cycles.

One emulator per module dialect runs for the whole run (`atbridge emulate ... --port pty:`).  Each
cycle starts a fresh `atbridge bridge` (both directions in turn), and a firmware on its pty makes
AT+CSQ round trips; then the bridge gets SIGINT or SIGTERM (in turn): while round trips flow
("flowing"), after the firmware wrote a burst of commands and stopped reading ("unread": the
bridge's firmware port backs up), or at once after the firmware's last answer and closing its
end ("closed", as benchmarks/bench_latency.py and bench_get.py stop it).  The stop time is from the signal to the process's exit.
A bridge still running --limit seconds after its signal gets SIGABRT (its Python traceback goes
to its stderr, shown here: PYTHONFAULTHANDLER) and is killed.  --hog N runs N busy processes
alongside for the run (bounded by --hog-seconds), as on a loaded machine.

Printed: stops, exit codes other than 0, stops over 2 s, and p50/p99/max of the stop time.
Run: python benchmarks/stop_stress.py [--cycles 300] [--hog 2] [--limit 10] [--tree PATH]
     (--tree: the bridge of another checkout, run from it: cwd and PYTHONPATH)
CI size: tests/system/test_bridge_stops.py
"""
from __future__ import annotations

import argparse
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ATBRIDGE = [sys.executable, "-m", "bridge.app.cli"]
DIRECTIONS = (("onemo", "neoway"), ("neoway", "onemo"))  # (firmware's dialect, module's dialect)
SIGNALS = (signal.SIGINT, signal.SIGTERM)
MODES = ("flowing", "unread", "closed")
STOP_GOAL = 2.0  # seconds (issue 10)
ROUND_TRIP_LIMIT = 10.0


class Process:
    """An `atbridge` subprocess whose stderr is drained by a thread (a full pipe would block it);
    `ready` is set once its banner (printed when its ports are open) came."""

    def __init__(self, args: list[str], tree: Optional[Path] = None) -> None:
        env = dict(os.environ, PYTHONFAULTHANDLER="1")
        if tree is not None:
            env["PYTHONPATH"] = str(tree)
        self.popen = subprocess.Popen(ATBRIDGE + args, stderr=subprocess.PIPE, env=env, cwd=tree)
        self.ready = threading.Event()
        self.lines: deque[bytes] = deque(maxlen=60)
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            self.lines.append(line)
            if b"Ctrl-C stops" in line:
                self.ready.set()
        self.ready.set()

    def wait_ready(self, timeout: float = 30.0) -> None:
        if not self.ready.wait(timeout) or self.popen.poll() is not None:
            raise RuntimeError(f"{self.popen.args} did not start: {b''.join(self.lines)!r}")

    def stop(self, sig: int, limit: float) -> tuple[float, Optional[int]]:
        """(seconds from `sig` to exit, exit status or None when it had to be killed)."""
        start = time.perf_counter()
        self.popen.send_signal(sig)
        try:
            status: Optional[int] = self.popen.wait(limit)
        except subprocess.TimeoutExpired:
            self.popen.send_signal(signal.SIGABRT)  # faulthandler: where every thread is
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
            status = None
        took = time.perf_counter() - start
        self._drainer.join(5)
        return took, status

    def stderr(self) -> str:
        return b"".join(self.lines).decode("utf-8", "replace")


class Firmware:
    """The firmware end of the bridge's pty, raw: round trips of AT+CSQ, or a burst it never reads."""

    def __init__(self, link: Path) -> None:
        self.fd = os.open(link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        self.round_trips = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def round_trip(self, timeout: float = ROUND_TRIP_LIMIT) -> bool:
        """AT+CSQ, then read until its final result (True) or `timeout` (False)."""
        self._write_all(b"AT+CSQ\r", timeout)
        got = bytearray()
        deadline = time.monotonic() + timeout
        while b"OK\r\n" not in got and b"ERROR" not in got:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return False
            try:
                chunk = os.read(self.fd, 4096)
            except BlockingIOError:
                continue
            except OSError:
                return False
            if not chunk:
                return False
            got += chunk
        self.round_trips += 1
        return b"OK\r\n" in got

    def flow(self) -> None:
        """Round trips in a thread until :meth:`close`."""
        def run() -> None:
            while not self._stop.is_set() and self.round_trip(1.0):
                pass
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def burst(self, commands: int) -> int:
        """Write `commands` AT+CSQ lines as fast as the port takes them (bounded: 2 s), read nothing."""
        return self._write_all(b"AT+CSQ\r" * commands, 2.0)

    def _write_all(self, data: bytes, timeout: float) -> int:
        view, written = memoryview(data), 0
        deadline = time.monotonic() + timeout
        while written < len(data):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [self.fd], [], left)[1]:
                break
            try:
                written += os.write(self.fd, view[written:])
            except BlockingIOError:
                continue
            except OSError:
                break
        return written

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        os.close(self.fd)


@dataclass
class Result:
    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # stops that were not clean, with why
    round_trips: int = 0

    def add(self, cycle: str, took: float, status: Optional[int], stderr: str) -> None:
        self.times.append(took)
        if status is None:
            self.failures.append(f"{cycle}: did not stop within the limit (killed); stderr:\n{stderr}")
        elif status != 0:
            self.failures.append(f"{cycle}: exit status {status} after {took:.2f} s; stderr:\n{stderr}")
        elif took > STOP_GOAL:
            self.failures.append(f"{cycle}: stopped after {took:.2f} s; stderr:\n{stderr}")


class Rig:
    """The emulators (one per module dialect) in `work`, kept for the whole run."""

    def __init__(self, work: Path, tree: Optional[Path] = None, modes: tuple[str, ...] = MODES) -> None:
        self.work = work
        self.tree = tree
        self.modes = modes
        self.emulators: dict[str, Process] = {}
        self.links: dict[str, Path] = {}
        for dialect in {module for _, module in DIRECTIONS}:
            link = work / f"{dialect}.module.pty"
            process = Process(["emulate", dialect, "--port", f"pty:{link}"])
            process.wait_ready()
            self.emulators[dialect], self.links[dialect] = process, link

    def cycle(self, index: int, result: Result, limit: float, rng: random.Random) -> None:
        host, module = DIRECTIONS[index % 2]
        sig = SIGNALS[index // 2 % 2]
        mode = self.modes[index // 4 % len(self.modes)]
        name = f"cycle {index} ({host} firmware -> {module} module, {signal.Signals(sig).name}, {mode})"
        link = self.work / "host.pty"
        bridge = Process(["bridge", "--host", f"pty:{link}", "--host-dialect", host,
                          "--module", str(self.links[module]), "--module-dialect", module], self.tree)
        firmware: Optional[Firmware] = None
        try:
            bridge.wait_ready()
            firmware = Firmware(link)
            if not firmware.round_trip():
                result.failures.append(f"{name}: no answer to AT+CSQ before the signal; stderr:\n{bridge.stderr()}")
            if mode == "flowing":
                firmware.flow()
                time.sleep(rng.uniform(0.0, 0.3))  # the signal lands somewhere in the flow
            elif mode == "unread":
                firmware.burst(3000)
            else:
                firmware.close()
                result.round_trips += firmware.round_trips
                firmware = None
        finally:
            took, status = bridge.stop(sig, limit)
            result.add(name, took, status, bridge.stderr())
            if firmware is not None:
                result.round_trips += firmware.round_trips
                firmware.close()

    def check(self) -> None:
        for dialect, emulator in self.emulators.items():
            if emulator.popen.poll() is not None:
                raise RuntimeError(f"the {dialect} emulator died: {emulator.stderr()}")

    def close(self, limit: float, result: Optional[Result] = None) -> None:
        for dialect, emulator in self.emulators.items():
            took, status = emulator.stop(signal.SIGINT, limit)
            if result is not None:
                result.add(f"{dialect} emulator", took, status, emulator.stderr())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(cycles: int, limit: float = 10.0, seed: int = 1, tree: Optional[Path] = None, modes: tuple[str, ...] = MODES,
        log=print) -> Result:
    result = Result()
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="atbridge-stops-") as work:
        rig = Rig(Path(work), tree, modes)
        try:
            for index in range(cycles):
                rig.check()
                rig.cycle(index, result, limit, rng)
                if (index + 1) % 25 == 0:
                    log(f"  {index + 1} cycles, slowest stop so far {max(result.times):.3f} s", flush=True)
        finally:
            rig.close(limit)
    return result


class Hog:
    """`count` busy processes for at most `seconds`."""

    def __init__(self, count: int, seconds: float) -> None:
        code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"
        self.processes = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(count)]

    def close(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--limit", type=float, default=10.0, help="seconds after its signal a bridge is killed")
    parser.add_argument("--hog", type=int, default=0, help="busy processes alongside")
    parser.add_argument("--hog-seconds", type=float, default=1800.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tree", type=Path, default=None, help="run the bridge of this checkout")
    parser.add_argument("--modes", default=",".join(MODES), help="what the firmware does at the signal, in turn")
    args = parser.parse_args(argv)
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load {load} at start, {args.hog} hog(s), bridge of {args.tree or 'this checkout'}",
          flush=True)
    hog = Hog(args.hog, args.hog_seconds) if args.hog else None
    try:
        result = run(args.cycles, args.limit, args.seed, args.tree, tuple(args.modes.split(",")))
    finally:
        if hog is not None:
            hog.close()
    times = result.times
    print(f"stops: {len(times)}, round trips: {result.round_trips}, not clean: {len(result.failures)}, "
          f"over {STOP_GOAL:.0f} s: {sum(t > STOP_GOAL for t in times)}")
    print(f"stop time: p50 {statistics.median(times) * 1000:.0f} ms, p99 {percentile(times, 0.99) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms")
    for failure in result.failures[:10]:
        print("\n== " + failure)
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
