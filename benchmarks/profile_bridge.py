"""Where the bridge's CPU goes: a bridged download (Neoway firmware -> OneMO module by default)
with the bridge process run under cProfile; prints the top functions by own and by cumulative
time, and the download's speed (SHA-256 checked).
Run: python benchmarks/profile_bridge.py [--size-mb 100] [--host-dialect neoway] [--top 5]
(PYTHONPATH=<another checkout> profiles that checkout's bridge the same way.)"""
from __future__ import annotations

import argparse
import io
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_bridge import _spawn, _stop, download  # noqa: E402

from bridge.app.demo.firmware import HostEnd  # noqa: E402
from bridge.app.demo.server import DemoServer  # noqa: E402
from bridge.io.ports import open_host_end  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=100)
    parser.add_argument("--host-dialect", default="neoway", choices=("neoway", "onemo"))
    parser.add_argument("--top", type=int, default=5)
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
            bridge = _spawn(["bridge", "--host", f"pty:{host_link}", "--host-dialect", host, "--module",
                             str(module_link), "--module-dialect", module], host_link, profile=profile)
            firmware = HostEnd(open_host_end(str(host_link)))
            firmware.transact("ATE0")
            seconds, intact = download(firmware, host, server, size)
            firmware.port.close()
            _stop(bridge)
        finally:
            _stop(emulator)
            server.close()
        if args.save is not None:
            args.save.write_bytes(profile.read_bytes())
        print(f"{host} firmware -> bridge (under cProfile) -> {module} module: {size / 1e6:.0f} MB in {seconds:.1f} s, "
              f"{size / seconds / 1e6:.1f} MB/s, SHA-256 {'identical' if intact else 'DIFFERENT'}")
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            stats = pstats.Stats(str(profile), stream=out).sort_stats(key)
            if key == "cumulative":  # the bridge's own functions, not the start-up wrappers around them
                stats.print_stats(r"bridge/(?!cli\.py|__main__)", args.top)
            else:
                stats.print_stats(args.top)
            lines = out.getvalue().splitlines()
            start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
            print(f"top {args.top} by {key} time:")
            print("\n".join(lines[start - 1 if start else 0:start + args.top + 1]))


if __name__ == "__main__":
    main()
