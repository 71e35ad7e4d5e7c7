"""`atbridge demo`: a local HTTP(S) server, an emulated module, the bridge and scripted firmware,
all on virtual ports; both sides of every conversation printed; a pass/fail summary."""
from __future__ import annotations

import io
import json
import tempfile
import time
from pathlib import Path
from typing import Callable

from bridge.app.demo.rig import bridge_rig
from bridge.app.demo.scenarios import FIRMWARE, Context, StepFailed
from bridge.app.demo.server import DemoServer

DIRECTIONS = (("neoway", "onemo"), ("onemo", "neoway"))
ARROWS = {"host->bridge": "firmware -> bridge", "bridge->host": "bridge -> firmware",
          "bridge->module": "bridge -> module  ", "module->bridge": "module -> bridge  "}
SHOWN = 160  # bytes of one chunk shown before eliding


def _printable(data: str) -> str:
    text = data.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= SHOWN else f"{text[:SHOWN]}... ({len(data)} characters)"


def _conversation(trace: io.BytesIO, start: int, say: Callable[[str], None], verbose: bool) -> int:
    """Print the trace records after byte `start`; returns the new end."""
    records = trace.getvalue()[start:].decode("utf-8", errors="replace").splitlines()
    for line in records:
        record = json.loads(line)
        if "data" in record and verbose:
            data = record["data"] if isinstance(record["data"], str) else f"<{len(record['data']['base64']) * 3 // 4} binary bytes>"
            say(f"      {ARROWS.get(record['dir'], record['dir'])}  {_printable(data)}")
    return len(trace.getvalue())


def run_demo(say: Callable[[str], None] = print, verbose: bool = True) -> bool:
    """Run every step in both directions; True when all passed."""
    server = DemoServer()
    results: list[tuple[str, str, bool, str]] = []
    try:
        for host_dialect, module_dialect in DIRECTIONS:
            title = f"{host_dialect} firmware -> atbridge -> emulated {module_dialect} module"
            say(f"\n=== {title} ===")
            with tempfile.TemporaryDirectory(prefix="atbridge-demo-") as workdir:
                trace = io.BytesIO()
                with bridge_rig(host_dialect, module_dialect, Path(workdir), trace=trace) as rig:
                    ctx = Context(rig.firmware, server, lambda path, pem: rig.bridge_fs.write_file(path, pem))
                    seen = _conversation(trace, 0, say, False)
                    for name, step in FIRMWARE[host_dialect]:
                        say(f"\n  -- {name}")
                        started = time.monotonic()
                        try:
                            detail, passed = step(ctx), True
                        except (StepFailed, AssertionError) as exc:
                            detail, passed = f"FAILED: {exc}", False
                        seen = _conversation(trace, seen, say, verbose)
                        say(f"  {'PASS' if passed else 'FAIL'} {name}: {detail} ({time.monotonic() - started:.2f} s)")
                        results.append((title, name, passed, detail))
    finally:
        server.close()
    say("\n=== summary ===")
    for title, name, passed, detail in results:
        say(f"  {'PASS' if passed else 'FAIL'}  {title}: {name}")
    passed = sum(1 for r in results if r[2])
    say(f"{passed} passed, {len(results) - passed} failed")
    return passed == len(results)
