"""The bridge's own I/O loop and ports with `atbridge tap`'s engine, untraced: bytes from the
firmware go to the module and back as they came.  bench_io --floor runs it beside socat, so that
the part of the bridge's cost that is Python I/O (the loop, the ports) shows apart from the part
that is translation (the engine).  Says one line on stderr once its pty link is made.
Run: python benchmarks/loop_passthrough.py HOST_LINK MODULE_PORT"""
from __future__ import annotations

import sys

from bridge.app.migration.tap import TapEngine
from bridge.bridging.trace import Trace
from bridge.io.bridge import BridgeRunner, run_until_signalled
from bridge.io.ports import open_port

if __name__ == "__main__":
    host, module = open_port(f"pty:{sys.argv[1]}"), open_port(sys.argv[2])
    print(f"loop pass-through: {host.name} <-> {module.name}", file=sys.stderr, flush=True)
    run_until_signalled(BridgeRunner(TapEngine(Trace(None)), host, module))
