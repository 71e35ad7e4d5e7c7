"""`atbridge replay`: the firmware side of a capture, sent again through the bridge, and what the
firmware now sees compared with what its original module said.

A capture is cut into exchanges: each record the firmware wrote, and what came back before its next
record.  The replay sends each exchange's bytes and waits the way firmware does: for as many final
results and prompts as the original answer had, the same URCs, and bodies as long as the original's.
Both answers are framed with the firmware dialect's framer and normalised by the rules in
replay_rules.yaml (addresses, dates, instance ids, lengths of bodies cut differently), then compared.
"""
from __future__ import annotations

import hashlib
import re
import time
from collections import Counter, deque
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable, Optional, Protocol

import yaml

from bridge.at.dialect import Dialect
from bridge.at.frames import Echo, Final, Frame, FramingError, HttpBody, HttpEnd, HttpHead, Info, Line, Prompt
from bridge.at import ResponseFramer
from bridge.app.migration.captures import Capture

FINAL, PROMPT = "final", "prompt"


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: "re.Pattern[str]"
    replace: str


def load_rules() -> list[Rule]:
    text = resources.files("bridge.app.migration").joinpath("replay_rules.yaml").read_text(encoding="utf-8")
    return [Rule(r["name"], re.compile(r["pattern"]), r["replace"]) for r in yaml.safe_load(text)["rules"]]


@dataclass(frozen=True)
class Exchange:
    where: str
    sent: bytes
    answer: bytes  # what the original module wrote back before the firmware's next record


def exchanges(capture: Capture) -> list[Exchange]:
    out: list[Exchange] = []
    for from_firmware, where, data in capture.in_order:
        if from_firmware:
            out.append(Exchange(where, data, b""))
        elif out:
            out[-1] = Exchange(out[-1].where, out[-1].sent, out[-1].answer + data)
    return out


@dataclass(frozen=True)
class Item:
    """One normalised frame (payload frames of one kind joined): `kind` is what firmware waits
    for (final, prompt, a URC name), `text` what is compared, `size` a body's length."""

    kind: str
    text: str
    size: int = 0


