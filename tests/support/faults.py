"""Faults on real ptys: a bridge whose module (an emulator) can be stopped and started again on
the same pty path, and whose firmware port can be closed and reopened.  Additive to bridged.py."""
from __future__ import annotations

import io
import os
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from bridge.bridging.engine import BridgeEngine
from bridge.io.bridge import BridgeRunner
from bridge.bridging.trace import Trace
from bridge.registry import make_host_side
from bridge.app.demo.firmware import HostEnd
from bridge.registry import make_module_side
from bridge.io.emulator import ModuleRunner
from bridge.device.hosts import HostsResolver
from bridge.device.fs import ModuleFileSystem
from bridge.net import NetworkExecutor
from bridge.io.ports import PtyPort, SerialPort, open_host_end


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
                 default_ca: Optional[bytes] = None, prepare: Optional[Callable[[str], None]] = None,
                 gadget: bool = False) -> None:
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
        # The firmware's port: a pty the bridge makes (pty:PATH), or with `gadget` a device the
        # bridge opens by path, which this end can unplug and plug in again.
        self.gadget = Gadget(self.host_pty) if gadget else None
        host_port = (lambda: SerialPort(self.host_pty)) if gadget else (lambda: PtyPort(self.host_pty))
        self.bridge = BridgeRunner(engine, host_port(), SerialPort(self.module_pty),
                                   reopen_host=host_port,
                                   reopen_module=lambda: SerialPort(self.module_pty),
                                   new_host_side=lambda: make_host_side(module_dialect), log=self.log).start()
        self.firmware = HostEnd(self.gadget if gadget else open_host_end(self.host_pty))

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
        assert self.gadget is not None or not os.path.lexists(self.host_pty)


@contextmanager
def rig(host_dialect: str, module_dialect: str, tmp_path, hosts: Optional[dict[str, list[str]]] = None,
        default_ca: Optional[bytes] = None, prepare: Optional[Callable[[str], None]] = None,
        gadget: bool = False) -> Iterator[Rig]:
    """A Rig with echo off at the firmware's end; `prepare(module_pty)` runs before the bridge starts."""
    made = Rig(host_dialect, module_dialect, tmp_path, hosts, default_ca, prepare, gadget)
    try:
        made.firmware.transact("ATE0")
        yield made
    finally:
        made.close()


class Gadget:
    """A serial device that can vanish and re-enumerate (as a USB gadget does): a pty whose slave
    is linked at `path`, the bridge's side; this end (the master) is the firmware's, with the
    read/write/timeout/in_waiting a HostEnd uses."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.timeout: Optional[float] = 5.0
        self._plug()

    def _plug(self) -> None:
        import tty

        self.master, self._slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self._slave)
        if os.path.lexists(self.path):
            os.unlink(self.path)
        os.symlink(os.ttyname(self._slave), self.path)

    def unplug(self) -> None:
        """The device goes: the bridge's end reads EIO, the path is gone."""
        os.unlink(self.path)
        for fd in (self.master, self._slave):
            os.close(fd)
        self.master = self._slave = -1

    def replug(self) -> None:
        self._plug()

    @property
    def in_waiting(self) -> int:
        import fcntl
        import struct
        import termios

        return struct.unpack("i", fcntl.ioctl(self.master, termios.FIONREAD, b"\0\0\0\0"))[0]

    def read(self, count: int = 1) -> bytes:
        import select

        ready, _, _ = select.select([self.master], [], [], self.timeout)
        return os.read(self.master, count) if ready else b""

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view):]
        return len(data)

    def close(self) -> None:
        if self.master >= 0:
            self.unplug()
