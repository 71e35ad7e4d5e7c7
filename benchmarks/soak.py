"""Soak: many requests through one bridge, per direction, nothing lost, memory flat.

For each direction (firmware dialect -> module dialect): an emulated module of the module's
dialect on a pty (in this process), `atbridge bridge` as a subprocess between it and a second pty,
and on that pty "firmware": the library's own host side of the firmware's dialect
(bridge.io.client.ModuleClient), which speaks the dialect's real AT bytes.  Requests: GET, POST and
HEAD, 0 B to --max-size, a share of them HTTPS (loopback servers with a throw-away CA; the module
is told not to verify), in a seeded order.  Every body is checked by SHA-256 (GET: the blob's
known digest; POST: the digest the server computed of what arrived; HEAD: no body, the length
header).  The bridge process's RSS (/proc/PID/status VmRSS) is read after start-up, after a
warm-up and at the end.

Run: python benchmarks/soak.py [--requests 1000] [--max-size 1048576] [--https-share 0.2]
Prints one line of figures per direction; exit status 1 if any request was lost.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bridge.io.client import ModuleClient, ModuleError  # noqa: E402
from bridge.registry import make_host_side  # noqa: E402
from bridge.registry import make_module_side  # noqa: E402
from bridge.io.emulator import ModuleRunner  # noqa: E402
from bridge.model import BodyChunk, Failure, Method, Request, ResponseHead, Timeouts, TlsSettings  # noqa: E402
from bridge.device.fs import ModuleFileSystem  # noqa: E402
from bridge.device.hosts import HostsResolver  # noqa: E402
from bridge.net import NetworkExecutor  # noqa: E402
from bridge.io.ports import PtyPort, SerialPort  # noqa: E402
from support.servers import BlobServer, blob_sha256, make_ca, server_context  # noqa: E402

DIRECTIONS = (("onemo", "neoway"), ("neoway", "onemo"))
POST_MAX = 1024  # both Neoway sides take a request body whole, at most 2048 bytes with its head
WARM_UP = 10  # requests before the "start" RSS is read


@dataclass
class Figures:
    direction: str
    requests: int = 0
    ok: int = 0
    lost: list[str] = field(default_factory=list)
    by_method: dict[str, int] = field(default_factory=dict)
    https: int = 0
    body_bytes: int = 0
    seconds: float = 0.0
    rss_after_start_kb: int = 0
    rss_start_kb: int = 0
    rss_end_kb: int = 0

    def line(self) -> str:
        growth = (self.rss_end_kb - self.rss_start_kb) / 1024
        methods = " ".join(f"{m}={n}" for m, n in sorted(self.by_method.items()))
        return (f"soak {self.direction}: requests={self.requests} ok={self.ok} lost={len(self.lost)} "
                f"({methods}, https={self.https}) bodies={self.body_bytes / 1e6:.1f} MB in {self.seconds:.1f} s; "
                f"bridge RSS after start-up {self.rss_after_start_kb / 1024:.1f} MB, after {WARM_UP} requests "
                f"{self.rss_start_kb / 1024:.1f} MB, at end {self.rss_end_kb / 1024:.1f} MB (growth {growth:+.1f} MB)")


@dataclass
class Planned:
    method: str
    size: int
    seed: int
    https: bool


def plan(count: int, max_size: int, https_share: float, seed: int) -> list[Planned]:
    """A seeded mix: half GET, a quarter POST, a quarter HEAD; sizes log-uniform from 0 B to
    max_size with both ends always present."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        method = rng.choice(("GET", "GET", "POST", "HEAD"))
        top = POST_MAX if method == "POST" else max_size
        if index % 50 == 0:
            size = 0
        elif index % 50 == 1:
            size = top
        else:
            size = min(top, int(math.exp(rng.uniform(0, math.log(top + 1)))) - 1)
        out.append(Planned(method, max(0, size), rng.randrange(1 << 30), rng.random() < https_share))
    return out


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def body_of(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _exchange(client: ModuleClient, request: Request, on_body) -> tuple[Optional[str], Optional[ResponseHead]]:
    """Run `request`, handing each body piece to `on_body`: (what was wrong or None, the head)."""
    head: Optional[ResponseHead] = None
    for event in client.request(request):
        if isinstance(event, Failure):
            return f"{event.kind.value}: {event.detail}", None
        if isinstance(event, ResponseHead):
            head = event
        elif isinstance(event, BodyChunk):
            on_body(event.data)
    if head is None or head.status != 200:
        return f"status {getattr(head, 'status', None)}", None
    return None, head


def one(client: ModuleClient, item: Planned, base: str, timeout: float) -> tuple[Optional[str], int]:
    """A GET or HEAD; (None, body bytes) when it checked out, else (what was wrong, 0)."""
    tls = TlsSettings() if item.https else None  # VerifyMode.NONE: the module is not given the CA
    timeouts = Timeouts(connect=timeout, response=timeout)
    request = Request(Method(item.method), f"{base}/blob/{item.size}?seed={item.seed}", [], None, tls, timeouts)
    digest = hashlib.sha256()
    lengths = []

    def take(data: bytes) -> None:
        digest.update(data)
        lengths.append(len(data))

    wrong, head = _exchange(client, request, take)
    if wrong:
        return wrong, 0
    length = sum(lengths)
    if item.method == "GET":
        ok = length == item.size and digest.hexdigest() == blob_sha256(item.size, item.seed)
        return (None, length) if ok else (f"GET body {length} B, sha256 mismatch", 0)
    if item.method == "HEAD":
        declared = next((v for k, v in head.headers if k.lower() == "content-length"), None)
        ok = length == 0 and (declared is None or int(declared) == item.size)
    return (None, 0) if ok else (f"HEAD body {length} B, Content-Length {declared}", 0)


def run_direction(firmware: str, module: str, items: list[Planned], timeout: float, log=print) -> Figures:
    figures = Figures(f"{firmware}->{module}")
    ca = make_ca()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp, BlobServer() as plain, \
            BlobServer(tls_context=server_context(ca)) as secure:
        root = Path(tmp)
        fs = ModuleFileSystem(str(root / "module-fs"))
        executor = NetworkExecutor(HostsResolver({}), fs)
        module_pty, host_pty = str(root / "module.pty"), str(root / "host.pty")
        emulator = ModuleRunner(make_module_side(module, fs, resolver=HostsResolver({})), PtyPort(module_pty),
                                executor.single).start()
        bridge = subprocess.Popen([sys.executable, "-m", "bridge.app.cli", "bridge", "--host", f"pty:{host_pty}",
                                   "--host-dialect", firmware, "--module", module_pty, "--module-dialect", module,
                                   "--fs-root", str(root / "bridge-fs")],
                                  stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
        client = None
        try:
            banner = bridge.stderr.readline()
            if "Ctrl-C stops" not in banner:
                raise RuntimeError(f"the bridge did not start: {banner}{bridge.stderr.read()}")
            figures.rss_after_start_kb = rss_kb(bridge.pid)
            client = ModuleClient(SerialPort(host_pty), make_host_side(firmware))
            client.wait_ready(timeout=30)
            started = time.monotonic()
            for index, item in enumerate(items):
                if index == WARM_UP:
                    figures.rss_start_kb = rss_kb(bridge.pid)
                base = secure.url("").rstrip("/") if item.https else plain.url("").rstrip("/")
                try:
                    wrong, size = one_checked(client, item, base, timeout)
                except ModuleError as exc:
                    wrong, size = f"{exc}", 0
                figures.requests += 1
                figures.by_method[item.method] = figures.by_method.get(item.method, 0) + 1
                figures.https += item.https
                if wrong is None:
                    figures.ok += 1
                    figures.body_bytes += size
                else:
                    figures.lost.append(f"#{index} {item}: {wrong}")
                    log(f"  lost #{index} {item.method} {item.size} B https={item.https}: {wrong}")
            figures.seconds = time.monotonic() - started
            figures.rss_end_kb = rss_kb(bridge.pid)
            if not figures.rss_start_kb:
                figures.rss_start_kb = figures.rss_end_kb
        finally:
            if client is not None:
                client.close()
            bridge.send_signal(signal.SIGINT)
            try:
                bridge.wait(timeout=10)
            except subprocess.TimeoutExpired:
                bridge.kill()
            bridge.stderr.close()
            emulator.stop()
            executor.close()
            fs.close()
    return figures


def one_checked(client: ModuleClient, item: Planned, base: str, timeout: float) -> tuple[Optional[str], int]:
    """One request of any method, checked (a POST by the digest the server computed)."""
    if item.method != "POST":
        return one(client, item, base, timeout)
    tls = TlsSettings() if item.https else None
    sent = body_of(item.size, item.seed)
    request = Request(Method.POST, f"{base}/echo/sha256", [("Content-Type", "application/octet-stream")], sent, tls,
                      Timeouts(connect=timeout, response=timeout))
    parts: list[bytes] = []
    wrong, _ = _exchange(client, request, parts.append)
    if wrong:
        return wrong, 0
    echoed = json.loads(b"".join(parts))
    if echoed.get("length") != item.size or echoed.get("sha256") != hashlib.sha256(sent).hexdigest():
        return f"POST echoed {echoed}", 0
    return None, item.size


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="per direction")
    parser.add_argument("--max-size", type=int, default=1 << 20)
    parser.add_argument("--https-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=30.0, help="each request's connect and response timeout, s")
    parser.add_argument("--direction", choices=[f"{a}-{b}" for a, b in DIRECTIONS], action="append")
    args = parser.parse_args(argv)
    chosen = [tuple(d.split("-")) for d in args.direction] if args.direction else list(DIRECTIONS)
    lost = 0
    for firmware, module in chosen:
        items = plan(args.requests, args.max_size, args.https_share, args.seed)
        figures = run_direction(firmware, module, items, args.timeout)
        print(figures.line(), flush=True)
        lost += len(figures.lost)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
