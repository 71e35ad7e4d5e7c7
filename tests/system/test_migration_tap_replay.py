"""`atbridge tap` and `atbridge replay` over real ptys: record firmware with its own (emulated)
module, check the capture, replay it through the bridge to the other dialect's emulator."""
from __future__ import annotations

import io
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from bridge.io.bridge import BridgeRunner
from bridge.bridging.trace import Trace
from bridge.app.demo.firmware import HostEnd
from bridge.registry import make_module_side
from bridge.io.emulator import ModuleRunner
from bridge.app.migration.captures import collect, read_capture, record_bytes
from bridge.app.migration.check import CARRIED, DIFFERENT, check
from bridge.app.migration.replay import exchanges, replay_emulated
from bridge.app.migration.tap import FROM_FIRMWARE, TO_FIRMWARE, TapEngine
from bridge.app.migration.timeline import timeline
from bridge.device.hosts import HostsResolver
from bridge.device.fs import ModuleFileSystem
from bridge.net import NetworkExecutor
from bridge.io.ports import PtyPort, SerialPort, open_host_end
from support.bridged import bridged

pytestmark = pytest.mark.timeout(120)
HOSTS = {"fw.example": ["127.0.0.1"]}


@contextmanager
def tapped(dialect: str, workdir: Path, capture: io.BytesIO) -> Iterator[HostEnd]:
    """Firmware (the yielded end) on a pty, tapped, to an emulated `dialect` module."""
    fs = ModuleFileSystem(str(workdir / "fs"))
    resolver = HostsResolver(HOSTS)
    executor = NetworkExecutor(resolver, fs)
    module_pty, firmware_pty = str(workdir / "module.pty"), str(workdir / "firmware.pty")
    emulator = ModuleRunner(make_module_side(dialect, fs, resolver=resolver), PtyPort(module_pty), executor.single).start()
    tap = BridgeRunner(TapEngine(Trace(capture)), PtyPort(firmware_pty), SerialPort(module_pty)).start()
    firmware = HostEnd(open_host_end(firmware_pty))
    try:
        yield firmware
    finally:
        firmware.port.close()
        tap.stop()
        emulator.stop()
        executor.close()
        assert not os.path.lexists(firmware_pty)


def neoway_firmware(end: HostEnd, port: int) -> None:
    """An N58 start-up and GET as RT-Thread's at_device n58 class and N58 HTTP drivers send them."""
    end.transact("ATE0")
    end.transact("AT+CPIN?", final=r"\r\nOK\r\n")
    end.transact("AT+XIIC=1", final=r"\r\nOK\r\n")
    end.transact("AT+XIIC?", final=r"\r\nOK\r\n")
    end.transact(f"AT+HTTPPARA=url,fw.example:{port}/blob/300", final=r"\r\nOK\r\n")
    end.transact("AT+HTTPPARA=recvmode,1", final=r"\r\nOK\r\n")
    end.transact("AT+HTTPSETUP", final=r"\r\nOK\r\n")
    end.transact("AT+HTTPACTION=0", final=r"\r\nOK\r\n")
    end.expect(rb"\+HTTPRECV: \d+,HTTP/1\.1 200", timeout=15)
    end.expect(rb"\+HTTPCLOSED: HTTP Link Closed\r\n", timeout=15)


def onemo_firmware(end: HostEnd, port: int) -> None:
    """An ML307 start-up and GET as esp-ml307 (ml307_at_modem.cc, ml307_http.cc) sends them."""
    end.transact("ATE0")
    end.transact("AT+CPIN?", final=r"\r\nOK\r\n")
    end.transact("AT+CEREG?", final=r"\r\nOK\r\n")
    end.transact(f'AT+MHTTPCREATE="http://fw.example:{port}"', final=r"\r\nOK\r\n")
    end.transact('AT+MHTTPREQUEST=0,1,0,"/blob/300"', final=r"\r\nOK\r\n")
    end.expect(rb'\+MHTTPURC: "header",0,200,', timeout=15)
    end.expect(rb'\+MHTTPURC: "content",0,300,300,', timeout=15)
    end.transact("AT+MHTTPDEL=0", final=r"\r\nOK\r\n")


FIRMWARE = {"neoway": neoway_firmware, "onemo": onemo_firmware}
OTHER = {"neoway": "onemo", "onemo": "neoway"}


def test_tap_records_both_directions_transparently(tmp_path, blob_server):
    capture = io.BytesIO()
    with tapped("neoway", tmp_path, capture) as firmware:
        neoway_firmware(firmware, blob_server.port)
        seen_by_firmware = bytes(firmware.seen)
    records = [json.loads(line) for line in capture.getvalue().splitlines()]
    assert {r["dir"] for r in records} == {FROM_FIRMWARE, TO_FIRMWARE}
    sent = b"".join(record_bytes(r) for r in records if r["dir"] == FROM_FIRMWARE)
    assert sent.startswith(b"ATE0\r") and b"AT+HTTPACTION=0\r" in sent
    received = b"".join(record_bytes(r) for r in records if r["dir"] == TO_FIRMWARE)
    assert received == seen_by_firmware  # nothing added, nothing lost
    assert all(r["t"] >= 0 for r in records) and [r["t"] for r in records] == sorted(r["t"] for r in records)


