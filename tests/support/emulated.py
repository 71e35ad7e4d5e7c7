"""An emulator on a real pseudo-terminal, and a host end to talk to it like firmware does."""
from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from typing import Iterator, Optional

from bridge.emulator import make_module_side
from bridge.emulator.run import ModuleRunner
from bridge.net import HostsResolver, ModuleFileSystem, NetworkExecutor
from bridge.ports import PtyPort, open_host_end


class HostEnd:
    """Firmware's view of the port: write commands, read until a pattern, with a deadline."""

    def __init__(self, serial_port):
        self.port = serial_port
        self.seen = bytearray()  # everything read so far
        self.cursor = 0  # start of what the next expect() looks at

    def send(self, data: bytes | str) -> None:
        self.port.write(data.encode() if isinstance(data, str) else data)

    def command(self, line: str) -> None:
        self.send(line + "\r")

    def expect(self, pattern: bytes | str, timeout: float = 10.0) -> re.Match:
        """Read until `pattern` (a regex) matches what came after the last match."""
        regex = re.compile(pattern.encode() if isinstance(pattern, str) else pattern, re.S)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.seen, self.cursor)
            if match:
                self.cursor = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {regex.pattern!r}; got {bytes(self.seen[self.cursor:])[-500:]!r}")
            self.port.timeout = min(left, 0.5)
            self.seen += self.port.read(max(1, self.port.in_waiting))

    def read_exactly(self, count: int, timeout: float = 30.0) -> bytes:
        """`count` bytes after the last match."""
        deadline = time.monotonic() + timeout
        while len(self.seen) - self.cursor < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out: {len(self.seen) - self.cursor} of {count} bytes")
            self.port.timeout = min(left, 0.5)
            self.seen += self.port.read(max(1, min(self.port.in_waiting, count)))
        data = bytes(self.seen[self.cursor:self.cursor + count])
        self.cursor += count
        return data

    def transact(self, line: str, final: str = r"\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n", timeout: float = 10.0) -> bytes:
        """Send a command; return everything up to and including its final result."""
        start = self.cursor
        self.command(line)
        match = self.expect(final, timeout)
        return bytes(self.seen[start:match.end()])


@contextmanager
def emulator(dialect: str, tmp_path, hosts: Optional[dict[str, list[str]]] = None, model: Optional[str] = None,
             default_ca: Optional[bytes] = None, echo: bool = False) -> Iterator[tuple[HostEnd, ModuleRunner]]:
    """A running emulator of `dialect` on a pty under `tmp_path`; yields (host end, runner).
    Echo is turned off first (ATE0) unless `echo`."""
    fs = ModuleFileSystem(str(tmp_path / "fs"))
    resolver = HostsResolver(hosts or {})
    side = make_module_side(dialect, fs, model)
    port = PtyPort(str(tmp_path / f"{dialect}.pty"))
    executor = NetworkExecutor(resolver, fs, default_ca=default_ca)
    runner = ModuleRunner(side, port, executor.single).start()
    serial_port = open_host_end(str(tmp_path / f"{dialect}.pty"))
    host = HostEnd(serial_port)
    try:
        if not echo:
            host.transact("ATE0")
        yield host, runner
    finally:
        serial_port.close()
        runner.stop()
        executor.close()
        assert not os.path.lexists(str(tmp_path / f"{dialect}.pty")), "the pty link must be removed on stop"
