"""`atbridge decode` of a tap capture or bridge trace: both sides' frames and the model events,
aligned by time, one JSON object a line."""
from __future__ import annotations

import json
from typing import Iterable, Iterator, Optional

from bridge.at.frames import to_dict
from bridge.at import Framer, framer_for
from bridge.at.masking import FrameMasker
from bridge.secrets import mask_json
from bridge.app.migration.captures import ordered_records, record_bytes

# Who wrote the bytes of each direction, and so which dialect and framer reads them.
WRITERS = {
    "host->module": ("host", "host"), "host->bridge": ("host", "host"),
    "module->host": ("module", "host"), "bridge->host": ("module", "host"),
    "bridge->module": ("host", "module"), "module->bridge": ("module", "module"),
}


OTHER = {"onemo": "neoway", "neoway": "onemo"}


def is_records(head: bytes) -> bool:
    """Whether a capture that starts with `head` is JSON lines (a tap capture or bridge trace)."""
    return head.lstrip()[:1] == b"{"


def timeline(lines: Iterable[bytes], host_dialect: str, module_dialect: Optional[str] = None) -> Iterator[str]:
    """Every frame and event of a capture, in record order, as JSON lines.  The bytes on the
    firmware's side (a tap's both directions) are read in `host_dialect`; those on the module's
    side of a bridge in `module_dialect` (default: the other dialect)."""
    dialects = {"host": host_dialect, "module": module_dialect or OTHER.get(host_dialect, host_dialect)}
    framers: dict[str, tuple[Framer, FrameMasker]] = {}
    for _, record in ordered_records(lines):
        yield from _decoded(record, dialects, framers)


def _decoded(record: dict, dialects: dict[str, str], framers: dict[str, tuple[Framer, FrameMasker]]) -> Iterator[str]:
    """One record's frames (or its event), credentials masked (a --trace-secrets trace, a tap)."""
    direction, t = str(record.get("dir", "")), record.get("t")
    if "event" in record:
        yield json.dumps({"t": t, "dir": direction, "event": mask_json(record["event"])}, ensure_ascii=False)
        return
    data = record_bytes(record)
    if data is None or direction not in WRITERS:
        return
    writer, side = WRITERS[direction]
    if direction not in framers:
        framers[direction] = (framer_for(dialects[side], writer), FrameMasker())
    framer, masker = framers[direction]
    for frame in framer.feed(data):
        yield json.dumps({"t": t, "dir": direction, "frame": to_dict(masker.mask(frame))}, ensure_ascii=False)
