"""An emulator on a real pseudo-terminal, and a host end to talk to it like firmware does."""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator, Optional

from bridge.registry import make_module_side
from bridge.io.emulator import ModuleRunner
from bridge.device.hosts import HostsResolver
from bridge.device.fs import ModuleFileSystem
from bridge.net import NetworkExecutor
from bridge.app.demo.firmware import HostEnd
from bridge.io.ports import PtyPort, open_host_end


@contextmanager
def emulator(dialect: str, tmp_path, hosts: Optional[dict[str, list[str]]] = None, model: Optional[str] = None,
             default_ca: Optional[bytes] = None, echo: bool = False) -> Iterator[tuple[HostEnd, ModuleRunner]]:
    """A running emulator of `dialect` on a pty under `tmp_path`; yields (host end, runner).
    Echo is turned off first (ATE0) unless `echo`."""
    fs = ModuleFileSystem(str(tmp_path / "fs"))
    resolver = HostsResolver(hosts or {})
    side = make_module_side(dialect, fs, model, resolver=resolver)
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
