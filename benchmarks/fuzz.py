"""Fuzzing at the sans-I/O layer: seeded mutations of the manuals' examples (tests/data/examples_*.yaml)
-- firmware command streams and module output -- fed, cut at random places and with the clock
jumping, into every framer, both module sides (with an in-memory executor), both host sides (with a
request in flight) and the bridge engine in both directions.

Each target keeps its state across a batch of inputs; after every batch its clock runs past every
deadline and `AT` must still get `OK` (framers: `AT` / `OK` must still frame), else the batch is
wedged.  A crash is any exception; a hang is an input that takes longer than --hang seconds (stopped
by SIGALRM).  Crashes are grouped by exception and place, reproduced on a fresh target and shrunk;
a wedged batch is cut down to the fewest of its inputs that wedge a fresh target, each shrunk.  Any
crash, hang, wedged batch or logged traceback fails the run (exit status 1).

Run (full size):  python benchmarks/fuzz.py --inputs 1000000 --seed 1
CI size:          tests/property/test_fuzz_sansio.py (2,000 inputs per target)
"""
from __future__ import annotations

import argparse
import logging
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import yaml

from bridge.bridging.engine import BridgeEngine
from bridge.registry import make_host_side
from bridge.at.dialect import load
from bridge.registry import make_module_side
from bridge.at.frames import Command, Final
from bridge.at import CommandFramer, ResponseFramer
from bridge.model import (BodyChunk, Connected, ErrorKind, Failure, Method, Request, RequestSent, ResponseEnd,
                          ResponseHead)
from bridge.roles.module import StartRequest
from bridge.device.fs import ModuleFileSystem

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
DIALECTS = ("onemo", "neoway")
MAX_INPUT = 32768
BATCH = 100


