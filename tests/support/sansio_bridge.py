"""The bridge engine in memory (no ports, time as a value) between OneMO firmware and a scripted
Neoway module: the module's answer to each command line the bridge writes is a function's."""
from __future__ import annotations

from bridge.bridging.engine import BridgeEngine
from bridge.device.fs import ModuleFileSystem
from bridge.registry import make_host_side, make_module_side


class SansIoBridge:
    """The bridge engine in memory, time as a value, with a scripted Neoway module: `answer`
    gives the module's bytes for each command line the bridge writes (default: OK)."""

    def __init__(self, tmp_path, answer):
        self.engine = BridgeEngine(make_module_side("onemo", ModuleFileSystem(str(tmp_path))), make_host_side("neoway"))
        self.answer = answer
        self.to_firmware = bytearray()
        self.written: list[bytes] = []
        self.pump(0.0)

    def pump(self, now: float) -> None:
        while True:
            lines = [line for line in self.engine.to_module().split(b"\r") if line]
            self.to_firmware.extend(self.engine.to_host())
            if not lines:
                return
            for line in lines:
                self.written.append(line)
                reply = self.answer(line)
                if reply:
                    self.engine.from_module(reply, now)

    def firmware(self, line: bytes, now: float) -> None:
        self.engine.from_host(line + b"\r", now)
        self.pump(now)

    def at(self, now: float) -> None:
        self.engine.on_time(now)
        self.pump(now)
