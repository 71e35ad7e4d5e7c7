"""Peak memory of the library's fetch() against the same body fetched by plain Python.

For each size (default 1, 10, 100 MB) and dialect, alternately, --runs times, each in a process of
its own (so its VmHWM is its own):
- library: `open_module(pty)` on an emulator (`atbridge emulate DIALECT`), then `fetch("GET", ...)`,
  the body checked by SHA-256;
- baseline: `urllib.request` reads the same URL from the same server straight into one BytesIO.
Printed: min/median/max peak RSS of each, the library's peak over the body size (goal: at most
body + 40 MB), and the ratio library/baseline.
Run: python benchmarks/bench_library.py [--sizes 1,10,100] [--runs 3] [--dialects onemo,neoway]
"""
from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_bridge import _spawn, _stop  # noqa: E402

from bridge.app.demo.server import DemoServer, stream_sha256  # noqa: E402

MB = 1_000_000
CHILD = r"""
import hashlib, io, sys, urllib.request
kind, target, url, size, expected = sys.argv[1:6]
if kind == "library":
    from bridge.client import open_module
    with open_module(target, sys.argv[6]) as module:
        body = module.fetch("GET", url).body
else:
    buffer = io.BytesIO()
    with urllib.request.urlopen(url) as response:
        while chunk := response.read(1 << 16):
            buffer.write(chunk)
    body = buffer.getvalue()
assert len(body) == int(size) and hashlib.sha256(body).hexdigest() == expected, "body mismatch"
# VmHWM, the peak of this process's own memory: ru_maxrss would carry the parent's peak over
# fork and exec (Linux keeps the larger), and report the benchmark's own size for small bodies
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def peak_kib(kind: str, target: str, url: str, size: int, dialect: str) -> int:
    args = [sys.executable, "-c", CHILD, kind, target, url, str(size), stream_sha256(size, 9), dialect]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"{kind} fetch failed: {done.stderr[-2000:]}")
    return int(done.stdout.split()[-1])


def spread(values: list[float]) -> str:
    return f"{min(values):7.1f} {statistics.median(values):7.1f} {max(values):7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,100", help="MB, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dialects", default="onemo,neoway")
    options = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} {platform.node()} {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}; peak RSS in MiB: min median max")
    server = DemoServer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for dialect in options.dialects.split(","):
                link = Path(tmp) / f"{dialect}-module"
                link_up = ["--link", "up"] if dialect == "neoway" else []
                emulator = _spawn(["emulate", dialect, "--port", f"pty:{link}", *link_up], link)
                try:
                    for size_mb in (int(s) for s in options.sizes.split(",")):
                        measure(dialect, str(link), server, size_mb, options.runs)
                finally:
                    _stop(emulator)
    finally:
        server.close()


def measure(dialect: str, link: str, server: DemoServer, size_mb: int, runs: int) -> None:
    size = size_mb * MB
    url = f"http://127.0.0.1:{server.http_port}/stream/{size}?seed=9"
    library, baseline = [], []
    for _ in range(runs):
        library.append(peak_kib("library", link, url, size, dialect) / 1024)
        baseline.append(peak_kib("baseline", link, url, size, dialect) / 1024)
    over = [peak - size / 2**20 for peak in library]
    ratios = [a / b for a, b in zip(library, baseline)]
    print(f"{dialect:6} {size_mb:4} MB  library {spread(library)}  urllib {spread(baseline)}  "
          f"library-body {spread(over)} (goal <= {40 * MB / 2**20:.1f}, 40 MB)  ratio {min(ratios):.2f} {statistics.median(ratios):.2f} {max(ratios):.2f}")


if __name__ == "__main__":
    main()