class Logged(logging.Handler):
    """Collects records logged with a traceback: an exception caught and logged is a finding too."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)

    def __enter__(self) -> "Logged":
        root = logging.getLogger()
        self._saved = (root.handlers[:], root.level)
        root.handlers[:] = [self]
        root.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc) -> None:
        root = logging.getLogger()
        root.handlers[:], level = self._saved
        root.setLevel(level)


class Hang(BaseException):
    """An input ran past its time bound (BaseException: no `except Exception` swallows it)."""


# ---- corpus and mutations ---------------------------------------------------------------------

def corpus(dialect: str, direction: str) -> list[bytes]:
    entries = yaml.safe_load((DATA / f"examples_{dialect}.yaml").read_text(encoding="utf-8")) or []
    out = []
    for entry in entries:
        if entry.get("direction") != direction:
            continue
        stream = entry["stream"].encode("utf-8")
        fill = entry.get("body_fill")
        if fill:
            stream = stream.replace(b"{BODY}", fill.get("byte", "x").encode() * min(fill["length"], 4096))
        out.append(stream)
    return out


INSERTS = [
    b'\r\n+MHTTPURC: "content",0,5000,5000,5000,', b'\r\n+MHTTPURC: "header",0,200,5000,', b'\r\n+MHTTPURC: "ind",0',
    b'\r\n+MHTTPURC: "err",0,5\r\n', b"\r\n+MHTTPREAD: 0,1,0,5000,", b"\r\n+HTTPRECV:\r\n", b"\r\n+HTTPRECV: 5000,",
    b"\r\n+HTTPSRECV: 10,", b"\r\n+HTTPCLOSED: HTTP Link Closed\r\n", b"HTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"\r\nOK\r\n", b"\r\nERROR\r\n", b"\r\n+CME ERROR: ", b"\r\n+CMS ERROR: ", b"\r\n>", b"> ", b"\x1a", b"\x1b",
    b"AT+", b"AT", b"\r", b"\n", b'"', b",", b"=", b"?", b"\x00", b"\\", b"AT+MHTTPCONTENT=0,0,4096\r",
    b"AT+HTTPSEND=4096\r", b"AT+MHTTPCFG=\"header\",0,5000\r", b"\r\n+HTTPACTION: 0,200,5000\r\n", b"ATE1\r",
    b"AT+CMEE=2\r", b"AT+XIIC=1\r", b"AT+HTTPCLOSE\r", b"AT+MHTTPDEL=0\r",
]
NUMBERS = [b"9" * 5000, b"9" * 4400, "²".encode(), "٣".encode(), b"4294967296", b"-1", b"99999999999", b"0", b"1_0",
           b"0x10", b" ", b"65535", b"2147483648"]


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 5)):
        op = rng.randrange(9)
        pos = rng.randint(0, len(buf))
        if op == 0 and buf:  # bit flips
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(buf))
                buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and pool:  # splice another example in
            other = rng.choice(pool)
            a = rng.randint(0, len(other))
            buf[pos:pos] = other[a:a + rng.randint(1, 400)]
        elif op == 2:  # truncate
            del buf[pos:]
        elif op == 3 and buf:  # duplicate a slice
            end = min(len(buf), pos + rng.randint(1, 200))
            buf[pos:pos] = buf[pos:end] * rng.randint(1, 4)
        elif op == 4:  # a frame start
            buf[pos:pos] = rng.choice(INSERTS)
        elif op == 5:  # a long or odd number, replacing a digit run where there is one
            number = rng.choice(NUMBERS)
            end = pos
            while end < len(buf) and 0x30 <= buf[end] <= 0x39 and end - pos < 20:
                end += 1
            buf[pos:end] = number
        elif op == 6:  # delete a slice
            del buf[pos:pos + rng.randint(1, 64)]
        elif op == 7:  # random bytes
            buf[pos:pos] = rng.randbytes(rng.randint(1, 32))
        else:  # a run of one byte (spaces, commas, quotes ...)
            buf[pos:pos] = bytes([rng.choice(b' ,"\r\n\x00\t(+:')]) * rng.choice((10, 300, 5000))
    return bytes(buf[:MAX_INPUT])


def cuts(rng: random.Random, data: bytes) -> list[bytes]:
    """`data` in pieces as reads deliver them: whole, a byte at a time in places, or random cuts."""
    style = rng.randrange(4)
    if style == 0 or len(data) < 2:
        return [data]
    points = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 12 if style < 3 else 60))))
    return [data[a:b] for a, b in zip([0] + points, points + [len(data)])]


# ---- targets ----------------------------------------------------------------------------------

class Target:
    """One thing under test: `feed` an input, `recovers` after a batch.  `reset` makes it new."""

    name = ""
    source = ""  # which corpus feeds it: "host" (firmware) or "module"
    dialect = ""
    extra = b""  # bytes the last input also fed from the other end (the engine's module stream)

    def reset(self) -> None:
        raise NotImplementedError

    def feed(self, data: bytes, rng: random.Random) -> None:
        raise NotImplementedError

    def recovers(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        pass


class FramerTarget(Target):
    def __init__(self, dialect: str, source: str) -> None:
        self.dialect, self.source = dialect, source
        self.name = f"framer {dialect} {'CommandFramer' if source == 'host' else 'ResponseFramer'}"
        self.spec = load(dialect)
        self.reset()

    def reset(self) -> None:
        self.framer = CommandFramer(self.spec) if self.source == "host" else ResponseFramer(self.spec)

    def feed(self, data: bytes, rng: random.Random) -> None:
        for piece in cuts(rng, data):
            self.framer.feed(piece)
            if rng.random() < 0.05 and isinstance(self.framer, ResponseFramer):
                self.framer.release()
        if rng.random() < 0.1:
            self.framer.close()
            self.framer.feed()
            self.reset()

    def recovers(self) -> bool:
        if isinstance(self.framer, CommandFramer):  # a line left open ends, and so does data mode
            self.framer.feed(b"\r\n")
            self.framer.end_data()
            frames = self.framer.feed(b"AT\r")
            return bool(frames) and frames[-1] == Command("", "execute", raw=b"AT")
        self.framer.feed(b"\r\n")
        for _ in range(MAX_INPUT):  # each buffered frame that announced a payload gets its deadline
            if not self.framer.in_payload:
                break
            self.framer.abandon_payload()
            self.framer.feed()
        frames = self.framer.feed(b"\r\nOK\r\n")
        return bool(frames) and frames[-1] == Final("OK")


class Executor:
    """An in-memory network for a module side: requests succeed with a short body, or fail fast."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def run(self, side, now: float) -> None:
        for action in side.take_actions():
            if not isinstance(action, StartRequest):
                continue
            for event in self.events(action.request):
                side.handle_event(action.token, event, now)

    def events(self, request: Request) -> list:
        roll = self.rng.random()
        if roll < 0.2:
            return [Failure(self.rng.choice(list(ErrorKind)), "fuzz")]
        if request.connect_only:
            return [Connected()]
        body = self.rng.randbytes(self.rng.choice((0, 5, 300, 3000)))
        head = ResponseHead(200, "OK", b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body),
                            (("Content-Length", str(len(body))),))
        events = [Connected()] + ([RequestSent()] if request.report_sent else []) + [head]
        if body:
            events.append(BodyChunk(body, 0, len(body)))
        return events + [ResponseEnd(len(body))]


