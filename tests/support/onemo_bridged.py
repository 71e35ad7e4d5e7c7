"""Helpers for the OneMO-firmware -> bridge -> Neoway-module tests.

`onemo_bridge` runs firmware's end, the bridge and an emulated Neoway module on real ptys (see
tests/support/bridged.py) and hands back the firmware's framed view of the port (`Module` of the
OneMO emulator tests), with the bridge and the Neoway emulator attached for inspection.
"""
from __future__ import annotations

import base64
import io
import json
from contextlib import contextmanager
from typing import Iterator, Optional

from bridge.at.frames import Final, Frame, Info, Line
from support.bridged import bridged
from support.onemo_emulated import OK, Body, Module


class Trace(io.BytesIO):
    """A --trace stream kept in memory: JSON lines of what crossed the bridge."""

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.getvalue().splitlines() if line.strip()]

    def sent_to_module(self) -> bytes:
        """Every byte the bridge wrote to the Neoway module (binary data is base64 in the trace)."""
        out = bytearray()
        for record in self.records():
            if record.get("dir") == "bridge->module":
                data = record["data"]
                out += base64.b64decode(data["base64"]) if isinstance(data, dict) else data.encode()
        return bytes(out)


@contextmanager
def onemo_bridge(tmp_path, hosts: Optional[dict[str, list[str]]] = None, keep_log: bool = True,
                 trace: Optional[Trace] = None) -> Iterator[Module]:
    """OneMO firmware's view of a bridge to an emulated Neoway module.  The Module gets
    `.bridge` (the BridgeRunner: .engine.module_side is the OneMO module side, whose file system
    holds what MSSLCERTWR and downloads write) and `.neoway` (the Neoway emulator's runner)."""
    with bridged("onemo", "neoway", tmp_path, hosts=hosts, trace=trace, trace_secrets=True) as (firmware, bridge, neoway):
        module = Module(firmware, keep_log=keep_log)
        module.firmware = firmware  # the raw HostEnd on the same port (read one or the other)
        module.bridge = bridge
        module.neoway = neoway
        module.fs = bridge.engine.module_side.fs
        yield module


def create(module: Module, url: str) -> int:
    [answer] = module.ok(f'AT+MHTTPCREATE="{url}"')
    return answer.int("httpid")


def get(module: Module, path: str, httpid: int = 0, method: int = 1, name: str = "GET", timeout: float = 20) -> tuple[Info, bytes]:
    module.ok(f'AT+MHTTPREQUEST={httpid},{method},0,"{path}"')
    return module.response(httpid, name, timeout)


def streamed(module: Module, httpid: int = 0, method: str = "GET", timeout: float = 30) -> tuple[Info, Body, list[Frame]]:
    """A response whose body is only hashed (large bodies); frames of anything else that comes
    in between (pass-through answers, unrelated URCs) are returned too, in order."""
    others: list[Frame] = []
    head = None
    while head is None:
        frame = module.next(timeout)
        if isinstance(frame, Info) and frame.name == "+MHTTPURC" and frame.variant == "header":
            head = frame
        else:
            others.append(frame)
    assert head.int("httpid") == httpid and head.int("header_len") == len(head.payload or b"")
    body = Body(head, method, keep=False)
    while not body.complete:
        frame = module.next(timeout)
        if isinstance(frame, Info) and frame.name == "+MHTTPURC" and frame.variant == "content":
            body.add(frame, httpid)
        else:
            others.append(frame)
    return head, body, others


def err_code(module: Module, httpid: int = 0, timeout: float = 20) -> int:
    """The <error_code> of the next "err" URC (content URCs before it are skipped)."""
    while True:
        frame = module.next(timeout)
        if isinstance(frame, Info) and frame.name == "+MHTTPURC" and frame.variant == "err":
            assert frame.int("httpid") == httpid, frame
            return frame.int("error_code")
        assert isinstance(frame, Info) and frame.name == "+MHTTPURC" and frame.variant in ("header", "content"), frame


def is_final(frame: Frame) -> bool:
    return isinstance(frame, Final)


def is_line(frame: Frame, text: bytes) -> bool:
    return isinstance(frame, (Line, Info)) and frame.raw.strip() == text


__all__ = ["OK", "Body", "Module", "Trace", "create", "err_code", "get", "is_final", "is_line", "onemo_bridge", "streamed"]
