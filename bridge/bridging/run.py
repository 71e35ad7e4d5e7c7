"""Running a bridge engine between two ports on the one I/O loop."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import BinaryIO, Callable, Optional, Union

from ..loop import Loop, run_until_signalled as stop_on_signal
from ..net import ModuleFileSystem
from ..ports import Port
from .engine import BridgeEngine


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
    def __init__(self, engine: BridgeEngine, host_port: Port, module_port: Port):
        self.engine = engine
        self.host_port = host_port
        self.module_port = module_port
        self.loop = Loop()
        self._thread: Optional[threading.Thread] = None

    def run(self) -> None:
        self.loop.read_port(self.host_port, "host")
        self.loop.read_port(self.module_port, "module")
        self._flush()  # the host side's start-up commands
        self.loop.run(self._handle, self.engine.next_deadline, self._on_time)

    def start(self) -> "BridgeRunner":
        self._thread = threading.Thread(target=self.run, name="bridge-runner", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.loop.stop()
        self.host_port.close()
        self.module_port.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _handle(self, item: tuple, now: float) -> None:
        if item[0] == "port" and item[2]:
            if item[1] == "host":
                self.engine.from_host(item[2], now)
            else:
                self.engine.from_module(item[2], now)
        self._flush()

    def _on_time(self, now: float) -> None:
        self.engine.on_time(now)
        self._flush()

    def _flush(self) -> None:
        to_module = self.engine.to_module()
        if to_module:
            self.module_port.write(to_module)
        to_host = self.engine.to_host()
        if to_host:
            self.host_port.write(to_host)



def run_until_signalled(runner: BridgeRunner) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly."""
    stop_on_signal(runner.loop, runner.run, (runner.host_port, runner.module_port))
