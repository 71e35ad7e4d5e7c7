"""Decode a captured byte stream into frames (`atbridge decode`), credentials masked
(bridge/secrets.py) unless asked otherwise."""
from __future__ import annotations

from typing import BinaryIO, Iterator

from bridge.at.frames import Frame
from bridge.at import framer_for
from bridge.at.masking import FrameMasker

READ_SIZE = 65536


def decode_stream(stream: BinaryIO, dialect: str, source: str, secrets: bool = False) -> Iterator[Frame]:
    """Every frame in `stream`, read to its end, as written by `source` ("host" or "module");
    with every credential masked unless `secrets`."""
    framer = framer_for(dialect, source)
    mask = (lambda frame: frame) if secrets else FrameMasker().mask
    while True:
        data = stream.read(READ_SIZE)
        if not data:
            break
        yield from map(mask, framer.feed(data))
    framer.close()
    yield from map(mask, framer.feed())