def _fresh_fs(root: str) -> ModuleFileSystem:
    """An empty module file system at `root`: files an earlier batch wrote do not carry over, so
    that a finding replays on a fresh target."""
    if Path(root).is_dir():  # (the fuzzer's own temporary directory)
        shutil.rmtree(root)
        Path(root).mkdir()
    return ModuleFileSystem(root)


def _answers_ok(out: bytes) -> bool:
    return b"OK\r\n" in out


def _settle(step: Callable[[float], None], deadline: Callable[[], Optional[float]], now: float) -> float:
    """Run the clock past every deadline (bounded: a timer that re-arms forever is no hang here)."""
    for _ in range(50):
        due = deadline()
        if due is None:
            break
        now = max(now, due) + 0.001
        step(now)
    return now + 1000.0


class ModuleSideTarget(Target):
    source = "host"

    def __init__(self, dialect: str, root: str) -> None:
        self.dialect, self.root = dialect, root
        self.name = f"module side {dialect}"
        self.reset()

    def reset(self) -> None:
        self.side = make_module_side(self.dialect, _fresh_fs(self.root))
        self.now = 1.0
        self.executor = Executor(random.Random(0))

    def feed(self, data: bytes, rng: random.Random) -> None:
        self.executor.rng = rng
        for piece in cuts(rng, data):
            self.now += rng.choice((0.0, 0.01, 0.5, 5.0, 200.0))
            if (due := self.side.next_deadline()) is not None and due <= self.now:
                self.side.on_time(self.now)
            self.side.receive_data(piece, self.now)
            self.executor.run(self.side, self.now)
            self.side.data_to_send()

    def recovers(self) -> bool:
        def step(now: float) -> None:
            self.side.on_time(now)
            self.executor.run(self.side, now)
        self.now = _settle(step, self.side.next_deadline, self.now)
        self.side.data_to_send()
        self.side.receive_data(b"\x1b\r\nAT\r", self.now)
        self.executor.run(self.side, self.now)
        return _answers_ok(self.side.data_to_send())


class Responder:
    """The module end for a host side once fuzzing stops: answers every command line with OK."""

    @staticmethod
    def answer(written: bytes) -> bytes:
        lines = [line for line in written.replace(b"\n", b"\r").split(b"\r") if line.strip().upper().startswith(b"AT")]
        return b"".join(b"\r\nOK\r\n" for _ in lines)


