"""A bridge on real pseudo-terminals: firmware's end <-> bridge <-> an emulator of another dialect,
in this process (the demo's rig) or with the bridge as an `atbridge bridge` process."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

from bridge.io.bridge import BridgeRunner
from bridge.registry import make_module_side
from bridge.io.emulator import ModuleRunner
from bridge.device.hosts import HostsResolver
from bridge.device.fs import ModuleFileSystem
from bridge.net import NetworkExecutor
from bridge.io.ports import PtyPort, open_host_end
from bridge.app.demo.rig import bridge_rig

from .emulated import HostEnd


@contextmanager
def bridged(host_dialect: str, module_dialect: str, tmp_path, hosts: Optional[dict[str, list[str]]] = None,
            trace=None, trace_secrets: bool = False, echo: bool = False,
            host_model: Optional[str] = None) -> Iterator[tuple[HostEnd, BridgeRunner, ModuleRunner]]:
    """Firmware speaking `host_dialect` (the yielded HostEnd) drives, through a bridge, an
    emulated `module_dialect` module doing real HTTP.  Both links are real ptys: the demo's rig
    (bridge/app/demo/rig.py), yielded as (firmware end, bridge runner, emulator runner)."""
    with bridge_rig(host_dialect, module_dialect, tmp_path, hosts, trace, trace_secrets, echo, host_model) as rig:
        yield rig.firmware, rig.bridge, rig.emulator


@contextmanager
def cli_bridged(host_dialect: str, module_dialect: str, tmp_path, *bridge_args: str,
                hosts: Optional[dict[str, list[str]]] = None) -> Iterator[tuple[HostEnd, "CliBridge", ModuleRunner]]:
    """Like `bridged`, but the bridge is `atbridge bridge ... *bridge_args` run as a user runs it
    (a subprocess); the emulated module runs in this process.  Yields (firmware end, the bridge
    process wrapper, the emulator's runner); the bridge's stderr is in `.log` once it stopped."""
    import signal
    import subprocess
    import sys

    fs = ModuleFileSystem(str(tmp_path / "module-fs"))
    resolver = HostsResolver(hosts or {})
    executor = NetworkExecutor(resolver, fs)
    module_pty, host_pty = str(tmp_path / "module.pty"), str(tmp_path / "host.pty")
    emulator = ModuleRunner(make_module_side(module_dialect, fs, resolver=resolver), PtyPort(module_pty), executor.single).start()
    process = subprocess.Popen([sys.executable, "-m", "bridge.app.cli", "bridge", "--host", f"pty:{host_pty}",
                                "--host-dialect", host_dialect, "--module", module_pty, "--module-dialect", module_dialect,
                                *bridge_args], stderr=subprocess.PIPE, text=True)
    bridge = CliBridge(process)
    firmware = None
    try:
        bridge.banner = process.stderr.readline()  # printed once both ports are open
        assert "Ctrl-C stops" in bridge.banner, bridge.banner
        firmware = HostEnd(open_host_end(host_pty))
        firmware.transact("ATE0")
        yield firmware, bridge, emulator
    finally:
        if firmware is not None:
            firmware.port.close()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        finally:
            bridge.log = bridge.banner + process.stderr.read()
            emulator.stop()
            executor.close()
            fs.close()


class CliBridge:
    """An `atbridge bridge` process: its start-up banner and (after it stopped) its whole log."""

    def __init__(self, process) -> None:
        self.process = process
        self.banner = ""
        self.log = ""
