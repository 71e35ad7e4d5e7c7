"""Comparing parsed frames with expectations written as (partial) dicts."""
from __future__ import annotations

from typing import Any

from bridge.at.frames import Frame, HttpBody


def parse_whole(framer, data: bytes) -> list[Frame]:
    frames = framer.feed(data)
    framer.close()
    return frames + framer.feed()


def parse_chunked(framer, data: bytes, cuts: list[int]) -> list[Frame]:
    frames: list[Frame] = []
    start = 0
    for cut in sorted(set(cuts)) + [len(data)]:
        if cut > start:
            frames += framer.feed(data[start:cut])
            start = cut
    framer.close()
    return frames + framer.feed()


def merged(frames: list[Frame]) -> list[dict[str, Any]]:
    """Frames as dicts with raw bytes kept, consecutive HttpBody frames merged."""
    out: list[dict[str, Any]] = []
    for frame in frames:
        if isinstance(frame, HttpBody) and out and out[-1]["type"] == "HttpBody":
            out[-1]["data"] += frame.data
            continue
        entry = {"type": type(frame).__name__, **{k: getattr(frame, k) for k in frame.__dataclass_fields__}}
        if "fields" in entry:
            entry["fields"] = dict(entry["fields"])
        if "params" in entry:
            entry["params"] = [{"text": p.text, "quoted": p.quoted} for p in entry["params"]]
        out.append(entry)
    return out


def assert_frames_match(frames: list[Frame], expected: list[dict[str, Any]]) -> None:
    """Every expected dict matches the frame at its place on the keys it names."""
    actual = merged(frames)
    assert len(actual) == len(expected), _diff(actual, expected)
    for got, want in zip(actual, expected):
        for key, value in want.items():
            assert got.get(key) == value, f"{key}: got {got.get(key)!r}, want {value!r}\n{_diff(actual, expected)}"


def _diff(actual, expected) -> str:
    lines = ["actual:"] + [f"  {_short(a)}" for a in actual] + ["expected:"] + [f"  {_short(e)}" for e in expected]
    return "\n".join(lines)


def _short(entry: dict) -> str:
    return ", ".join(f"{k}={(v[:40] + b'...') if isinstance(v, bytes) and len(v) > 40 else v!r}" for k, v in entry.items() if k != "raw")