class HostSideTarget(Target):
    source = "module"

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.name = f"host side {dialect}"
        self.reset()

    def reset(self) -> None:
        self.host = make_host_side(self.dialect)
        self.now = 1.0

    def _drain(self) -> None:
        self.host.data_to_send()
        self.host.take_events()
        self.host.take_passthrough()
        self.host.take_unsolicited()
        self.host.take_module_answers()

    def feed(self, data: bytes, rng: random.Random) -> None:
        method = rng.choice((Method.GET, Method.POST, Method.HEAD))
        body = b"x" * rng.choice((0, 10, 3000)) if method is Method.POST else None
        self.host.submit(Request(method, rng.choice(("http://example.com/x", "https://example.com/y?q=1")), body=body))
        if rng.random() < 0.2:
            self.host.passthrough(b"AT+CSQ")
        for piece in cuts(rng, data):
            self.now += rng.choice((0.0, 0.01, 0.5, 5.0, 200.0))
            if (due := self.host.next_deadline()) is not None and due <= self.now:
                self.host.on_time(self.now)
            self.host.receive_data(piece, self.now)
            self._drain()

    def recovers(self) -> bool:
        def step(now: float) -> None:
            self.host.on_time(now)
            written = self.host.data_to_send()
            self.host.receive_data(Responder.answer(written), now)
            self._drain()
        self.now = _settle(step, self.host.next_deadline, self.now)
        self._drain()
        token = self.host.passthrough(b"AT")
        for _ in range(30):
            written = self.host.data_to_send()
            self.host.receive_data(Responder.answer(written), self.now)
            for got, answer in self.host.take_passthrough():
                if got == token:
                    return _answers_ok(answer)
            self.now += 100.0
            self.host.on_time(self.now)
        return False


class EngineTarget(Target):
    """Firmware speaking `dialect` through the engine to a module speaking the other dialect: the
    input is split between the firmware's stream and the module's (mutated from its corpus)."""

    source = "host"

    def __init__(self, dialect: str, module_dialect: str, root: str, module_pool: list[bytes]) -> None:
        self.dialect, self.module_dialect, self.root = dialect, module_dialect, root
        self.module_pool = module_pool
        self.name = f"engine {dialect} firmware -> {module_dialect} module"
        self.reset()

    def reset(self) -> None:
        self.engine = BridgeEngine(make_module_side(self.dialect, _fresh_fs(self.root)), make_host_side(self.module_dialect))
        self.now = 1.0

    def feed(self, data: bytes, rng: random.Random) -> None:
        module = mutate(rng, rng.choice(self.module_pool), self.module_pool) if self.module_pool else b""
        self.extra = module
        host_pieces, module_pieces = cuts(rng, data), cuts(rng, module)
        while host_pieces or module_pieces:
            self.now += rng.choice((0.0, 0.01, 0.5, 5.0, 200.0))
            if (due := self.engine.next_deadline()) is not None and due <= self.now:
                self.engine.on_time(self.now)
            if host_pieces and (not module_pieces or rng.random() < 0.5):
                self.engine.from_host(host_pieces.pop(0), self.now)
            else:
                self.engine.from_module(module_pieces.pop(0), self.now)
            self.engine.to_host()
            self.engine.to_module()

    def recovers(self) -> bool:
        def step(now: float) -> None:
            self.engine.on_time(now)
            self.engine.from_module(Responder.answer(self.engine.to_module()), now)
            self.engine.to_host()
        self.now = _settle(step, self.engine.next_deadline, self.now)
        self.engine.to_host()
        self.engine.from_host(b"\x1b\r\nAT\r", self.now)
        out = b""
        for _ in range(30):
            out += self.engine.to_host()
            if _answers_ok(out):
                return True
            self.engine.from_module(Responder.answer(self.engine.to_module()), self.now)
            self.now += 100.0
            self.engine.on_time(self.now)
        return _answers_ok(out)


# ---- the run ------------------------------------------------------------------------------------

@dataclass
class Crash:
    target: str
    key: str
    trace: str
    data: bytes
    seed: int
    count: int = 1
    extra: bytes = b""
    logged: bool = False  # caught by the code and logged with a traceback, not raised
    standalone: Optional[bool] = None  # reproduces on a fresh target
    minimal: Optional[bytes] = None


@dataclass
class Stats:
    target: str
    inputs: int = 0
    crashes: int = 0
    hangs: int = 0
    wedged: int = 0  # batches after which AT got no OK
    seconds: float = 0.0
    slowest: float = 0.0
    unique: dict[str, Crash] = field(default_factory=dict)
    hang_inputs: list[tuple[bytes, int]] = field(default_factory=list)
    wedges: list["Wedge"] = field(default_factory=list)
    logged: int = 0  # inputs after which a traceback was logged

    @property
    def failed(self) -> bool:
        return bool(self.crashes or self.hangs or self.wedged or self.logged)


