"""`atbridge tap`: a transparent pass-through between firmware and the module it has today that
records both directions, with timestamps, in the bridge trace's JSON-lines format.

Nothing is translated or added: the bytes a side writes go to the other side as they are.  Records
are {"t": seconds, "dir": "host->module" | "module->host", "data": text or {"base64": ...}};
secret values are masked as in `atbridge bridge --trace`.
"""
from __future__ import annotations

from typing import Optional

from bridge.bridging.trace import Trace
from bridge.roles.host import HostSide

FROM_FIRMWARE, TO_FIRMWARE = "host->module", "module->host"


class TapEngine:
    """The bridge engine's interface (bridge.io.bridge.BridgeRunner drives it), passing through."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self._to_module = bytearray()
        self._to_host = bytearray()

    def from_host(self, data: bytes, now: float) -> None:
        self.trace.bytes(FROM_FIRMWARE, data)
        self._to_module += data

    def from_module(self, data: bytes, now: float) -> None:
        self.trace.bytes(TO_FIRMWARE, data)
        self._to_host += data

    def on_time(self, now: float) -> None:
        pass

    def next_deadline(self) -> Optional[float]:
        return None

    def module_lost(self, now: float, detail: str) -> None:
        """Nothing to end: no request of the tap's own is in flight."""

    def module_back(self, host_side: Optional[HostSide], now: float) -> None:
        """Nothing to re-synchronise: the firmware's bytes go to the module as they come."""

    def to_module(self) -> bytes:
        data, self._to_module = bytes(self._to_module), bytearray()
        return data

    def to_host(self) -> bytes:
        data, self._to_host = bytes(self._to_host), bytearray()
        return data
