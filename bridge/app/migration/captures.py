"""Captures `atbridge check` and `decode` read: tap captures and bridge traces (JSON lines), and raw
byte files, each turned into the firmware's bytes and the bytes the firmware received."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

Chunks = list[tuple[str, bytes]]  # (where it was captured, bytes)


@dataclass
class Capture:
    from_firmware: Chunks = field(default_factory=list)
    to_firmware: Chunks = field(default_factory=list)
    # Both directions in capture order: (True for the firmware's bytes, where, bytes).
    in_order: list[tuple[bool, str, bytes]] = field(default_factory=list)


def record_bytes(record: dict) -> Optional[bytes]:
    data = record.get("data")
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, dict) and "base64" in data:
        return base64.b64decode(data["base64"])
    return None


def read_capture(path: Path, module_bytes: Optional[Path] = None) -> Capture:
    """A JSON-lines tap capture or bridge trace; otherwise `path` is the raw bytes the firmware
    wrote (and `module_bytes`, if given, the raw bytes it received)."""
    raw = path.read_bytes()
    if raw.lstrip()[:1] == b"{":
        return _from_records(raw)
    capture = Capture(from_firmware=[(f"{path.name} byte 0", raw)])
    if module_bytes is not None:
        capture.to_firmware.append((f"{module_bytes.name} byte 0", module_bytes.read_bytes()))
    return capture


def _from_records(raw: bytes) -> Capture:
    capture = Capture()
    for number, record in ordered_records(raw.splitlines()):
        data = record_bytes(record)
        direction = str(record.get("dir", ""))
        if data is None:
            continue
        where = f"record {number} (t={record.get('t', '?')})"
        if direction.startswith("host->"):
            capture.from_firmware.append((where, data))
            capture.in_order.append((True, where, data))
        elif direction.endswith("->host"):
            capture.to_firmware.append((where, data))
            capture.in_order.append((False, where, data))
    return capture


def ordered_records(lines: Iterable[bytes]) -> list[tuple[int, dict]]:
    """(line number, record) in capture order: by `t`, the time the bytes arrived (a line the
    trace held back for masking is written after later records but carries its arrival time)."""
    records = [(number, json.loads(line)) for number, line in enumerate(lines, 1) if line.strip()]
    return sorted(records, key=lambda item: float(item[1].get("t") or 0.0))


def collect(capture: Optional[Path], source_dir: Optional[Path], dialect: str,
            module_bytes: Optional[Path] = None) -> "Inventory":
    """Every distinct form in a capture and/or a firmware source tree, in first-seen order."""
    from bridge.at.dialect import load
    from bridge.app.migration.forms import Inventory, from_host_bytes, from_module_bytes, from_sources

    spec, inventory = load(dialect), Inventory()
    if capture is not None:
        recorded = read_capture(capture, module_bytes)
        from_host_bytes(recorded.from_firmware, spec, inventory)
        from_module_bytes(recorded.to_firmware, spec, inventory)
    if source_dir is not None:
        from_sources(source_dir, spec, inventory)
    return inventory