@dataclass
class Wedge:
    """Inputs of a wedged batch that wedge a fresh target when fed in this order: (input, seed,
    module bytes fed with it); empty if the batch did not wedge a fresh target again."""

    batch: int
    inputs: list[tuple[bytes, int, bytes]]


def _key(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/bridge/" in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__} at {where}"


class Alarm:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> "Alarm":
        signal.signal(signal.SIGALRM, self._fire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)

    @staticmethod
    def _fire(signum, frame) -> None:
        raise Hang()


def _feed_rng(seed: int, pool: list[bytes]) -> random.Random:
    """The generator an input's feed() got: seeded with its seed, after mutate() drew the input."""
    rng = random.Random(seed)
    mutate(rng, rng.choice(pool), pool)
    return rng


def _reproduce(make: Callable[[], Target], pool: list[bytes], data: bytes, seed: int, key: str, hang: float) -> bool:
    target = make()
    try:
        with Alarm(hang):
            target.feed(data, _feed_rng(seed, pool))
    except Hang:
        return False
    except Exception as exc:  # noqa: BLE001 - any exception is a finding
        return _key(exc) == key
    finally:
        target.close()
    return False


def _shrink(still_fails: Callable[[bytes], bool], data: bytes, budget: int = 300) -> bytes:
    """Delete pieces of `data` while it still fails (bounded)."""
    size = max(1, len(data) // 2)
    tries = 0
    while size >= 1 and tries < budget:
        pos, shrunk = 0, False
        while pos < len(data) and tries < budget:
            candidate = data[:pos] + data[pos + size:]
            tries += 1
            if still_fails(candidate):
                data, shrunk = candidate, True
            else:
                pos += size
        if not shrunk:
            size //= 2
    return data


def fuzz_target(make: Callable[[], Target], pool: list[bytes], inputs: int, seed: int, hang: float = 2.0,
                shrink: bool = True, log: Callable[[str], None] = lambda s: None) -> Stats:
    with Logged() as logged:
        return _fuzz_target(make, pool, inputs, seed, hang, shrink, log, logged)


def _fuzz_target(make: Callable[[], Target], pool: list[bytes], inputs: int, seed: int, hang: float,
                 shrink: bool, log: Callable[[str], None], logged: Logged) -> Stats:
    target = make()
    stats = Stats(target.name)
    rng = random.Random(f"{seed}:{target.name}")
    start = time.perf_counter()
    batch: list[tuple[bytes, int]] = []
    for index in range(inputs):
        input_seed = rng.getrandbits(48)
        local = random.Random(input_seed)
        data = mutate(local, local.choice(pool), pool)
        batch.append((data, input_seed))
        t0 = time.perf_counter()
        try:
            with Alarm(hang):
                target.feed(data, local)
        except Hang:
            stats.hangs += 1
            if len(stats.hang_inputs) < 5:
                stats.hang_inputs.append((data, input_seed))
            target.reset()
        except Exception as exc:  # noqa: BLE001 - any exception is a finding
            stats.crashes += 1
            key = _key(exc)
            if key in stats.unique:
                stats.unique[key].count += 1
            else:
                stats.unique[key] = Crash(target.name, key, traceback.format_exc(), data, input_seed, extra=target.extra)
                log(f"  crash in {target.name}: {key}")
            target.reset()
        if logged.records:
            _note_logged(stats, target, logged, data, input_seed, log)
        stats.slowest = max(stats.slowest, time.perf_counter() - t0)
        stats.inputs += 1
        if (index + 1) % BATCH == 0 or index + 1 == inputs:
            if not _recovers(target, hang):
                stats.wedged += 1
                if shrink and len(stats.wedges) < 3:
                    stats.wedges.append(Wedge(index // BATCH, _wedging_inputs(make, pool, batch, hang)))
            target.reset()
            batch = []
    stats.seconds = time.perf_counter() - start
    target.close()
    for crash in stats.unique.values():
        if crash.logged:
            continue
        crash.standalone = _reproduce(make, pool, crash.data, crash.seed, crash.key, hang)
        if shrink and crash.standalone:
            crash.minimal = _shrink(lambda data, c=crash: _reproduce(make, pool, data, c.seed, c.key, hang), crash.data)
    return stats


def _note_logged(stats: Stats, target: Target, logged: Logged, data: bytes, seed: int, log: Callable[[str], None]) -> None:
    stats.logged += 1
    for record in logged.records:
        exc = record.exc_info[1] if record.exc_info else None
        key = f"logged: {_key(exc)}" if exc is not None else f"logged: {record.getMessage()[:80]}"
        if key in stats.unique:
            stats.unique[key].count += 1
            continue
        trace = "".join(traceback.format_exception(*record.exc_info)) if record.exc_info else ""
        stats.unique[key] = Crash(target.name, key, f"{record.getMessage()}\n{trace}", data, seed, extra=target.extra, logged=True)
        log(f"  logged traceback in {target.name}: {key}")
    logged.records.clear()


def _replay_wedges(make: Callable[[], Target], pool: list[bytes], inputs: list[tuple[bytes, int]], hang: float,
                   extras: Optional[list[bytes]] = None) -> bool:
    """Whether `inputs`, fed in order to a fresh target, leave it without OK for AT (a crash or
    hang on the way resets it, as in the run); `extras` collects each input's module bytes."""
    target = make()
    try:
        for data, seed in inputs:
            try:
                with Alarm(hang):
                    target.feed(data, _feed_rng(seed, pool))
            except (Hang, Exception):  # noqa: BLE001 - reported as a crash or hang already
                target.reset()
            if extras is not None:
                extras.append(target.extra)
        return not _recovers(target, hang)
    finally:
        target.close()


def _wedging_inputs(make: Callable[[], Target], pool: list[bytes], batch: list[tuple[bytes, int]], hang: float,
                    budget: int = 200) -> list[tuple[bytes, int, bytes]]:
    """The fewest inputs of a wedged batch that still wedge a fresh target, in their order (delta
    debugging, at most `budget` replays), each then shrunk; [] if the batch does not replay."""
    if not _replay_wedges(make, pool, batch, hang):
        return []
    inputs, parts, tries = list(batch), 2, 0
    while len(inputs) > 1 and tries < budget:
        size = -(-len(inputs) // parts)
        for start in range(0, len(inputs), size):
            tries += 1
            rest = inputs[:start] + inputs[start + size:]
            if _replay_wedges(make, pool, rest, hang):
                inputs, parts = rest, max(parts - 1, 2)
                break
        else:
            if parts >= len(inputs):
                break
            parts = min(len(inputs), parts * 2)
    for i, (data, seed) in enumerate(inputs):
        def still_wedges(candidate: bytes, i: int = i, seed: int = seed) -> bool:
            return _replay_wedges(make, pool, inputs[:i] + [(candidate, seed)] + inputs[i + 1:], hang)
        inputs[i] = (_shrink(still_wedges, data, budget=100), seed)
    extras: list[bytes] = []
    _replay_wedges(make, pool, inputs, hang, extras)
    return [(data, seed, extra) for (data, seed), extra in zip(inputs, extras)]


def _recovers(target: Target, hang: float) -> bool:
    try:
        with Alarm(hang):
            return target.recovers()
    except (Hang, Exception):  # noqa: BLE001 - no recovery, whatever the reason
        return False


def targets(root: str) -> list[tuple[Callable[[], Target], list[bytes]]]:
    """(factory, corpus) for every target."""
    out: list[tuple[Callable[[], Target], list[bytes]]] = []
    both = {d: {s: corpus(d, s) for s in ("host", "module")} for d in DIALECTS}
    for dialect in DIALECTS:
        other = DIALECTS[1 - DIALECTS.index(dialect)]
        for source in ("host", "module"):
            pool = both[dialect][source] + both[other][source][:10]
            out.append((lambda d=dialect, s=source: FramerTarget(d, s), pool))
        out.append((lambda d=dialect: ModuleSideTarget(d, root), both[dialect]["host"]))
        out.append((lambda d=dialect: HostSideTarget(d), both[dialect]["module"]))
        out.append((lambda d=dialect, o=other: EngineTarget(d, o, root, both[o]["module"]), both[dialect]["host"]))
    return out


def report(all_stats: list[Stats], out=sys.stdout) -> None:
    head = f"{'target':<42} {'inputs':>9} {'crashes':>8} {'logged':>7} {'unique':>7} {'hangs':>6} {'wedged':>7} {'s':>7} {'slowest':>8}"
    print(head, file=out)
    for s in all_stats:
        print(f"{s.target:<42} {s.inputs:>9} {s.crashes:>8} {s.logged:>7} {len(s.unique):>7} {s.hangs:>6} {s.wedged:>7} "
              f"{s.seconds:>7.1f} {s.slowest * 1000:>6.0f}ms", file=out)
    sums = [sum(getattr(s, k) for s in all_stats) for k in ("inputs", "crashes", "logged")]
    print(f"{'total':<42} {sums[0]:>9} {sums[1]:>8} {sums[2]:>7} {sum(len(s.unique) for s in all_stats):>7} "
          f"{sum(s.hangs for s in all_stats):>6} {sum(s.wedged for s in all_stats):>7}", file=out)
    print("(crashes: exceptions out of the target; logged: inputs after which it logged a caught traceback;"
          " wedged: batches of %d after which AT got no OK)" % BATCH, file=out)
    failing = [s.target for s in all_stats if s.failed]
    print(f"result: {'FAIL (' + ', '.join(failing) + ')' if failing else 'PASS'}", file=out)
    for s in all_stats:
        for crash in s.unique.values():
            print(f"\n== {crash.target}: {crash.key} (x{crash.count}"
                  + ("" if crash.logged else f"; reproduces on a fresh target: {crash.standalone}") + ")", file=out)
            data = crash.minimal if crash.minimal is not None else crash.data
            kind = "minimal input" if crash.minimal is not None else "input"
            print(f"   {kind} ({len(data)} bytes, seed {crash.seed}): {data[:400]!r}", file=out)
            if crash.extra:
                print(f"   with module bytes ({len(crash.extra)}): {crash.extra[:400]!r}", file=out)
            print("   " + "\n   ".join(crash.trace.strip().splitlines()[-8:]), file=out)
        for data, seed in s.hang_inputs:
            print(f"\n== {s.target}: hang (seed {seed}): {data[:400]!r}", file=out)
        for wedge in s.wedges:
            if not wedge.inputs:
                print(f"\n== {s.target}: AT got no OK after batch {wedge.batch}; the batch does not do it to a fresh target",
                      file=out)
                continue
            print(f"\n== {s.target}: AT got no OK after batch {wedge.batch}; {len(wedge.inputs)} of its inputs do it to a"
                  " fresh target, in this order:", file=out)
            for data, seed, extra in wedge.inputs:
                print(f"   seed {seed}, {len(data)} bytes: {data[:600]!r}", file=out)
                if extra:
                    print(f"      with module bytes ({len(extra)}): {extra[:600]!r}", file=out)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=1_000_000, help="inputs in all, shared by the targets")
    parser.add_argument("--per-target", type=int, default=None, help="inputs per target (instead of --inputs)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hang", type=float, default=2.0, help="seconds an input may take")
    parser.add_argument("--only", default="", help="run only targets whose name contains this")
    parser.add_argument("--part", default="0/1", help="K/N: run the K-th of N shares of the targets (to use N processes)")
    args = parser.parse_args(argv)
    part, parts = (int(x) for x in args.part.split("/"))
    with tempfile.TemporaryDirectory(prefix="atbridge-fuzz-") as root:
        every = targets(root)
        per = args.per_target or max(1, args.inputs // len(every))
        chosen = [(make, pool) for i, (make, pool) in enumerate(every) if args.only in make().name and i % parts == part]
        results = []
        for make, pool in chosen:
            stats = fuzz_target(make, pool, per, args.seed, args.hang, log=lambda s: print(s, flush=True))
            print(f"{stats.target}: {stats.inputs} inputs, {stats.crashes} crashes, {stats.hangs} hangs, "
                  f"{stats.wedged} wedged batches, {stats.seconds:.1f} s", flush=True)
            results.append(stats)
        print()
        report(results)
    return 1 if any(s.failed for s in results) else 0


if __name__ == "__main__":
    sys.exit(main())
