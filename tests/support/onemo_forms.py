"""Forms real OneMO firmware sends (one AT+MHTTPHEADER call per header field, as esp-ml307 does)
and the content frames a real module gives back, shared by the tests against the OneMO emulator
and through the bridge."""
from __future__ import annotations

import re

from support.onemo_emulated import Module

SIX = [("User-Agent", "MyCustomAgent/1.0"), ("mam", "i am hera"), ("Accept", "application/json"),
       ("X-Device-Id", "a1b2c3"), ("Authorization", "Bearer t0k3n"), ("Cache-Control", "no-cache")]
FRAME_MAX = 1500  # a content frame, prefix and CRLFs included, never more than this by default
_CONTENT = re.compile(rb'\r\n\+MHTTPURC: "content",(\d+),(\d+),(\d+),(\d+),')


def send_six_headers(module: Module) -> None:
    for index, (name, value) in enumerate(SIX):
        field = f"{name}: {value}"
        eof = 0 if index == len(SIX) - 1 else 1
        module.ok(f'AT+MHTTPHEADER=0,{eof},{len(field)},"{field}"')


def content_frames(log: bytes) -> list[tuple[int, int]]:
    """(cur_len, whole frame size) of every content URC in the raw bytes the firmware read."""
    frames = []
    for match in _CONTENT.finditer(log):
        cur_len = int(match.group(4))
        frames.append((cur_len, len(match.group(0)) + cur_len + 2))
    return frames
