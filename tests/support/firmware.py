"""Replaying public firmware: a script of send/expect steps (tests/firmware/*.yaml, format in
tests/firmware/README.md) driven over a real pty, and the loopback HTTP server that answers the
firmware's requests and records what arrived.

The engine matches answers the way the script says the firmware does (a final result from an
accepted set, regexes on the lines before it, bounded retries, URCs awaited with a timeout).  It
never sleeps: it reads the port with a deadline.
"""
from __future__ import annotations

import os
import re
import socket
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Optional

import yaml

from .paths import FIRMWARE
from .servers import LoopbackServer, blob_bytes

# Firmware timeouts are written as the firmware has them; on a loaded CI machine the emulator,
# bridge and server share two cores, so a wait is the firmware's timeout times this factor, at
# least MIN_WAIT, at most MAX_WAIT (so a stuck step fails with its own message before the test's
# 60 s timeout; the longest firmware timeouts, 30 s, are shortened to it).
TIMEOUT_SCALE = float(os.environ.get("FIRMWARE_TIMEOUT_SCALE", "5"))
MIN_WAIT = 2.0
MAX_WAIT = float(os.environ.get("FIRMWARE_MAX_WAIT", "20"))
FINAL = re.compile(rb"(?:^|\r\n)(OK|ERROR|\+CME ERROR:[^\r\n]*|\+CMS ERROR:[^\r\n]*)\r\n")


# ---- scripts -------------------------------------------------------------------------------


def load_scripts() -> list[tuple[str, dict]]:
    """(file stem, parsed script) of every script in tests/firmware, sorted by name."""
    return [(path.stem, yaml.safe_load(path.read_text(encoding="utf-8")))
            for path in sorted(FIRMWARE.glob("*.yaml"))]


def other_dialect(dialect: str) -> str:
    return {"onemo": "neoway", "neoway": "onemo"}[dialect]


def hosts_map(script: dict) -> dict[str, list[str]]:
    """Every host name the firmware uses resolves to the loopback server."""
    return {name: ["127.0.0.1"] for name in script.get("hosts", [])}


def _payload(spec: dict, prefix: str = "") -> Optional[bytes]:
    """`<prefix>text` (UTF-8, sent as written) or `<prefix>hex` of a step or route; None if absent."""
    if f"{prefix}text" in spec:
        return spec[f"{prefix}text"].encode("utf-8")
    if f"{prefix}hex" in spec:
        return bytes.fromhex(spec[f"{prefix}hex"])
    if f"{prefix}blob" in spec:  # {size, seed}: deterministic bytes (tests/support/servers.py)
        return blob_bytes(int(spec[f"{prefix}blob"]["size"]), int(spec[f"{prefix}blob"].get("seed", 0)))
    return None


def _wait_for(firmware_timeout: float) -> float:
    return min(max(float(firmware_timeout) * TIMEOUT_SCALE, MIN_WAIT), MAX_WAIT)


# ---- the firmware's end of the port --------------------------------------------------------


def _fill(text: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: variables[m.group(1)], text)


class StepFailed(AssertionError):
    pass


