"""`atbridge decode` of a tap capture or bridge trace: both sides' frames and the model events,
aligned by time, one JSON object a line."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, Optional

from ..frames import to_dict
from ..framing import framer_for
from .captures import record_bytes

# Who wrote the bytes of each direction, and so which dialect and framer reads them.
WRITERS = {
    "host->module": ("host", "host"), "host->bridge": ("host", "host"),
    "module->host": ("module", "host"), "bridge->host": ("module", "host"),
    "bridge->module": ("host", "module"), "module->bridge": ("module", "module"),
}


def timeline(path: Path, host_dialect: str, module_dialect: Optional[str] = None) -> Iterator[str]:
    """Every frame and event of the capture at `path`, in record order, as JSON lines.  Bytes the
    firmware's side carries are read in `host_dialect`; those on the module's side of a bridge in
    `module_dialect` (default: the same dialect, as in a tap)."""
    dialects = {"host": host_dialect, "module": module_dialect or host_dialect}
    framers: dict[str, object] = {}
    with path.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            direction, t = str(record.get("dir", "")), record.get("t")
            if "event" in record:
                yield json.dumps({"t": t, "dir": direction, "event": record["event"]}, ensure_ascii=False)
                continue
            data = record_bytes(record)
            if data is None or direction not in WRITERS:
                continue
            writer, side = WRITERS[direction]
            framer = framers.get(direction)
            if framer is None:
                framer = framers[direction] = framer_for(dialects[side], writer)
            for frame in framer.feed(data):
                yield json.dumps({"t": t, "dir": direction, "frame": to_dict(frame)}, ensure_ascii=False)
