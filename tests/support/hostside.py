"""Helpers for the sans-I/O host-side tests of both dialects: feed a host side the module's bytes
cut anywhere, and look at what it wrote and the events it made."""
from __future__ import annotations

from typing import Iterable

from hypothesis import strategies as st

from bridge.model import BodyChunk


def lines(sent: bytes) -> list[bytes]:
    return [line for line in sent.split(b"\r") if line]


def feed(host, stream: bytes, cuts: Iterable[int] = (), now: float = 1.0) -> bytes:
    """Feed `stream` cut at `cuts`; returns everything the host wrote meanwhile."""
    sent, start = b"", 0
    for cut in sorted({c for c in cuts if 0 < c < len(stream)}) + [len(stream)]:
        host.receive_data(stream[start:cut], now)
        sent += host.data_to_send()
        start = cut
    return sent


def events_of(host, token: int) -> list:
    events = host.take_events()
    assert all(t == token for t, _ in events), events
    return [e for _, e in events]


def body(events) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, BodyChunk))


def kinds(events) -> list[str]:
    return [type(e).__name__ for e in events]


def cuts_for(data: st.DataObject, stream: bytes) -> list[int]:
    return data.draw(st.lists(st.integers(0, len(stream)), max_size=24), label="cuts")


def merged(events: list) -> list:
    """`events` with consecutive BodyChunks as one: what stays the same however the body is cut."""
    out: list = []
    for event in events:
        if isinstance(event, BodyChunk) and out and isinstance(out[-1], BodyChunk):
            last = out[-1]
            assert event.offset == last.offset + len(last.data) and event.total == last.total
            out[-1] = BodyChunk(last.data + event.data, last.offset, last.total)
        else:
            out.append(event)
    return out