@dataclass
class Replay:
    """Runs a script's steps over `port` (a pyserial port on the firmware's end of a pty)."""

    port: Any
    variables: dict[str, str]
    seen: bytearray = field(default_factory=bytearray)
    urc_cursor: int = 0  # where the next URC wait looks from (the last command's start)
    log: list[str] = field(default_factory=list)

    # -- reading --

    def _read(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.port.timeout = min(left, 0.5)
        self.seen += self.port.read(max(1, self.port.in_waiting))
        return True

    def _search(self, regex: re.Pattern, start: int, deadline: float, what: str) -> re.Match:
        while True:
            match = regex.search(self.seen, start)
            if match:
                return match
            if not self._read(deadline):
                raise StepFailed(f"timed out waiting for {what}; got {bytes(self.seen[start:])[-400:]!r}")

    # -- substitution --

    def fill(self, text: str, data: Optional[bytes] = None) -> str:
        for name, value in self.variables.items():
            text = text.replace("${" + name + "}", value)
        if data is not None:
            text = text.replace("${data_len}", str(len(data)))
        if "${" in text:
            raise StepFailed(f"unknown variable in {text!r}")
        return text

    # -- steps --

    def run(self, steps: list[dict], keep_going: bool = False) -> None:
        """Every step in order; the first failure ends the run, unless `keep_going` (a diagnostic
        for listing everything a product still lacks: FIRMWARE_KEEP_GOING=1)."""
        failures = []
        for number, step in enumerate(steps, 1):
            if any(self.variables.get(k) != str(v) for k, v in step.get("only_if", {}).items()):
                continue  # a branch the firmware takes only on another answer
            try:
                if "wait" in step:
                    self.wait(step["wait"])
                else:
                    self.command(step)
            except StepFailed as failure:
                label = step.get("send", step.get("wait"))
                failures.append(f"step {number} ({label!r}): {failure}")
                if not keep_going:
                    break
        if failures:
            raise StepFailed("\n".join(failures))

    def command(self, step: dict) -> None:
        retry = step.get("retry", {})
        times = retry.get("times", 1) if isinstance(retry, dict) else int(retry)
        last: Optional[StepFailed] = None
        for _ in range(times):
            try:
                self._attempt(step)
                return
            except StepFailed as failure:  # the firmware resends, up to its count
                last = failure
        assert last is not None
        raise StepFailed(f"{last} (after {times} attempt{'s' if times > 1 else ''})")

    def _attempt(self, step: dict) -> None:
        expect = step.get("expect", {})
        data = _payload(step, "data_")
        if data is not None:
            data = self.fill(data.decode("latin-1")).encode("latin-1")
        line = self.fill(step["send"], data).encode("latin-1")
        deadline = time.monotonic() + _wait_for(expect.get("timeout", 5))
        start = len(self.seen)
        self.urc_cursor = start
        self.port.write(line)
        self.log.append(f">> {line!r}")
        if data is not None:
            prompt = re.compile(expect.get("prompt", r">").encode())
            either = re.compile(prompt.pattern + b"|" + FINAL.pattern)
            match = self._search(either, start, deadline, f"the prompt {prompt.pattern!r}")
            if not prompt.fullmatch(match.group(0)):
                raise StepFailed(f"no prompt: the module answered {match.group(0)!r}")
            self.port.write(data + (_payload(step, "after_data_") or b""))
            self.log.append(f">> ({len(data)} bytes of data)")
        final = self._search(FINAL, start, deadline, "a final result")
        answer = bytes(self.seen[start:final.end()])
        self.log.append(f"<< {answer!r}")
        self._check(expect, answer[: final.start(1)].decode("latin-1"), final.group(1).decode("latin-1"))

    def _check(self, expect: dict, body: str, final: str) -> None:
        accepted = expect.get("final", "OK")
        accepted = [accepted] if isinstance(accepted, str) else accepted
        if not any(re.fullmatch(pattern, final) for pattern in accepted):
            raise StepFailed(f"final {final!r} is not one of {accepted}")
        for pattern in expect.get("lines", []):
            if not re.search(self.fill(pattern), body, re.M):
                raise StepFailed(f"no line matches {pattern!r} in {body!r}")
        for name, pattern in expect.get("capture", {}).items():
            match = re.search(self.fill(pattern), body, re.M)
            if not match:
                raise StepFailed(f"nothing to capture as {name} with {pattern!r} in {body!r}")
            self.variables[name] = match.group(1)

    def wait(self, spec: dict) -> None:
        """A URC (or unsolicited data) the firmware waits for; with `until_ge: [a, b]` it keeps
        taking matches until group a >= group b; with `collect`, group `collect` of every match is
        kept (hex-decoded if `collect_hex`) in variable `into`; `capture: {name: group}` keeps a
        group of the (last) match as a variable."""
        regex = re.compile(self.fill(spec["match"]).encode("latin-1"), re.M)
        deadline = time.monotonic() + _wait_for(spec.get("timeout", 10))
        collected = b""
        while True:
            match = self._search(regex, self.urc_cursor, deadline, f"{spec['match']!r}")
            self.urc_cursor = match.end()
            for name, group in spec.get("capture", {}).items():
                self.variables[name] = match.group(group).decode("latin-1")
            if "collect" in spec:
                piece = match.group(spec["collect"])
                collected += bytes.fromhex(piece.decode()) if spec.get("collect_hex") else piece
            until = spec.get("until_ge")
            if not until or int(match.group(until[0])) >= int(match.group(until[1])):
                break
        if "into" in spec:
            self.variables[spec["into"]] = collected.decode("latin-1")
        wanted = _payload(spec, "equals_")
        if wanted is not None and collected != wanted:
            raise StepFailed(f"collected {len(collected)} bytes {collected[:120]!r}..., expected {len(wanted)} bytes {wanted[:120]!r}...")


# ---- the server side -----------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


class _RouteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "RouteServer"  # type: ignore[assignment]
    timeout = 30

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def __getattr__(self, name: str):
        if name.startswith("do_"):  # any method the firmware sends
            return self._serve
        raise AttributeError(name)

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            pieces = []
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(pieces)
                pieces.append(self.rfile.read(size))
                self.rfile.readline(16)
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _serve(self) -> None:
        body = self._body()
        self.server.record(Received(self.command, self.path, list(self.headers.items()), body))
        route = self.server.route(self.command, self.path)
        status, reason, payload = 404, "Not Found", b"not found\n"
        headers: dict[str, str] = {"Content-Type": "text/plain"}
        if route is not None:
            status, payload = int(route.get("status", 200)), _payload(route, "body_") or b""
            reason = route.get("reason") or self.responses.get(status, ("",))[0]
            headers = dict(route.get("headers", {}))
        self.send_response(status, reason)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if "close" in (self.headers.get("Connection", "").lower(), headers.get("Connection", "").lower()):
            if "Connection" not in headers:
                self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


class RouteServer(LoopbackServer):
    """Answers the script's routes (method + path, query included) and records every request."""

    def __init__(self, routes: list[dict], variables: dict[str, str], tls_context=None) -> None:
        super().__init__("127.0.0.1", tls_context)
        self.routes = routes
        self.variables = variables  # the replay's (captured values fill ${name} in route paths)
        self.received: list[Received] = []

    def route(self, method: str, path: str) -> Optional[dict]:
        return next((r for r in self.routes
                     if r["method"] == method and _fill(r["path"], self.variables) == path), None)

    def record(self, request: Received) -> None:
        with self._lock:
            self.received.append(request)

    def handle(self, conn: socket.socket) -> None:
        _RouteHandler(conn, conn.getpeername(), self)


def check_received(expected: list[dict], received: list[Received], variables: dict[str, str]) -> None:
    """The server got the script's requests in order: method, path, each listed header as its own
    header line exactly once with that value, and the body byte for byte."""
    assert len(received) == len(expected), (
        f"server got {[(r.method, r.path) for r in received]}, expected {[(e['method'], e['path']) for e in expected]}")
    for want, got in zip(expected, received):
        fill = lambda text: _fill(text, variables)  # noqa: E731
        where = f"{want['method']} {want['path']}"
        assert (got.method, got.path) == (want["method"], fill(want["path"])), f"{where}: got {got.method} {got.path}"
        for line in want.get("headers", []):
            name, value = line.split(": ", 1)
            values = [v for n, v in got.headers if n.lower() == name.lower()]
            assert values == [fill(value)], f"{where}: header {name} arrived as {values}; all headers {got.headers}"
        for name in want.get("absent_headers", []):
            assert not [n for n, _ in got.headers if n.lower() == name.lower()], f"{where}: {name} must not be sent"
        body = _payload(want, "body_")
        if body is not None:
            assert got.body == fill(body.decode("utf-8")).encode("utf-8"), f"{where}: body {got.body[:300]!r}"
