"""Faults on real ptys: a bridge whose module (an emulator) can be stopped and started again on
the same pty path, and whose firmware port can be closed and reopened.  Additive to bridged.py."""
from __future__ import annotations

import io
import os
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from bridge.bridging.engine import BridgeEngine
from bridge.bridging.run import BridgeRunner
from bridge.bridging.trace import Trace
from bridge.client import make_host_side
from bridge.demo.firmware import HostEnd
from bridge.emulator import make_module_side
from bridge.emulator.run import ModuleRunner
from bridge.net import HostsResolver, ModuleFileSystem, NetworkExecutor
from bridge.ports import PtyPort, SerialPort, open_host_end


class Log(io.StringIO):
    """The bridge's log (what it says on stderr), thread-safe, with a wait for a line."""

    def __init__(self) -> None:
        super().__init__()
        self._said = threading.Condition()

    def write(self, text: str) -> int:
        with self._said:
            count = super().write(text)
            self._said.notify_all()
        return count

    def wait_for(self, text: str, timeout: float = 10.0) -> str:
        with self._said:
            assert self._said.wait_for(lambda: text in self.getvalue(), timeout), (text, self.getvalue())
            return self.getvalue()


class Rig:
    """Firmware's end, a bridge and an emulated module, each on its own pty."""

    def __init__(self, host_dialect: str, module_dialect: str, tmp_path, hosts: Optional[dict[str, list[str]]],
                 default_ca: Optional[bytes] = None, prepare: Optional[Callable[[str], None]] = None) -> None:
        self.host_dialect, self.module_dialect = host_dialect, module_dialect
        self.tmp_path = tmp_path
        self.fs = ModuleFileSystem(str(tmp_path / "module-fs"))
        self.resolver = HostsResolver(hosts or {})
        self.executor = NetworkExecutor(self.resolver, self.fs, default_ca=default_ca)
        self.module_pty = str(tmp_path / "module.pty")
        self.host_pty = str(tmp_path / "host.pty")
        self.log = Log()
        self.trace = io.BytesIO()
        self.emulator: Optional[ModuleRunner] = None
        self.start_module()
        if prepare is not None:  # earlier firmware on the module's port, before the bridge opens it
            prepare(self.module_pty)
        engine = BridgeEngine(make_module_side(host_dialect, ModuleFileSystem(str(tmp_path / "bridge-fs"))),
                              make_host_side(module_dialect), Trace(self.trace, secrets=True))
        self.bridge = BridgeRunner(engine, PtyPort(self.host_pty), SerialPort(self.module_pty),
                                   reopen_host=lambda: PtyPort(self.host_pty),
                                   reopen_module=lambda: SerialPort(self.module_pty),
                                   new_host_side=lambda: make_host_side(module_dialect), log=self.log).start()
        self.firmware = HostEnd(open_host_end(self.host_pty))

    def start_module(self) -> ModuleRunner:
        """A new emulator process-alike on the module pty path (its state starts afresh)."""
        side = make_module_side(self.module_dialect, self.fs, resolver=self.resolver)
        self.emulator = ModuleRunner(side, PtyPort(self.module_pty), self.executor.single).start()
        return self.emulator

    def stop_module(self) -> None:
        """The module goes away: its pty closes (the bridge's end reads EIO), its path is gone."""
        assert self.emulator is not None
        self.emulator.stop()
        self.emulator = None

    def reopen_firmware(self) -> HostEnd:
        self.firmware.port.close()
        self.firmware = HostEnd(open_host_end(self.host_pty))
        return self.firmware

    def close(self) -> None:
        self.firmware.port.close()
        self.bridge.stop()
        if self.emulator is not None:
            self.emulator.stop()
        self.executor.close()
        self.fs.close()
        assert not os.path.lexists(self.host_pty)


@contextmanager
def rig(host_dialect: str, module_dialect: str, tmp_path, hosts: Optional[dict[str, list[str]]] = None,
        default_ca: Optional[bytes] = None, prepare: Optional[Callable[[str], None]] = None) -> Iterator[Rig]:
    """A Rig with echo off at the firmware's end; `prepare(module_pty)` runs before the bridge starts."""
    made = Rig(host_dialect, module_dialect, tmp_path, hosts, default_ca, prepare)
    try:
        made.firmware.transact("ATE0")
        yield made
    finally:
        made.close()