def _capture(tmp_path: Path, port: int, dialect: str = "neoway") -> Path:
    buffer = io.BytesIO()
    with tapped(dialect, tmp_path / "tap", buffer) as firmware:
        FIRMWARE[dialect](firmware, port)
    path = tmp_path / "capture.jsonl"
    path.write_bytes(buffer.getvalue())
    return path


def test_check_a_tapped_neoway_capture_against_onemo(tmp_path, blob_server):
    (tmp_path / "tap").mkdir()
    path = _capture(tmp_path, blob_server.port)
    report = check(collect(path, None, "neoway"), "neoway", "onemo")
    status = {f.seen.form: f.status for f in report.findings}
    assert status["AT+HTTPPARA=url,<value>"] == CARRIED
    assert status["AT+HTTPACTION=0"] == CARRIED
    assert status["AT+CPIN?"] == CARRIED  # a 3GPP basic: passed through
    assert status["AT+HTTPSETUP"] == DIFFERENT  # OneMO has no connect-only command
    assert {"+HTTPRECV", "+HTTPCLOSED"} <= set(status)


def test_check_a_tapped_onemo_capture_against_neoway(tmp_path, blob_server):
    (tmp_path / "tap").mkdir()
    path = _capture(tmp_path, blob_server.port, "onemo")
    report = check(collect(path, None, "onemo"), "onemo", "neoway")
    status = {f.seen.form: f.status for f in report.findings}
    assert status["AT+MHTTPCREATE=<host>"] == CARRIED
    assert status["AT+MHTTPREQUEST=<httpid>,1,<length>,<path>"] == CARRIED
    assert status["AT+MHTTPDEL=<httpid>"] == CARRIED
    assert {'+MHTTPURC "header"', '+MHTTPURC "content"'} <= set(status)


@pytest.mark.parametrize("dialect", ["neoway", "onemo"])
def test_replay_through_the_bridge_to_the_other_dialect_has_no_divergence(tmp_path, blob_server, dialect):
    (tmp_path / "tap").mkdir()
    (tmp_path / "replay").mkdir()
    capture = read_capture(_capture(tmp_path, blob_server.port, dialect))
    assert len(exchanges(capture)) >= 6
    divergences = replay_emulated(capture, dialect, OTHER[dialect], tmp_path / "replay", HOSTS, timeout=15)
    assert divergences == [], "\n".join(d.describe() for d in divergences)


def test_a_different_server_answer_is_reported_at_its_exchange(tmp_path, blob_server):
    (tmp_path / "tap").mkdir()
    (tmp_path / "replay").mkdir()
    path = _capture(tmp_path, blob_server.port)
    # The same firmware bytes, but the url now names a missing resource: the server says 404.
    text = path.read_text().replace("/blob/300", "/status/404")
    capture = read_capture(_write(tmp_path / "changed.jsonl", text))
    original = read_capture(path)
    divergences = replay_emulated(capture, "neoway", "onemo", tmp_path / "replay", HOSTS, timeout=15)
    assert divergences, "a 404 where the capture had a 200 must diverge"
    first = divergences[0]
    action = next(n for n, e in enumerate(exchanges(original), 1) if e.sent.startswith(b"AT+HTTPACTION=0"))
    assert first.exchange == action
    assert "200" in first.expected[first.index] and "404" in first.got[first.index]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_decode_reads_a_tap_capture_both_sides_in_time_order(tmp_path, blob_server):
    (tmp_path / "tap").mkdir()
    lines = [json.loads(line) for line in timeline(_capture(tmp_path, blob_server.port).open("rb"), "neoway")]
    assert [line["t"] for line in lines] == sorted(line["t"] for line in lines)
    commands = [line["frame"]["name"] for line in lines if line["frame"]["type"] == "Command"]
    assert commands[:3] == ["E", "CPIN", "XIIC"] and "HTTPACTION" in commands
    urcs = {line["frame"]["name"] for line in lines if line["frame"]["type"] == "Info" and line["dir"] == TO_FIRMWARE}
    assert {"+HTTPRECV", "+HTTPCLOSED"} <= urcs


def test_decode_reads_a_bridge_trace_with_both_dialects_and_the_model_events(tmp_path, blob_server):
    trace = io.BytesIO()
    with bridged("neoway", "onemo", tmp_path, hosts=HOSTS, trace=trace) as (firmware, _, _):
        neoway_firmware(firmware, blob_server.port)
    path = _write(tmp_path / "trace.jsonl", trace.getvalue().decode())
    lines = [json.loads(line) for line in timeline(path.open("rb"), "neoway")]
    by_dir = {}
    for line in lines:
        by_dir.setdefault(line["dir"], []).append(line)
    sent_to_module = [l["frame"]["name"] for l in by_dir["bridge->module"] if l["frame"]["type"] == "Command"]
    assert "MHTTPCREATE" in sent_to_module and "MHTTPREQUEST" in sent_to_module  # OneMO, framed as OneMO
    assert any(l["frame"].get("variant") == "header" for l in by_dir["module->bridge"])
    assert any(l["frame"]["name"] == "HTTPACTION" for l in by_dir["host->bridge"] if l["frame"]["type"] == "Command")
    events = [l["event"]["type"] for l in lines if "event" in l and isinstance(l["event"], dict)]
    assert "Request" in events and "ResponseHead" in events
