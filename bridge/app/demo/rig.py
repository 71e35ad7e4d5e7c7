"""A bridge on real pseudo-terminals: scripted firmware <-> bridge <-> an emulated module of the
other dialect doing real HTTP.  The demo and the tests both stand on it."""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Optional

from bridge.bridging.engine import BridgeEngine
from bridge.io.bridge import BridgeRunner
from bridge.bridging.trace import Trace
from bridge.registry import make_host_side
from bridge.registry import make_module_side
from bridge.io.emulator import ModuleRunner
from bridge.device.hosts import HostsResolver
from bridge.device.fs import ModuleFileSystem
from bridge.net import NetworkExecutor
from bridge.io.ports import PtyPort, SerialPort, open_host_end
from bridge.app.demo.firmware import HostEnd


@dataclass
class Rig:
    firmware: HostEnd
    bridge: BridgeRunner
    emulator: ModuleRunner
    bridge_fs: ModuleFileSystem  # the file system the firmware's dialect sees (certificates ...)
    module_fs: ModuleFileSystem  # the emulated module's own


@contextmanager
def bridge_rig(host_dialect: str, module_dialect: str, workdir: Path, hosts: Optional[dict[str, list[str]]] = None,
               trace: Optional[BinaryIO] = None, trace_secrets: bool = False, echo: bool = False,
               host_model: Optional[str] = None) -> Iterator[Rig]:
    """Firmware speaking `host_dialect` drives, through a bridge, an emulated `module_dialect`
    module.  Both links are real ptys under `workdir`.  `host_model` is the model profile the
    bridge's side for the firmware plays (its dialect's default if None)."""
    module_fs = ModuleFileSystem(str(workdir / "module-fs"))
    bridge_fs = ModuleFileSystem(str(workdir / "bridge-fs"))
    resolver = HostsResolver(hosts or {})
    executor = NetworkExecutor(resolver, module_fs)
    module_pty, host_pty = str(workdir / "module.pty"), str(workdir / "host.pty")
    emulator = ModuleRunner(make_module_side(module_dialect, module_fs, resolver=resolver), PtyPort(module_pty),
                            executor.single).start()
    engine = BridgeEngine(make_module_side(host_dialect, bridge_fs, host_model), make_host_side(module_dialect),
                          Trace(trace, secrets=trace_secrets))
    bridge = BridgeRunner(engine, PtyPort(host_pty), SerialPort(module_pty)).start()
    firmware = HostEnd(open_host_end(host_pty))
    try:
        if not echo:
            firmware.transact("ATE0")
        yield Rig(firmware, bridge, emulator, bridge_fs, module_fs)
    finally:
        firmware.port.close()
        bridge.stop()
        emulator.stop()
        executor.close()
        assert not os.path.lexists(host_pty), "the pty link must be removed on stop"
