"""Running a bridge engine between two ports on the one I/O loop."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import BinaryIO, Callable, Optional, Protocol, TextIO, Union

from bridge.io.loop import Loop, run_until_signalled as stop_on_signal
from bridge.device.fs import ModuleFileSystem
from bridge.io.ports import Port
from bridge.roles.host import HostSide
from bridge.io.supervisor import PortKeeper


class Engine(Protocol):
    """What BridgeRunner drives: a bridge.bridging.engine.BridgeEngine, or `atbridge tap`'s
    pass-through (bridge.app.migration.tap), which has no requests to end when the module goes."""

    def from_host(self, data: bytes, now: float) -> None: ...
    def from_module(self, data: bytes, now: float) -> None: ...
    def on_time(self, now: float) -> None: ...
    def next_deadline(self) -> Optional[float]: ...
    def to_module(self) -> bytes: ...
    def to_host(self) -> bytes: ...

    def module_lost(self, now: float, detail: str) -> None:
        """The module's port failed."""

    def module_back(self, host_side: Optional[HostSide], now: float) -> None:
        """The module's port is open again; `host_side`: a fresh one of its dialect (None: the same)."""


class BridgeFileSystem(ModuleFileSystem):
    """The bridge's own file system (`atbridge bridge --fs-root DIR`): what it keeps on the
    firmware's behalf -- OneMO AT+MHTTPDLFILE targets when the module is a Neoway, Neoway
    AT+HTTPGET downloads and the certificate files AT+HTTPSCFG names when it is a OneMO.  Module
    paths map under the root as the firmware names them; `announce` hears of each file the first
    time it is written (module path, host path)."""

    def __init__(self, root: Union[str, os.PathLike, None], announce: Callable[[str, Path], None]) -> None:
        super().__init__(root)
        self._announce = announce
        self._announced: set[Path] = set()

    def open_write(self, path: str, append: bool = False) -> BinaryIO:
        handle = super().open_write(path, append)
        target = self.resolve(path)
        if target not in self._announced:
            self._announced.add(target)
            self._announce(path, target)
        return handle


class BridgeRunner:
    """Runs an engine between the host's (firmware's) port and the module's port.  A port that
    fails is reopened by `reopen_host` / `reopen_module` (when given) with bounded back-off; while
    the module is away the firmware gets its dialect's errors, and once it is back a fresh host
    side from `new_host_side` re-synchronises it (its start-up: echo off, stale state closed)."""

    def __init__(self, engine: Engine, host_port: Port, module_port: Port, *,
                 reopen_host: Optional[Callable[[], Port]] = None,
                 reopen_module: Optional[Callable[[], Port]] = None,
                 new_host_side: Optional[Callable[[], HostSide]] = None,
                 log: Optional[TextIO] = None):
        self.engine = engine
        self.loop = Loop()
        self.new_host_side = new_host_side
        self.keepers = {"host": PortKeeper("host", host_port, reopen_host, log),
                        "module": PortKeeper("module", module_port, reopen_module, log)}
        self._host, self._module = self.keepers["host"], self.keepers["module"]
        self._both = (self._host, self._module)
        self._thread: Optional[threading.Thread] = None

    @property
    def host_port(self) -> Port:
        return self.keepers["host"].port

    @property
    def module_port(self) -> Port:
        return self.keepers["module"].port

    def run(self) -> None:
        self.loop.read_port(self.host_port, "host")
        self.loop.read_port(self.module_port, "module")
        self._flush()  # the host side's start-up commands
        self.loop.run(self._handle, self._next_deadline, self._on_time)

    def start(self) -> "BridgeRunner":
        self._thread = threading.Thread(target=self.run, name="bridge-runner", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the loop, wait for its thread, then close the ports (not under a write)."""
        self.loop.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.close_ports()

    def close_ports(self) -> None:
        for keeper in self.keepers.values():
            keeper.port.close()

    def _handle(self, item: tuple, now: float) -> None:
        if item[0] == "port":
            keeper = self._host if item[1] == "host" else self._module
            if not item[2]:
                self._lost(keeper, now)
            elif not keeper.lost:
                if keeper is self._host:
                    self.engine.from_host(item[2], now)
                else:
                    self.engine.from_module(item[2], now)
        elif item[0] == "reopened":
            keeper = self.keepers[item[1]]
            if keeper.opened(self.loop, item[2], now) and keeper.tag == "module":
                self._resync(keeper, now)
        self._flush()

    def _lost(self, keeper: PortKeeper, now: float) -> None:
        if keeper.lost or self.loop.stopped:
            return
        keeper.give_up(self.loop, now)
        if keeper.tag == "module":
            self.engine.module_lost(now, f"module port {keeper.port.name} lost")
            keeper.say("requests in flight ended with the firmware's dialect's error; commands get errors until the module is back")

    def _next_deadline(self) -> Optional[float]:
        due = self.engine.next_deadline()
        for keeper in self._both:
            other = keeper.next_deadline()
            if other is not None and (due is None or other < due):
                due = other
        return due

    def _on_time(self, now: float) -> None:
        for keeper in self.keepers.values():
            keeper.attempt(self.loop, now)  # its outcome comes back as a "reopened" item
        self.engine.on_time(now)
        self._flush()

    def _resync(self, keeper: PortKeeper, now: float) -> None:
        if self.new_host_side is None:
            keeper.say("no way to make a fresh host side; the module is used as it is")
            self.engine.module_back(None, now)
            return
        self.engine.module_back(self.new_host_side(), now)
        keeper.say("module re-synchronising: the host side's start-up sent (echo off, error reports, stale instances/links closed)")

    def _flush(self) -> None:
        to_module = self.engine.to_module()
        if to_module and not self._module.lost:
            self._module.port.write(to_module)
        to_host = self.engine.to_host()
        if to_host and not self._host.lost:
            self._host.port.write(to_host)


def run_until_signalled(runner: BridgeRunner) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly."""
    try:
        stop_on_signal(runner.loop, runner.run, ())
    finally:
        runner.close_ports()