class Items:
    """Frames -> normalised items, joining consecutive payload frames of one kind."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    def normalise(self, text: str) -> str:
        for rule in self.rules:
            text = rule.pattern.sub(rule.replace, text)
        return text

    def of(self, frames: Iterable[Frame]) -> list[Item]:
        items: list[Item] = []
        body = bytearray()
        for frame in frames:
            item, payload = self._item(frame)
            if item is None:
                continue
            if payload is not None and items and items[-1].kind == item.kind and items[-1].size:
                body += payload
                items[-1] = self._body(item.kind, items[-1].text.split(" | ")[0], body)
                continue
            if payload is not None:
                body = bytearray(payload)
                item = self._body(item.kind, item.text, body)
            items.append(item)
        return items

    def _body(self, kind: str, head: str, body: bytes) -> Item:
        digest = hashlib.sha256(body).hexdigest()[:16]
        text = self.normalise(bytes(body[:2048]).decode("latin-1")) if b"\r\n\r\n" in body[:2048] or len(body) < 512 else ""
        return Item(kind, f"{head} | {len(body)} bytes {digest if not text else text!r}", max(1, len(body)))

    def _item(self, frame: Frame) -> tuple[Optional[Item], Optional[bytes]]:
        if isinstance(frame, Final):
            shown = "OK" if frame.result == "OK" else "ERROR" if frame.result == "ERROR" else \
                f"+CME ERROR: {frame.code if frame.code is not None else frame.text}"
            return Item(FINAL, shown), None
        if isinstance(frame, Prompt):
            return Item(PROMPT, ">"), None
        if isinstance(frame, Info):
            kind = f'{frame.name} "{frame.variant}"' if frame.variant else frame.name
            text = self.normalise(frame.raw.decode("latin-1").rstrip(","))
            return Item(kind, text), (frame.payload if frame.payload is not None else None)
        if isinstance(frame, HttpHead):
            return Item("http head", self.normalise(frame.raw.decode("latin-1"))), None
        if isinstance(frame, HttpBody):
            return Item("http body", "http body"), frame.data
        if isinstance(frame, (HttpEnd, Echo, FramingError)):
            return None, None
        if isinstance(frame, Line):
            return Item("line", self.normalise(frame.raw.decode("latin-1").strip())), None
        return None, None


def satisfied(wanted: list[Item], got: list[Item]) -> bool:
    """Whether `got` has everything firmware waits for in `wanted`: as many finals and prompts, the
    same URCs, bodies as long."""
    if Counter(i.kind for i in got) < Counter(i.kind for i in wanted):
        return False
    sizes = Counter()
    for item in got:
        sizes[item.kind] += item.size
    return all(sizes[i.kind] >= i.size for i in wanted if i.size)


@dataclass(frozen=True)
class Divergence:
    exchange: int
    where: str
    sent: bytes
    index: int  # first item that differs
    expected: tuple[str, ...]
    got: tuple[str, ...]

    def describe(self) -> str:
        def show(items: tuple[str, ...]) -> str:
            return "\n".join(f"      {'>' if n == self.index else ' '} {t[:200]}" for n, t in enumerate(items)) or "      (nothing)"
        return (f"exchange {self.exchange} ({self.where}): sent {self.sent[:80]!r}\n"
                f"    original module:\n{show(self.expected)}\n    through the bridge:\n{show(self.got)}")


class FirmwarePort(Protocol):
    timeout: Optional[float]
    in_waiting: int

    def write(self, data: bytes) -> Optional[int]: ...

    def read(self, size: int) -> bytes: ...


class Replayer:
    """Sends a capture's exchanges on `port` (where the bridge's host end is) and compares."""

    def __init__(self, port: FirmwarePort, dialect: Dialect, timeout: float = 30.0) -> None:
        self.port = port
        self.items = Items(load_rules())
        self.timeout = timeout
        self._framer = ResponseFramer(dialect)
        self._frames: deque[Frame] = deque()

    def run(self, capture: Capture) -> list[Divergence]:
        divergences = []
        original = ResponseFramer(self._framer.dialect)
        for number, exchange in enumerate(exchanges(capture), 1):
            wanted = self.items.of(original.feed(exchange.answer))
            self.port.write(exchange.sent)
            got = self._answer(wanted)
            divergence = _first_difference(number, exchange, wanted, got)
            if divergence is not None:
                divergences.append(divergence)
        return divergences

    def _answer(self, wanted: list[Item]) -> list[Item]:
        frames: list[Frame] = []
        deadline = time.monotonic() + self.timeout
        while not satisfied(wanted, self.items.of(frames)):
            if self._frames:
                frames.append(self._frames.popleft())
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.port.timeout = left
            data = self.port.read(max(1, self.port.in_waiting))
            self._frames.extend(self._framer.feed(data))
        return self.items.of(frames)


def _first_difference(number: int, exchange: Exchange, wanted: list[Item], got: list[Item]) -> Optional[Divergence]:
    expected, seen = tuple(i.text for i in wanted), tuple(i.text for i in got)
    if expected == seen:
        return None
    index = next((n for n, (a, b) in enumerate(zip(expected, seen)) if a != b), min(len(expected), len(seen)))
    return Divergence(number, exchange.where, exchange.sent, index, expected, seen)


def replay_emulated(capture: Capture, source: str, target: str, workdir: Path,
                    hosts: Optional[dict[str, list[str]]] = None, timeout: float = 30.0) -> list[Divergence]:
    """Replay through a bridge to an emulated `target` module doing real HTTP (names resolved
    through `hosts` only)."""
    from bridge.app.demo.rig import bridge_rig
    from bridge.at.dialect import load

    with bridge_rig(source, target, workdir, hosts=hosts, echo=True) as rig:
        return Replayer(rig.firmware.port, load(source), timeout).run(capture)


def replay_on_port(capture: Capture, source: str, target: str, module_spec: str, workdir: Path,
                   baud: int = 115200, timeout: float = 30.0) -> list[Divergence]:
    """Replay through a bridge to the module on `module_spec` (a device or pyserial URL)."""
    from bridge.bridging.engine import BridgeEngine
    from bridge.io.bridge import BridgeRunner
    from bridge.registry import make_host_side
    from bridge.at.dialect import load
    from bridge.registry import make_module_side
    from bridge.device.fs import ModuleFileSystem
    from bridge.io.ports import PtyPort, open_host_end, open_port

    engine = BridgeEngine(make_module_side(source, ModuleFileSystem(str(workdir / "bridge-fs"))), make_host_side(target))
    host_pty = str(workdir / "firmware.pty")
    runner = BridgeRunner(engine, PtyPort(host_pty), open_port(module_spec, baud)).start()
    port = open_host_end(host_pty)
    try:
        return Replayer(port, load(source), timeout).run(capture)
    finally:
        port.close()
        runner.stop()
