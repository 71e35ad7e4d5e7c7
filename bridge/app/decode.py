"""Decode a captured byte stream into frames (`atbridge decode`)."""
from __future__ import annotations

from typing import BinaryIO, Iterator

from bridge.at.frames import Frame
from bridge.at import framer_for

READ_SIZE = 65536


def decode_stream(stream: BinaryIO, dialect: str, source: str) -> Iterator[Frame]:
    """Every frame in `stream`, read to its end, as written by `source` ("host" or "module")."""
    framer = framer_for(dialect, source)
    while True:
        data = stream.read(READ_SIZE)
        if not data:
            break
        yield from framer.feed(data)
    framer.close()
    yield from framer.feed()
